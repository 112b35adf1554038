"""Timing helpers: medians and spread of repeated measurements, and ratios between them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Sample:
    name: str
    seconds: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def spread_ms(self) -> tuple[float, float]:
        ordered = sorted(self.seconds)
        low = ordered[len(ordered) // 10]
        high = ordered[min(len(ordered) - 1, (len(ordered) * 9) // 10)]
        return low * 1000, high * 1000


def measure(name: str, action: Callable[[], object], repeat: int, warmup: int = 1,
            before_each: Callable[[], object] | None = None) -> Sample:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        if before_each:
            before_each()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return Sample(name, times)


def row(label: str, sample: Sample, reference: Sample | None, target: str = "", *,
        max_ratio: float | None = None, max_ms: float | None = None) -> str:
    """One table row; the verdict compares the median with the target (a ratio to the reference, or a time)."""
    low, high = sample.spread_ms
    ratio_value = sample.median_ms / reference.median_ms if reference else None
    ratio = f"{ratio_value:.2f}×" if ratio_value is not None else "—"
    ref = f"{reference.median_ms:.0f} ms" if reference else "—"
    verdict = ""
    if max_ratio is not None and ratio_value is not None:
        verdict = "met" if ratio_value <= max_ratio else "**missed**"
    elif max_ms is not None:
        verdict = "met" if sample.median_ms <= max_ms else "**missed**"
    return (f"| {label} | {sample.median_ms:.0f} ms | {low:.0f}–{high:.0f} ms | {ref} | {ratio} | {target} "
            f"| {verdict} |")


TABLE_HEADER = ("| measurement | median | p10–p90 | reference median | ratio | target | verdict |\n"
                "|---|---|---|---|---|---|---|")
