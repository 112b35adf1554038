"""Writing one exported conversation back into a store, exactly as it was recorded.

The store's normal API stamps fresh timestamps and re-derives vote details; an import must instead keep what
the file says, so rows are written directly here. Free text still passes through the same redaction and the
schema's CHECK / UNIQUE / foreign-key constraints still apply, so a hostile file cannot bypass either.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlite_utils import Database

from core.secrets import redact
from core.store.base import StoreBase
from core.store.clock import iso_utc, now_iso
from core.store.exchange_records import PLAIN_EXECUTION_FIELDS, STATE_KEYS, VOTE_FIELDS, WINNER_OF_VOTE
from core.store.reads import derive_vote
from core.store.rows import ANSWER_STATS, MODES, PROVIDERS, ROLES, clean_params, encode_execution, to_json


class InvalidRecord(ValueError):
    """The line is JSON but not a conversation we can restore; the message says what is wrong."""


def _insert(db: Database, table: str, row: dict[str, Any]) -> int:
    sql = f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})"
    return db.execute(sql, list(row.values())).lastrowid


def _text(record: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = record.get(key)
    if required and not value:
        raise InvalidRecord(f"missing {key}")
    if value is not None and not isinstance(value, str):
        raise InvalidRecord(f"{key} must be a string, not {type(value).__name__}")
    return value


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRecord(f"{what} must be an object")
    return value


def restore_conversation(store: StoreBase, record: Any) -> bool:
    """Write one record in one transaction; returns False (writing nothing) if its id is already in the store."""
    record = _dict(record, "a line")
    conversation_id = _text(record, "chat_session_id", required=True)
    model_a = _text(record, "model_A", required=True)
    model_b = _text(record, "model_B")
    mode = _text(record, "mode") or ("single" if model_b is None else "battle")
    if mode not in MODES or (mode == "single") != (model_b is None):
        raise InvalidRecord(f"mode {mode!r} does not fit model_B {model_b!r}")
    human_vote = record.get("human_vote")
    if human_vote is not None and human_vote not in WINNER_OF_VOTE:
        raise InvalidRecord(f"human_vote must be one of {', '.join(WINNER_OF_VOTE)} or null, not {human_vote!r}")
    if human_vote is None and record.get("vote") is not None:
        raise InvalidRecord("vote details without a human_vote")
    states = _dict(record.get("states"), "states")
    created = iso_utc(record.get("created") or now_iso())
    conversation = {
        "id": conversation_id, "mode": mode, "category": _text(record, "category_name"),
        "system_prompt": redact(_text(record, "system_prompt")), "model_a": model_a, "model_b": model_b,
        "created": created,
    }
    with store.transaction() as db:
        if next(db.query("select 1 from conversations where id = ?", [conversation_id]), None):
            return False
        _insert_models(db, _dict(record.get("models") or {}, "models"), [model_a, model_b], created)
        _insert(db, "conversations", conversation)
        for side in ("a",) if model_b is None else ("a", "b"):
            state = _dict(states.get(STATE_KEYS[side]), f"states.{STATE_KEYS[side]}")
            model = conversation[f"model_{side}"]
            if state.get("model_name", model) != model:
                raise InvalidRecord(f"states.{STATE_KEYS[side]}.model_name is not {model!r}")
            answers = _insert_messages(db, conversation, side, state)
            rounds = _dict(state.get("sandbox_logs_by_round") or {}, "sandbox_logs_by_round")
            _insert_executions(db, rounds, answers, created)
        if human_vote is not None:
            _insert_vote(db, conversation, WINNER_OF_VOTE[human_vote], record.get("vote"))
    return True


def _insert_models(db: Database, snapshots: dict[str, Any], names: list[str | None], created: str) -> None:
    """Add the snapshots of models this store has never seen; a model it knows keeps its own, newer snapshot."""
    for name in filter(None, names):
        snapshot = _dict(snapshots.get(name) or {}, f"models.{name}")
        provider = snapshot.get("provider") or "manual"
        if provider not in PROVIDERS:
            raise InvalidRecord(f"models.{name}.provider must be one of {', '.join(PROVIDERS)}")
        db.execute(
            "insert into models (name, display_name, provider, model, params, first_seen) values (?, ?, ?, ?, ?, ?)"
            " on conflict (name) do nothing",
            [name, snapshot.get("display_name") or name, provider, snapshot.get("model") or name,
             to_json(clean_params(snapshot.get("params"))), iso_utc(snapshot.get("first_seen") or created)],
        )


def _insert_messages(db: Database, conversation: dict[str, Any], side: str, state: dict[str, Any]) -> dict[int, int]:
    """Insert one side's messages; returns turn -> id of that turn's answer, for attaching sandbox logs."""
    pairs = state.get("messages") or []
    stats = state.get("message_stats")
    if not isinstance(pairs, list) or (stats is not None and (not isinstance(stats, list) or len(stats) != len(pairs))):
        raise InvalidRecord("messages must be a list, and message_stats a list of the same length")
    answers: dict[int, int] = {}
    turn = 0
    for index, pair in enumerate(pairs):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidRecord(f"message {index} must be a [role, content] pair")
        role, content = str(pair[0]).strip().lower(), pair[1]
        stat = _dict(stats[index], f"message_stats[{index}]") if stats else {}
        turn = stat.get("turn") or (turn + 1 if role == "user" else turn)
        if content is None:
            continue  # BigCodeArena keeps a None placeholder for an answer that never arrived
        if role not in ROLES or not isinstance(content, str) or not isinstance(turn, int) or turn < 1:
            raise InvalidRecord(f"message {index} needs a role in {ROLES}, text content and a turn >= 1")
        row = {
            "conversation_id": conversation["id"], "side": side, "turn": turn, "role": role, "content": redact(content),
            "model": conversation[f"model_{side}"] if role == "assistant" else None,
            **{name: stat.get(name) for name in ANSWER_STATS},
            "created": iso_utc(stat.get("created") or conversation["created"]),
        }
        row["error"] = redact(row["error"])
        message_id = _insert(db, "messages", row)
        if role == "assistant":
            answers[turn] = message_id
    return answers


def _insert_executions(db: Database, rounds: dict[str, Any], answers: dict[int, int], created: str) -> None:
    for key, runs in rounds.items():
        message_id = answers.get(int(key)) if str(key).isdigit() else None
        if message_id is None or not isinstance(runs, list):
            raise InvalidRecord(f"sandbox_logs_by_round[{key!r}] needs a list and an answer in round {key}")
        for run in runs:
            run = _dict(run, f"sandbox_logs_by_round[{key!r}] entry")
            sandbox = _dict(run.get("sandbox_state") or {}, "sandbox_state")
            fields = {name: run[name] for name in PLAIN_EXECUTION_FIELDS if name in run}
            fields.update(stdout=sandbox.get("sandbox_output"), stderr=sandbox.get("sandbox_error"))
            try:
                shot = sandbox.get("screenshot_base64") or ""
                fields["screenshot"] = base64.b64decode(shot, validate=True) if shot else None
            except (binascii.Error, TypeError, ValueError):
                raise InvalidRecord("screenshot_base64 is not base64") from None
            fields.setdefault("status", "error" if fields["stderr"] else "ok")
            fields["created"] = iso_utc(fields.get("created") or created)
            _insert(db, "executions", {**encode_execution(fields), "message_id": message_id})


def _insert_vote(db: Database, conversation: dict[str, Any], winner: str, vote: Any) -> None:
    if conversation["mode"] == "single":
        raise InvalidRecord("a single-model conversation cannot have a vote")
    row = derive_vote(db, conversation)
    row.update(winner=winner, note=None, created=conversation["created"])
    if vote is not None:
        vote = _dict(vote, "vote")
        row.update({name: vote[name] for name in VOTE_FIELDS if name in vote})
        if row["blind"] not in (True, False, 0, 1) or not isinstance(row["turns"], int):
            raise InvalidRecord("vote.blind must be true/false and vote.turns an integer")
        row.update(blind=int(row["blind"]), note=redact(row["note"]), created=iso_utc(row["created"]))
    _insert(db, "votes", row)
