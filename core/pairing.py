"""Two answers generated at the same time, one per side, each stoppable, neither able to disturb the other.

Each side runs in its own thread and reports through one queue, so a page can draw both streams as they arrive
by polling `events()`; a failure on one side is recorded for that side only.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from core.providers.base import Completion, Generation, ProviderError

Side = Literal["a", "b"]
EventKind = Literal["delta", "done", "error"]


@dataclass(frozen=True)
class SideEvent:
    side: Side
    kind: EventKind
    text: str = ""  # the delta, or the error message
    completion: Completion | None = None


@dataclass
class SideOutcome:
    completion: Completion | None = None
    error: ProviderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.completion is not None


class PairedGenerations:
    def __init__(self, generations: dict[Side, Generation]) -> None:
        self.generations = generations
        self.outcomes: dict[Side, SideOutcome] = {side: SideOutcome() for side in generations}
        self._events: queue.Queue[SideEvent] = queue.Queue()
        self._threads: dict[Side, threading.Thread] = {}

    def start(self) -> PairedGenerations:
        for side, generation in self.generations.items():
            thread = threading.Thread(target=self._run, args=(side, generation), name=f"generate-{side}", daemon=True)
            self._threads[side] = thread
            thread.start()
        return self

    def stop(self, side: Side | None = None) -> None:
        for name, generation in self.generations.items():
            if side is None or name == side:
                generation.stop()

    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads.values())

    def events(self, poll_s: float = 0.05) -> Iterator[SideEvent]:
        """Every event in arrival order until both sides have finished."""
        finished: set[Side] = set()
        while len(finished) < len(self.generations):
            try:
                event = self._events.get(timeout=poll_s)
            except queue.Empty:
                continue
            if event.kind in ("done", "error"):
                finished.add(event.side)
            yield event

    def wait(self, timeout: float | None = None) -> dict[Side, SideOutcome]:
        for thread in self._threads.values():
            thread.join(timeout)
        return self.outcomes

    def _run(self, side: Side, generation: Generation) -> None:
        outcome = self.outcomes[side]
        try:
            for delta in generation:
                self._events.put(SideEvent(side, "delta", delta))
        except ProviderError as error:
            outcome.error, outcome.completion = error, generation.completion
            self._events.put(SideEvent(side, "error", error.message, generation.completion))
            return
        except Exception as exc:  # noqa: BLE001 - a bug on one side must not take the other side down
            error = ProviderError(f"Unexpected failure: {type(exc).__name__}: {exc}")
            outcome.error = error
            self._events.put(SideEvent(side, "error", error.message, generation.completion))
            return
        outcome.completion = generation.completion
        self._events.put(SideEvent(side, "done", completion=generation.completion))
