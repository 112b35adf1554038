"""Writing generated answers into the store, the same way for the CLI and the pages."""

from __future__ import annotations

from core.providers import Completion
from core.registry import ModelEntry


def remember_model(store, entry: ModelEntry) -> None:
    store.upsert_model(entry.name, entry.display_name, entry.provider, entry.model, entry.params)


def save_completion(
    store, conversation_id: str, side: str, turn: int, entry: ModelEntry, completion: Completion
) -> int:
    return store.save_answer(
        conversation_id,
        side,
        turn,
        entry.name,
        completion.text,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        latency_ms=completion.latency_ms,
        ttft_ms=completion.ttft_ms,
        cost_usd=completion.cost_usd,
        finish_reason=completion.finish_reason,
        error=completion.error,
    )


def save_single_answer(
    entry: ModelEntry, prompt: str, completion: Completion, *, system_prompt: str | None = None, store=None
) -> str:
    """Store a one-model conversation (mode 'single'), as `python -m core ask` produces; returns its id."""
    from core.store import open_store

    owned = store is None
    store = store or open_store()
    try:
        remember_model(store, entry)
        conversation_id = store.create_conversation("single", entry.name, system_prompt=system_prompt)
        store.add_prompt(conversation_id, 1, prompt, sides=("a",))
        save_completion(store, conversation_id, "a", 1, entry, completion)
        return conversation_id
    finally:
        if owned:
            store.close()
