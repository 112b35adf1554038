"""The store's connection, shared between threads.

The Streamlit app generates both sides of a battle in two threads, so one connection is shared
(`check_same_thread=False`) and every access holds one lock: SQLite transaction state belongs to the
connection, not the thread, so an unguarded read could land inside another thread's half-done write.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from core import config
from core.store.errors import NotFound
from core.store.migrations import migrate
from core.store.rows import SIDES

MEMORY = ":memory:"


class StoreBase:
    """The connection, its lock and the checks shared by every operation of `Store`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = MEMORY if str(path) == MEMORY else Path(path or config.db_path())
        self._lock = threading.RLock()
        if self.path == MEMORY:
            conn = sqlite3.connect(MEMORY, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout: another process (the CLI while the app runs) may hold the write lock briefly.
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        self.db = Database(conn)
        try:
            if self.path != MEMORY:
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys=ON")
            migrate(self.db)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Hold the lock and run the block as one transaction (nested blocks become savepoints)."""
        with self._lock, self.db.atomic():
            yield self.db

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        with self._lock:
            return next(self.db.query(sql, list(params)), None)

    def _conversation(self, conversation_id: str) -> dict[str, Any]:
        row = self._one("select * from conversations where id = ?", [conversation_id])
        if row is None:
            raise NotFound(f"conversation {conversation_id!r} not found")
        return row

    @staticmethod
    def _check_side(conversation: dict[str, Any], side: str) -> None:
        allowed = ("a",) if conversation["mode"] == "single" else SIDES
        if side not in allowed:
            raise ValueError(f"side must be one of {', '.join(allowed)} in a {conversation['mode']!r} conversation")

    @staticmethod
    def _check_turn(turn: int) -> None:
        if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
            raise ValueError(f"turn must be an integer >= 1, not {turn!r}")

