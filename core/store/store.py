"""The arena's SQLite database: conversations, answers, executions and votes.

Every method takes the store's lock (see `base.py`), and every multi-row write is one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from core.secrets import redact
from core.store import reads
from core.store.base import StoreBase
from core.store.clock import iso_utc, now_iso
from core.store.errors import NotFound, VoteLocked
from core.store.rows import (
    MODES,
    PROVIDERS,
    WINNERS,
    clean_params,
    decode_model,
    decode_vote,
    encode_execution,
    from_json,
    to_json,
)


class Store(StoreBase):
    """Typed operations over the database; `store.db` (a sqlite_utils.Database) is there for ad-hoc queries."""

    # Models

    def upsert_model(
        self, name: str, display_name: str, provider: str, model: str, params: dict[str, Any] | None = None
    ) -> None:
        """Snapshot how a model was run; `first_seen` survives later updates so history keeps its start date."""
        if not name:
            raise ValueError("model name must not be empty")
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
        with self.transaction() as db:
            db.execute(
                "insert into models (name, display_name, provider, model, params, first_seen) values (?, ?, ?, ?, ?, ?)"
                " on conflict (name) do update set display_name = excluded.display_name,"
                " provider = excluded.provider, model = excluded.model, params = excluded.params",
                [name, display_name or name, provider, model, to_json(clean_params(params)), now_iso()],
            )

    def get_model(self, name: str) -> dict[str, Any]:
        row = self._one("select * from models where name = ?", [name])
        if row is None:
            raise NotFound(f"model {name!r} is not in the store; call upsert_model() first")
        return decode_model(row)

    # Conversations and messages

    def create_conversation(
        self,
        mode: str,
        model_a: str,
        model_b: str | None = None,
        category: str | None = None,
        system_prompt: str | None = None,
        id: str | None = None,
        created: str | datetime | None = None,
    ) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "single" and model_b is not None:
            raise ValueError("a 'single' conversation has no model_b")
        if mode != "single" and not model_b:
            raise ValueError(f"a {mode!r} conversation needs model_b")
        conversation_id = id or uuid.uuid4().hex
        with self.transaction() as db:
            for name in (model_a, model_b):
                if name is not None:
                    self.get_model(name)
            if self._one("select 1 from conversations where id = ?", [conversation_id]):
                raise ValueError(f"conversation {conversation_id!r} already exists")
            db.execute(
                "insert into conversations (id, mode, category, system_prompt, model_a, model_b, created)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                [conversation_id, mode, category, redact(system_prompt), model_a, model_b,
                 iso_utc(created) if created else now_iso()],
            )
        return conversation_id

    def add_prompt(
        self, conversation_id: str, turn: int, content: str, sides: Iterable[str] = ("a", "b")
    ) -> list[int]:
        """Write the user's prompt once per side; re-sending a turn's prompt replaces its text (same ids).

        A 'single' conversation only has side "a", so pass `sides=("a",)` for it.
        """
        self._check_turn(turn)
        sides = list(sides)
        if not sides or len(set(sides)) != len(sides):
            raise ValueError(f"sides must be distinct and not empty, not {sides!r}")
        ids = []
        with self.transaction() as db:
            conversation = self._conversation(conversation_id)
            for side in sides:
                self._check_side(conversation, side)
                db.execute(
                    "insert into messages (conversation_id, side, turn, role, content, created)"
                    " values (?, ?, ?, 'user', ?, ?) on conflict (conversation_id, side, turn, role)"
                    " do update set content = excluded.content",
                    [conversation_id, side, turn, redact(content) or "", now_iso()],
                )
                ids.append(self._message_id(conversation_id, side, turn, "user"))
        return ids

    def _message_id(self, conversation_id: str, side: str, turn: int, role: str) -> int | None:
        row = self._one(
            "select id from messages where conversation_id = ? and side = ? and turn = ? and role = ?",
            [conversation_id, side, turn, role],
        )
        return None if row is None else row["id"]

    def save_answer(
        self,
        conversation_id: str,
        side: str,
        turn: int,
        model: str,
        content: str,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        latency_ms: int | None = None,
        ttft_ms: int | None = None,
        cost_usd: float | None = None,
        finish_reason: str | None = None,
        error: str | None = None,
    ) -> int:
        """Store (or regenerate) one side's answer for a turn; a regenerated answer's old executions are dropped.

        The message keeps its id when replaced, so nothing else can end up pointing at a reused id.
        """
        self._check_turn(turn)
        values = {
            "input_tokens": input_tokens, "output_tokens": output_tokens, "latency_ms": latency_ms,
            "ttft_ms": ttft_ms, "cost_usd": cost_usd, "finish_reason": finish_reason, "error": redact(error),
        }
        with self.transaction() as db:
            conversation = self._conversation(conversation_id)
            self._check_side(conversation, side)
            expected = conversation["model_a" if side == "a" else "model_b"]
            if model != expected:
                raise ValueError(f"side {side!r} of conversation {conversation_id!r} is {expected!r}, not {model!r}")
            if self._message_id(conversation_id, side, turn, "user") is None:
                raise ValueError(f"turn {turn} has no prompt on side {side!r}; call add_prompt() first")
            existing = self._message_id(conversation_id, side, turn, "assistant")
            row = {"content": redact(content) or "", "model": model, **values, "created": now_iso()}
            if existing is None:
                row.update(conversation_id=conversation_id, side=side, turn=turn, role="assistant")
                columns = ", ".join(row)
                cursor = db.execute(
                    f"insert into messages ({columns}) values ({', '.join('?' * len(row))})", list(row.values())
                )
                return cursor.lastrowid
            db.execute("delete from executions where message_id = ?", [existing])
            assignments = ", ".join(f"{column} = ?" for column in row)
            db.execute(f"update messages set {assignments} where id = ?", [*row.values(), existing])
            return existing

    # Executions

    def add_execution(self, message_id: int, **fields: Any) -> int:
        """Attach a run of an answer's code; files/artifacts are dicts/lists, screenshot is PNG bytes."""
        row = encode_execution({"status": "running", "files": {}, "artifacts": [], **fields})
        row["created"] = iso_utc(row["created"]) if row.get("created") else now_iso()
        with self.transaction() as db:
            message = self._one("select role from messages where id = ?", [message_id])
            if message is None:
                raise NotFound(f"message {message_id} not found")
            if message["role"] != "assistant":
                raise ValueError(f"message {message_id} is a user prompt; executions belong to answers")
            row["message_id"] = message_id
            cursor = db.execute(
                f"insert into executions ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values())
            )
            return cursor.lastrowid

    def update_execution(self, execution_id: int, **fields: Any) -> None:
        """Fill in an execution as it progresses (e.g. from 'running' to its final status and output)."""
        row = encode_execution(fields)
        if "created" in row:
            row["created"] = iso_utc(row["created"])
        with self.transaction() as db:
            if self._one("select 1 from executions where id = ?", [execution_id]) is None:
                raise NotFound(f"execution {execution_id} not found")
            if row:
                assignments = ", ".join(f"{column} = ?" for column in row)
                db.execute(f"update executions set {assignments} where id = ?", [*row.values(), execution_id])

    # Votes

    def record_vote(
        self, conversation_id: str, winner: str, note: str | None = None, created: str | datetime | None = None
    ) -> dict[str, Any]:
        """Record the one, final vote of a conversation, with what each side ran so ratings can be sliced later."""
        if winner not in WINNERS:
            raise ValueError(f"winner must be one of {', '.join(WINNERS)}, not {winner!r}")
        with self.transaction() as db:
            conversation = self._conversation(conversation_id)
            if conversation["mode"] == "single":
                raise ValueError(f"conversation {conversation_id!r} has a single model; there is nothing to vote on")
            if self._one("select 1 from votes where conversation_id = ?", [conversation_id]):
                raise VoteLocked(f"conversation {conversation_id!r} already has a vote; votes are final")
            row = reads.derive_vote(db, conversation)
            row.update(winner=winner, note=redact(note), created=iso_utc(created) if created else now_iso())
            db.execute(f"insert into votes ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values()))
            return decode_vote(self._one("select * from votes where conversation_id = ?", [conversation_id]))

    def votes(self, blind_only: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            return reads.list_votes(self.db, blind_only)

    # Reading

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        with self._lock:
            return reads.conversation_with_messages(self.db, self._conversation(conversation_id))

    def list_conversations(
        self,
        *,
        model: str | None = None,
        environment: str | None = None,
        winner: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Newest first; `since` is inclusive and `until` exclusive, so consecutive ranges never overlap."""
        with self._lock:
            return reads.list_conversations(
                self.db, model=model, environment=environment, winner=winner, since=since, until=until,
                limit=limit, offset=offset,
            )

    def search(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            return reads.search(self.db, query, limit)

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation; its messages, executions and vote go with it (foreign-key cascade)."""
        with self.transaction() as db:
            self._conversation(conversation_id)
            db.execute("delete from conversations where id = ?", [conversation_id])

    # Settings

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._one("select value from settings where key = ?", [key])
        return default if row is None else from_json(row["value"], default)

    def set_setting(self, key: str, value: Any) -> None:
        if not key:
            raise ValueError("setting key must not be empty")
        with self.transaction() as db:
            db.execute(
                "insert into settings (key, value) values (?, ?) "
                "on conflict (key) do update set value = excluded.value",
                [key, to_json(value)],
            )


def open_store(path: str | Path | None = None) -> Store:
    """Open (creating and migrating if needed) the database at `path`, default `core.config.db_path()`."""
    return Store(path)
