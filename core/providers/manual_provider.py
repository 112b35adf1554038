"""A pasted answer (from a web chat, or the user's own) entered into a battle like any model's."""

from __future__ import annotations

from collections.abc import Iterator

from core.providers.base import BadRequest, ChatRequest, Chunk


class ManualProvider:
    name = "manual"

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        answer = request.options.get("answer")
        if not answer or not str(answer).strip():
            raise BadRequest("Paste an answer first: the manual contestant has nothing to submit.", provider="manual")
        yield Chunk(text=str(answer), finish_reason="stop", cost_usd=0.0)
