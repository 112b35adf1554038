"""What a fake model does: its answer, how fast it streams it, and how it fails. Shared by both test servers.

Token counting is deliberately simple and deterministic: one token is one chunk of ``chunk_size`` characters.
So the completion's token count always equals the number of content pieces streamed, ``max_tokens=N`` (or
Ollama's ``num_predict=N``) keeps the first N pieces and finishes with "length", and the prompt's token count
is the sum over messages of ceil(len(content) / chunk_size).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

DEFAULT_REPLY = 'Here is the program:\n\n```python\nprint("hello")\n```\n\nIt prints `hello`.'

ReplyFn = Callable[[list[dict], dict], str]


@dataclass
class ModelBehaviour:
    """The script one model name follows. Mutate it (or replace it in ``server.models``) between requests."""

    reply: str = DEFAULT_REPLY
    reply_fn: ReplyFn | None = None  # (messages, request body) -> answer text; wins over `reply`
    chunk_size: int = 4  # characters per streamed piece (= per token)
    chunk_delay: float = 0.0  # seconds between pieces
    first_token_delay: float = 0.0  # seconds before the first piece

    # Faults.
    status: int | None = None  # answer this HTTP status before streaming (401, 404, 429, 500, 503...)
    error_body: Any = None  # dict/list: sent as JSON; str: sent as text/plain; None: the protocol's own error
    fail_times: int | None = None  # with `status`: only the first K requests fail, later ones succeed
    retry_after: str | None = "0"  # Retry-After header (seconds) sent with a 429, plus retry-after-ms
    cut_after_chunks: int | None = None  # stream N pieces, then shut the socket (no final/done message)
    stream_error: str | None = None  # with cut_after_chunks: send the protocol's in-stream error line instead
    hang: bool = False  # never answer (the handler waits until the server stops)
    hang_after_chunks: int | None = None  # stream N pieces, then stall until the server stops

    # What listings and /api/show report.
    family: str = "qwen2"
    parameter_size: str = "1.5B"
    quantization_level: str = "Q4_K_M"
    size: int = 986_061_892
    context_length: int = 32768
    capabilities: list[str] = field(default_factory=lambda: ["completion"])
    modified_at: str = "2025-09-01T12:00:00.123456+00:00"
    owned_by: str = "test-server"
    created: int = 1_735_689_600

    # How many generation requests reached this model (used by `fail_times`).
    calls: int = field(default=0, compare=False)

    def answer(self, messages: list[dict], body: dict) -> str:
        return self.reply_fn(messages, body) if self.reply_fn is not None else self.reply

    def fails_now(self) -> bool:
        """Count one request; True when it must get the `status` error. Call under the server's lock."""
        self.calls += 1
        if self.status is None:
            return False
        return self.fail_times is None or self.calls <= self.fail_times

    @property
    def stops_early(self) -> bool:
        return self.cut_after_chunks is not None or self.hang_after_chunks is not None


class RecordedRequest(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON; the raw text if it was not JSON; None without a body


@dataclass
class ReplyPlan:
    chunks: list[str]
    finish_reason: str  # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def message_text(content: Any) -> str:
    """A message's text, also for OpenAI's list-of-parts content."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def count_tokens(text: str, chunk_size: int) -> int:
    return math.ceil(len(text) / max(1, chunk_size))


def split_chunks(text: str, chunk_size: int) -> list[str]:
    size = max(1, chunk_size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def stop_list(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, Sequence):
        return [s for s in stop if isinstance(s, str) and s]
    return []


def plan_reply(
    behaviour: ModelBehaviour, messages: list[dict], body: dict, *, max_tokens: Any = None, stop: Any = None
) -> ReplyPlan:
    """The pieces to stream: the answer cut at the first stop string, then at `max_tokens` pieces."""
    text = behaviour.answer(messages, body)
    cuts = [text.find(s) for s in stop_list(stop) if s in text]
    if cuts:
        text = text[: min(cuts)]
    chunks = split_chunks(text, behaviour.chunk_size)
    finish_reason = "stop"
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and 0 < max_tokens < len(chunks):
        chunks, finish_reason = chunks[:max_tokens], "length"
    prompt_tokens = sum(
        count_tokens(message_text(m.get("content")), behaviour.chunk_size) for m in messages if isinstance(m, dict)
    )
    return ReplyPlan(chunks, finish_reason, prompt_tokens, len(chunks))


def parameter_count(parameter_size: str) -> int:
    """'1.5B' -> 1_500_000_000, '135M' -> 135_000_000."""
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
    text = parameter_size.strip().upper()
    try:
        if text and text[-1] in scale:
            return int(float(text[:-1]) * scale[text[-1]])
        return int(float(text))
    except ValueError:
        return 0
