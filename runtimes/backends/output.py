"""Output capture shared by every backend.

`OutputCapture` takes raw chunks from stdout and stderr as they arrive (from pipes, or from a container's demultiplexed
attach stream), decodes them as UTF-8 with replacement characters (never raising), forwards the text to the caller's
`on_output` right away, and enforces ONE byte budget over both streams together. The chunk that crosses the budget is
cut at the budget, TRUNCATION_MARKER is appended to that stream, and `on_limit` is called once so the backend stops
the program. Nothing is ever split into lines, so a 50 MB line without a newline costs at most the budget in memory.

`PipeCapture` reads two pipes into a capture from one polling thread (`os.read` of whatever is available, so text
shows up live even without newlines).
"""

from __future__ import annotations

import codecs
import logging
import os
import selectors
import threading
from collections.abc import Callable

from runtimes.results import TRUNCATION_MARKER

log = logging.getLogger(__name__)

STREAMS = ("stdout", "stderr")
READ_SIZE = 64 * 1024


class OutputCapture:
    """Collects stdout/stderr under a combined byte limit; thread-safe; callbacks are never run concurrently."""

    def __init__(
        self,
        limit_bytes: int,
        on_output: Callable[[str, str], None] | None = None,
        on_limit: Callable[[], None] | None = None,
    ):
        self.limit_bytes = max(0, int(limit_bytes))
        self.on_output = on_output
        self.on_limit = on_limit
        self.total_bytes = 0  # bytes kept (at most limit_bytes)
        self.dropped_bytes = 0  # bytes seen after the limit was reached
        self.truncated = False
        self._parts: dict[str, list[str]] = {name: [] for name in STREAMS}
        self._decoders = {name: codecs.getincrementaldecoder("utf-8")(errors="replace") for name in STREAMS}
        self._lock = threading.Lock()
        self._callback_failed = False
        self._closed = False

    def add(self, stream: str, data: bytes) -> bool:
        """Add a chunk of raw output. Returns False once the limit has been reached (the caller may stop reading)."""
        if stream not in self._parts:
            raise ValueError(f"unknown stream {stream!r}")
        if not data:
            return not self.truncated
        hit_limit = False
        with self._lock:
            if self.truncated or self._closed:
                self.dropped_bytes += len(data)
                return False
            room = self.limit_bytes - self.total_bytes
            if len(data) > room:
                self.dropped_bytes += len(data) - room
                data = data[:room]
                hit_limit = True
            self.total_bytes += len(data)
            text = self._decoders[stream].decode(data, final=hit_limit)
            if hit_limit:
                self.truncated = True
                text += TRUNCATION_MARKER.format(limit=self.limit_bytes)
            if text:
                self._parts[stream].append(text)
                self._emit(stream, text)
        if hit_limit and self.on_limit is not None:
            try:
                self.on_limit()
            except Exception:  # a failing stop hook must not kill the reader; it is logged
                log.exception("output limit hook failed")
        return not hit_limit

    feed = add

    def close(self) -> None:
        """Flush partial UTF-8 sequences left at the end of each stream (as replacement characters)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.truncated:
                return
            for stream in STREAMS:
                text = self._decoders[stream].decode(b"", final=True)
                if text:
                    self._parts[stream].append(text)
                    self._emit(stream, text)

    def _emit(self, stream: str, text: str) -> None:
        if self.on_output is None or self._callback_failed:
            return
        try:
            self.on_output(stream, text)
        except Exception:  # the caller's display code must never break capture; logged once
            self._callback_failed = True
            log.exception("on_output callback failed; live output disabled for this run")

    def text(self, stream: str) -> str:
        with self._lock:
            return "".join(self._parts[stream])

    @property
    def stdout(self) -> str:
        return self.text("stdout")

    @property
    def stderr(self) -> str:
        return self.text("stderr")


class PipeCapture:
    """Reads a process's stdout and stderr pipes into an OutputCapture until both reach EOF.

    One thread polls both pipes and, on each wake-up, reads every ready pipe (stdout first) before handing the
    chunks over, so output written before a flood on the other stream still counts before the flood. After the
    limit is reached it keeps draining (and discarding) so a writer never blocks on a full pipe while the backend is
    stopping it. The file descriptors are owned (closed) by this object.
    """

    def __init__(self, sink: OutputCapture, stdout_fd: int, stderr_fd: int, name: str = "output"):
        self.sink = sink
        self._fds = {stdout_fd: "stdout", stderr_fd: "stderr"}
        for fd in self._fds:
            os.set_blocking(fd, False)
        self._thread = threading.Thread(target=self._pump, name=name, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            for fd, stream in self._fds.items():
                selector.register(fd, selectors.EVENT_READ, stream)
            while selector.get_map():
                ready = sorted(key.data for key, _ in selector.select())  # "stderr" < "stdout": reversed below
                chunks = []
                for stream in reversed(ready):
                    fd = next(f for f, s in self._fds.items() if s == stream)
                    try:
                        chunk = os.read(fd, READ_SIZE)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as exc:
                        log.warning("reading %s failed: %s", stream, exc)
                        chunk = b""
                    if chunk:
                        chunks.append((stream, chunk))
                    else:
                        selector.unregister(fd)
                for stream, chunk in chunks:
                    self.sink.add(stream, chunk)
        finally:
            selector.close()
            for fd in self._fds:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def join(self, timeout_s: float = 5.0) -> bool:
        """Wait for both pipes to reach EOF; True if they did. Flushes the sink either way."""
        self._thread.join(timeout_s)
        self.sink.close()
        return not self._thread.is_alive()


