"""Turning Python values into stored columns and back: JSON columns, 0/1 flags, and redaction of free text.

Everything that may echo an API key (model output, program output, error messages, notes) passes through
`core.secrets.redact` here, on the way in, so no write path can forget it.
"""

from __future__ import annotations

import json
from typing import Any

from core.secrets import is_secret_name, redact

MODES = ("battle", "side_by_side", "single")
SIDES = ("a", "b")
ROLES = ("user", "assistant")
WINNERS = ("a", "b", "tie", "both_bad")
PROVIDERS = ("ollama", "litellm", "local", "manual")
EXECUTION_STATUSES = (
    "ok", "error", "compile_error", "timeout", "memory", "output_limit", "killed", "sandbox_error", "running",
)
EXECUTION_FIELDS = (
    "environment", "language", "files", "install_command", "backend", "status", "exit_code", "stdout", "stderr",
    "compile_output", "install_ms", "build_ms", "run_ms", "artifacts", "screenshot", "created",
)
EXECUTION_TEXT_FIELDS = ("stdout", "stderr", "compile_output", "install_command")
ANSWER_STATS = (
    "input_tokens", "output_tokens", "latency_ms", "ttft_ms", "cost_usd", "finish_reason", "error",
)


def to_json(value: Any) -> str:
    """Sorted keys so equal values give equal text (exports compare byte for byte)."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as caught:
        raise ValueError(f"value is not JSON-serialisable: {caught}") from None


def from_json(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def clean_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Model parameters minus anything key-like: a snapshot of how a model was run must never carry credentials."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, not {type(params).__name__}")
    kept = {k: v for k, v in params.items() if not (is_secret_name(str(k)) or "api_key" in str(k).lower())}
    to_json(kept)  # fail early, with a clear message, on values JSON cannot hold
    return redact_tree(kept)


def redact_tree(value: Any) -> Any:
    """Redact every string inside nested dicts/lists, leaving structure and other types alone."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(item) for item in value]
    return value


def decode_model(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "params": from_json(row["params"], {})}


def decode_vote(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {**row, "blind": bool(row["blind"])}


def encode_execution(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and encode execution fields for a write; unknown names are a bug in the caller, so they raise."""
    unknown = sorted(set(fields) - set(EXECUTION_FIELDS))
    if unknown:
        raise ValueError(f"unknown execution field(s): {', '.join(unknown)}; known: {', '.join(EXECUTION_FIELDS)}")
    row = dict(fields)
    if "status" in row and row["status"] not in EXECUTION_STATUSES:
        raise ValueError(f"execution status must be one of {', '.join(EXECUTION_STATUSES)}, not {row['status']!r}")
    if "files" in row:
        files = row["files"] or {}
        if not isinstance(files, dict):
            raise ValueError("execution files must be a dict of path -> content")
        row["files"] = to_json(redact_tree(files))
    if "artifacts" in row:
        artifacts = row["artifacts"] or []
        if not isinstance(artifacts, list):
            raise ValueError("execution artifacts must be a list of {name, mime, size, path or data}")
        row["artifacts"] = to_json(redact_tree(artifacts))
    if "screenshot" in row:
        shot = row["screenshot"]
        if shot is not None and not isinstance(shot, (bytes, bytearray, memoryview)):
            raise ValueError("execution screenshot must be PNG bytes or None")
        row["screenshot"] = None if shot is None else bytes(shot)
    for name in EXECUTION_TEXT_FIELDS:
        if name in row:
            row[name] = redact(row[name])
    return row


def decode_execution(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "files": from_json(row["files"], {}), "artifacts": from_json(row["artifacts"], [])}
