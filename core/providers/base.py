"""One streaming interface for every kind of model.

A provider turns a `ChatRequest` into an iterator of `Chunk`s. `Generation` wraps that iterator once for all
providers: it measures time to first token and latency, accumulates the text, lets another thread stop it, and ends
with a `Completion` record — or raises a typed `ProviderError` whose message tells the user what to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass
class ChatRequest:
    model: str
    messages: list[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = None
    # Provider-specific settings (api_base, keep_alive, api_key_env, a manual answer…); never a key's value.
    options: dict[str, Any] = field(default_factory=dict)

    def message_dicts(self) -> list[dict[str, str]]:
        return [m.as_dict() for m in self.messages]

    def system_prompt(self) -> str | None:
        return next((m.content for m in self.messages if m.role == "system"), None)


@dataclass
class Chunk:
    """What a provider yields: some text, and on the last chunk whatever usage the server reported."""

    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    cost_usd: float | None = None


@dataclass
class Completion:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int
    ttft_ms: int | None
    cost_usd: float | None
    finish_reason: str  # stop | length | cancelled | error
    error: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if not self.output_tokens or self.ttft_ms is None or self.latency_ms <= self.ttft_ms:
            return None
        return self.output_tokens / ((self.latency_ms - self.ttft_ms) / 1000)


class ProviderError(Exception):
    """A failure the user can act on. `message` is safe to show: it never holds a key."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", model: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model

    @property
    def kind(self) -> str:
        return type(self).__name__


class ProviderUnavailable(ProviderError):
    """The server is down or unreachable."""


class ModelNotFound(ProviderError):
    """The provider answers but does not know the model."""


class AuthenticationFailed(ProviderError):
    """The key is missing, wrong or lacks permission."""


class RateLimited(ProviderError):
    retryable = True


class ServerError(ProviderError):
    retryable = True


class ProviderTimeout(ProviderError):
    """No answer within the time allowed."""


class StreamInterrupted(ProviderError):
    """The answer stopped mid-way; the partial text is kept on the Completion."""


class BadRequest(ProviderError):
    """The provider rejected the request itself (bad parameter, context too long…)."""


class NotInstalled(ProviderError):
    """A local component (the built-in model's runtime) is not installed yet."""


class Provider(Protocol):
    name: str

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Yield chunks of the answer; raise ProviderError subclasses for failures."""
        ...


class Generation:
    """One answer being generated. Iterate it for text deltas; read `completion` afterwards.

    Errors are raised from the iteration as ProviderError; the partial answer so far stays available on
    `completion`, so a cut stream loses nothing already received.
    """

    def __init__(self, provider: Provider, request: ChatRequest, clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.request = request
        self._clock = clock
        self._stop = threading.Event()
        self.text_parts: list[str] = []
        self.completion: Completion | None = None
        self.started_at: float | None = None
        self.first_token_at: float | None = None

    def stop(self) -> None:
        """Ask the generation to end at the next chunk; safe from any thread."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def elapsed_ms(self) -> int:
        return 0 if self.started_at is None else int((self._clock() - self.started_at) * 1000)

    def __iter__(self) -> Iterator[str]:
        self.started_at = self._clock()
        usage = Chunk()
        finish: str | None = None
        chunks = self.provider.stream(self.request)
        try:
            for chunk in chunks:
                if chunk.text:
                    if self.first_token_at is None:
                        self.first_token_at = self._clock()
                    self.text_parts.append(chunk.text)
                    yield chunk.text
                _merge_usage(usage, chunk)
                finish = chunk.finish_reason or finish
                if self._stop.is_set():
                    finish = "cancelled"
                    break
            if self._stop.is_set():
                finish = "cancelled"
        except ProviderError as error:
            self._finish(usage, "error", error.message)
            raise
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()  # ends the HTTP stream or local generation promptly when stopped
        self._finish(usage, finish or "stop", None)

    def run(self, on_delta: Callable[[str], None] | None = None) -> Completion:
        """Consume the whole stream; raise ProviderError on failure."""
        for delta in self:
            if on_delta:
                on_delta(delta)
        assert self.completion is not None
        return self.completion

    def _finish(self, usage: Chunk, finish_reason: str, error: str | None) -> None:
        now = self._clock()
        assert self.started_at is not None
        self.completion = Completion(
            text=self.text,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            latency_ms=int((now - self.started_at) * 1000),
            ttft_ms=None if self.first_token_at is None else int((self.first_token_at - self.started_at) * 1000),
            cost_usd=usage.cost_usd,
            finish_reason=finish_reason,
            error=error,
        )


def _merge_usage(into: Chunk, chunk: Chunk) -> None:
    for name in ("input_tokens", "output_tokens", "cost_usd"):
        value = getattr(chunk, name)
        if value is not None:
            setattr(into, name, value)
