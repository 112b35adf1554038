"""One conversation as a JSON object, in BigCodeArena's vote-data shape, and back.

Field names follow the public BigCodeArena data where it has them (`chat_session_id`, `model_A`, `human_vote`,
`states.model_A.messages` as [role, content] pairs, `sandbox_logs_by_round`) so the data can be analysed
with the same tools; everything else the arena records rides along in fields of our own.
"""

from __future__ import annotations

import base64
from typing import Any

from core.store.rows import ANSWER_STATS, EXECUTION_FIELDS

HUMAN_VOTES = {"a": "vote_model_A", "b": "vote_model_B", "tie": "vote_tie", "both_bad": "vote_both_bad"}
WINNER_OF_VOTE = {value: key for key, value in HUMAN_VOTES.items()}
STATE_KEYS = {"a": "model_A", "b": "model_B"}
VOTE_FIELDS = ("note", "blind", "turns", "environment_a", "environment_b", "language_a", "language_b", "created")
MODEL_FIELDS = ("display_name", "provider", "model", "params", "first_seen")
# stdout, stderr and the screenshot travel in BigCodeArena's `sandbox_state`, not twice.
PLAIN_EXECUTION_FIELDS = tuple(f for f in EXECUTION_FIELDS if f not in ("stdout", "stderr", "screenshot"))


def execution_record(execution: dict[str, Any]) -> dict[str, Any]:
    record = {name: execution[name] for name in PLAIN_EXECUTION_FIELDS}
    shot = execution["screenshot"]
    record["sandbox_state"] = {
        "sandbox_output": execution["stdout"],
        "sandbox_error": execution["stderr"],
        "screenshot_base64": base64.b64encode(shot).decode("ascii") if shot else "",
    }
    return record


def state_record(conversation: dict[str, Any], side: str) -> dict[str, Any]:
    messages = [m for m in conversation["messages"] if m["side"] == side]
    rounds: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["executions"]:
            rounds[str(message["turn"])] = [execution_record(e) for e in message["executions"]]
    return {
        "model_name": conversation[f"model_{side}"],
        "messages": [[m["role"], m["content"]] for m in messages],
        "message_stats": [
            {"turn": m["turn"], **{name: m[name] for name in ANSWER_STATS}, "created": m["created"]} for m in messages
        ],
        "sandbox_logs_by_round": rounds,
    }


def conversation_record(conversation: dict[str, Any], models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`conversation` as `Store.get_conversation` returns it; `models` maps name -> models row."""
    vote = conversation["vote"]
    prompts = [m["content"] for m in conversation["messages"] if m["role"] == "user"]
    sides = ("a",) if conversation["model_b"] is None else ("a", "b")
    return {
        "chat_session_id": conversation["id"],
        "model_A": conversation["model_a"],
        "model_B": conversation["model_b"],
        "instruction": prompts[0] if prompts else None,
        "human_vote": HUMAN_VOTES[vote["winner"]] if vote else None,
        "category_name": conversation["category"],
        "mode": conversation["mode"],
        "system_prompt": conversation["system_prompt"],
        "created": conversation["created"],
        "vote": {name: vote[name] for name in VOTE_FIELDS} if vote else None,
        "models": {
            name: {field: models[name][field] for field in MODEL_FIELDS}
            for name in sorted({conversation[f"model_{side}"] for side in sides})
        },
        "states": {STATE_KEYS[side]: state_record(conversation, side) if side in sides else None for side in "ab"},
    }
