"""JSONL export and import: one conversation per line, in the shape of BigCodeArena's public vote data.

Exports are deterministic (ordered by creation, sorted keys) so export -> import -> export is byte-identical and
files diff cleanly. Imports never stop at a bad line: each conversation is its own transaction, and every line
that was skipped or rejected is reported with its number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.store.errors import NotFound
from core.store.exchange_records import conversation_record
from core.store.exchange_restore import InvalidRecord, restore_conversation
from core.store.store import Store

__all__ = ["ImportReport", "export_jsonl", "import_jsonl"]


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, conversation id already present)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def __str__(self) -> str:
        summary = f"imported {len(self.imported)}, skipped {len(self.skipped)}, invalid {len(self.invalid)}"
        lines = [summary]
        lines += [f"  line {number}: skipped, {cid} is already in the store" for number, cid in self.skipped]
        lines += [f"  line {number}: invalid, {reason}" for number, reason in self.invalid]
        return "\n".join(lines)


@contextmanager
def _opened(target: Any, mode: str) -> Iterator[Any]:
    """A path is opened (and closed) here; an open file or iterable of lines is used as given."""
    if isinstance(target, (str, Path)):
        with open(target, mode, encoding="utf-8", newline="\n" if "w" in mode else None) as handle:
            yield handle
    else:
        yield target


def _ordered_ids(store: Store, conversation_ids: Iterable[str] | None) -> list[str]:
    with store.transaction() as db:
        ordered = [row["id"] for row in db.query("select id from conversations order by created, id")]
    if conversation_ids is None:
        return ordered
    wanted = set(conversation_ids)
    missing = sorted(wanted - set(ordered))
    if missing:
        raise NotFound(f"no such conversation(s): {', '.join(missing)}")
    return [cid for cid in ordered if cid in wanted]


def export_jsonl(store: Store, out: IO[str] | str | Path, conversation_ids: Iterable[str] | None = None) -> int:
    """Write the conversations (all, or the given ids) one JSON object per line; returns how many.

    Runs as one read transaction, so a conversation deleted or voted on meanwhile cannot tear the export.
    """
    models: dict[str, dict[str, Any]] = {}
    with _opened(out, "w") as handle, store.transaction():
        ids = _ordered_ids(store, conversation_ids)
        for conversation_id in ids:
            conversation = store.get_conversation(conversation_id)
            for side in ("a", "b"):
                name = conversation[f"model_{side}"]
                if name is not None and name not in models:
                    models[name] = store.get_model(name)
            record = conversation_record(conversation, models)
            handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
    return len(ids)


def import_jsonl(store: Store, src: IO[str] | str | Path | Iterable[str]) -> ImportReport:
    """Import conversations; ids already present are skipped, malformed lines are reported and the rest kept."""
    report = ImportReport()
    with _opened(src, "r") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as caught:
                report.invalid.append((number, f"not JSON: {caught}"))
                continue
            try:
                restored = restore_conversation(store, record)
            except InvalidRecord as caught:
                report.invalid.append((number, str(caught)))
                continue
            except Exception as caught:  # noqa: BLE001 - one bad line must never lose the others
                report.invalid.append((number, f"{type(caught).__name__}: {caught}"))
                continue
            if restored:
                report.imported.append(record["chat_session_id"])
            else:
                report.skipped.append((number, record["chat_session_id"]))
    return report
