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


def row(label: str, sample: Sample, reference: Sample | None, target: str = "") -> str:
    low, high = sample.spread_ms
    ratio = f"{sample.median_ms / reference.median_ms:.2f}×" if reference else "—"
    ref = f"{reference.median_ms:.0f} ms" if reference else "—"
    return f"| {label} | {sample.median_ms:.0f} ms | {low:.0f}–{high:.0f} ms | {ref} | {ratio} | {target} |"


TABLE_HEADER = ("| measurement | median | p10–p90 | reference median | ratio | target |\n"
                "|---|---|---|---|---|---|")
