"""Read queries behind `Store`: plain functions of a Database, called with the store's lock held."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.store.clock import iso_utc
from core.store.rows import WINNERS, decode_execution, decode_vote

FIRST_PROMPT = (
    "(select content from messages p where p.conversation_id = c.id and p.role = 'user'"
    " order by p.turn, p.side limit 1)"
)
USER_TURNS = "(select count(distinct turn) from messages t where t.conversation_id = c.id and t.role = 'user')"


def derive_vote(db: Database, conversation: dict[str, Any]) -> dict[str, Any]:
    """The facts a vote records besides the winner, read from the conversation as it stands when voted on."""
    row: dict[str, Any] = {
        "conversation_id": conversation["id"],
        "model_a": conversation["model_a"],
        "model_b": conversation["model_b"],
        "blind": int(conversation["mode"] == "battle"),
        "turns": next(db.query(
            "select count(distinct turn) as n from messages where conversation_id = ? and role = 'user'",
            [conversation["id"]],
        ))["n"],
    }
    for side in ("a", "b"):
        latest = next(db.query(
            "select e.environment, e.language from executions e join messages m on m.id = e.message_id"
            " where m.conversation_id = ? and m.side = ? order by m.turn desc, e.created desc, e.id desc limit 1",
            [conversation["id"], side],
        ), None) or {}
        row[f"environment_{side}"] = latest.get("environment")
        row[f"language_{side}"] = latest.get("language")
    return row


def conversation_with_messages(db: Database, conversation: dict[str, Any]) -> dict[str, Any]:
    messages = list(db.query(
        "select * from messages where conversation_id = ?"
        " order by turn, side, case role when 'user' then 0 else 1 end",
        [conversation["id"]],
    ))
    executions: dict[int, list[dict[str, Any]]] = {}
    for row in db.query(
        "select e.* from executions e join messages m on m.id = e.message_id where m.conversation_id = ?"
        " order by e.id",
        [conversation["id"]],
    ):
        executions.setdefault(row["message_id"], []).append(decode_execution(row))
    for message in messages:
        message["executions"] = executions.get(message["id"], [])
    vote = next(db.query("select * from votes where conversation_id = ?", [conversation["id"]]), None)
    return {**conversation, "messages": messages, "vote": decode_vote(vote)}


def list_conversations(
    db: Database,
    *,
    model: str | None,
    environment: str | None,
    winner: str | None,
    since: str | datetime | None,
    until: str | datetime | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    if winner is not None and winner not in WINNERS:
        raise ValueError(f"winner must be one of {', '.join(WINNERS)}, not {winner!r}")
    where, params = [], []
    if model is not None:
        where.append("(c.model_a = ? or c.model_b = ?)")
        params += [model, model]
    if environment is not None:
        where.append(
            "exists (select 1 from executions e join messages m on m.id = e.message_id"
            " where m.conversation_id = c.id and e.environment = ?)"
        )
        params.append(environment)
    if winner is not None:
        where.append("v.winner = ?")
        params.append(winner)
    if since is not None:
        where.append("c.created >= ?")
        params.append(iso_utc(since))
    if until is not None:
        where.append("c.created < ?")
        params.append(iso_utc(until))
    sql = (
        f"select c.*, {FIRST_PROMPT} as first_prompt, {USER_TURNS} as turns, v.winner as winner"
        " from conversations c left join votes v on v.conversation_id = c.id"
        f"{' where ' + ' and '.join(where) if where else ''}"
        " order by c.created desc, c.id desc limit ? offset ?"
    )
    return list(db.query(sql, [*params, limit, offset]))


def _phrase(query: str) -> str:
    return '"' + query.replace('"', '""') + '"'


def search(db: Database, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Conversations whose prompts or answers match, newest first, one row each with a snippet of the best hit.

    The query is tried as FTS5 syntax first (so `sort AND merge`, `pars*` work); text FTS5 cannot parse, such as
    an unbalanced quote, is searched as a literal phrase instead of failing.
    """
    if not query or not query.strip() or limit <= 0:
        return []
    sql = (
        "select m.conversation_id, c.created, c.mode, c.model_a, c.model_b, c.category,"
        " m.turn, m.side, m.role, snippet(messages_fts, 0, '[', ']', '…', 12) as snippet"
        " from messages_fts join messages m on m.id = messages_fts.rowid"
        " join conversations c on c.id = m.conversation_id"
        " where messages_fts match ? order by c.created desc, c.id desc, rank"
    )
    for attempt in (query, _phrase(query)):
        try:
            rows = list(db.query(sql, [attempt]))
            break
        except sqlite3.OperationalError:
            continue
    else:
        return []
    results: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["conversation_id"] not in results:
            results[row["conversation_id"]] = row
            if len(results) == limit:
                break
    return list(results.values())


def list_votes(db: Database, blind_only: bool = False) -> list[dict[str, Any]]:
    """Oldest first (the order ratings replay them), with the conversation's mode and category for slicing."""
    rows = db.query(
        "select v.*, c.mode, c.category from votes v join conversations c on c.id = v.conversation_id"
        f"{' where v.blind = 1' if blind_only else ''} order by v.created, v.id"
    )
    return [decode_vote(row) for row in rows]
