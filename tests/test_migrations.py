import re

import pytest
from sqlite_utils import Database

from core.store import migrations, open_store
from core.store.migrations import MIGRATIONS, migrate, migration_names

NAMES = migration_names()


def schema(db: Database) -> list[tuple]:
    return list(db.execute("select type, name, tbl_name, sql from sqlite_master order by type, name").fetchall())


def recorded(db: Database) -> list[str]:
    return [row[0] for row in db.execute("select name from _migrations order by rowid").fetchall()]


def fresh_schema(tmp_path) -> list[tuple]:
    db = Database(tmp_path / "fresh.db")
    migrate(db)
    return schema(db)


def insert_v1_data(db: Database) -> None:
    """Rows valid since m001 (later migrations add no columns), written with plain SQL as an old release would."""
    db.execute("insert into models values ('m1', 'Model One', 'ollama', 'm1:latest', '{}', '2026-01-01T00:00:00.000Z')")
    db.execute("insert into models values ('m2', 'Model Two', 'litellm', 'gpt-x', '{}', '2026-01-01T00:00:00.000Z')")
    db.execute(
        "insert into conversations values ('c1', 'battle', 'web', null, 'm1', 'm2', '2026-01-02T00:00:00.000Z')"
    )
    db.execute(
        "insert into messages (id, conversation_id, side, turn, role, content, created)"
        " values (1, 'c1', 'a', 1, 'user', 'write a palindrome checker', '2026-01-02T00:00:00.000Z')"
    )
    db.execute(
        "insert into messages (id, conversation_id, side, turn, role, content, model, created)"
        " values (2, 'c1', 'a', 1, 'assistant', 'def is_palindrome(s): return s == s[::-1]', 'm1',"
        " '2026-01-02T00:00:01.000Z')"
    )
    db.execute(
        "insert into executions (message_id, environment, language, backend, status, created)"
        " values (2, 'python', 'python', 'docker', 'ok', '2026-01-02T00:00:02.000Z')"
    )
    db.execute(
        "insert into votes (conversation_id, model_a, model_b, winner, turns, blind, created)"
        " values ('c1', 'm1', 'm2', 'a', 1, 1, '2026-01-02T00:00:03.000Z')"
    )
    db.execute("insert into settings values ('theme', '\"dark\"')")


def test_names_are_ordered_unique_and_numbered():
    assert len(set(NAMES)) == len(NAMES)
    numbers = [int(re.match(r"m(\d{3})_\w+$", name).group(1)) for name in NAMES]
    assert numbers == sorted(numbers) == list(range(1, len(NAMES) + 1))
    assert NAMES[:3] == ["m001_initial", "m002_full_text_search", "m003_indexes"]


def test_migrate_empty_db_applies_everything_once(tmp_path):
    db = Database(tmp_path / "arena.db")
    assert migrate(db) == NAMES
    assert recorded(db) == NAMES
    assert {"models", "conversations", "messages", "executions", "votes", "settings", "messages_fts"} <= set(
        db.table_names()
    )
    before = schema(db)
    assert migrate(db) == []
    assert schema(db) == before
    assert recorded(db) == NAMES


def test_applied_at_is_iso_utc_with_milliseconds(tmp_path):
    db = Database(tmp_path / "arena.db")
    migrate(db)
    stamps = [row[0] for row in db.execute("select applied_at from _migrations").fetchall()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp) for stamp in stamps)


@pytest.mark.parametrize("upto", NAMES)
def test_upgrade_from_each_version_keeps_data_and_matches_fresh_schema(tmp_path, upto):
    db = Database(tmp_path / "old.db")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db, upto=upto)
    assert recorded(db) == NAMES[: NAMES.index(upto) + 1]
    insert_v1_data(db)
    db.close()

    store = open_store(tmp_path / "old.db")  # opening runs the pending migrations
    try:
        assert recorded(store.db) == NAMES
        assert schema(store.db) == fresh_schema(tmp_path)
        conversation = store.get_conversation("c1")
        assert [m["content"] for m in conversation["messages"]] == [
            "write a palindrome checker",
            "def is_palindrome(s): return s == s[::-1]",
        ]
        assert conversation["messages"][1]["executions"][0]["status"] == "ok"
        assert conversation["vote"]["winner"] == "a"
        assert store.get_setting("theme") == "dark"
        # Rows written before the FTS migration are indexed too.
        assert [hit["conversation_id"] for hit in store.search("palindrome")] == ["c1"]
        assert migrate(store.db) == []
    finally:
        store.close()


def test_upto_unknown_name_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown migration 'm999_nope'"):
        migrate(Database(tmp_path / "arena.db"), upto="m999_nope")


def test_a_failing_migration_is_rolled_back_and_not_recorded(tmp_path, monkeypatch):
    def m999_broken(db):
        db.execute("create table half_done (id integer)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m999_broken])
    db = Database(tmp_path / "arena.db")
    with pytest.raises(RuntimeError, match="boom"):
        migrations.migrate(db)
    assert recorded(db) == NAMES
    assert "half_done" not in db.table_names()


def test_new_migration_runs_on_existing_database(tmp_path, monkeypatch):
    db = Database(tmp_path / "arena.db")
    migrate(db)

    def m999_add_column(db):
        db.execute("alter table settings add column note text")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m999_add_column])
    assert migrations.migrate(db) == ["m999_add_column"]
    assert recorded(db) == [*NAMES, "m999_add_column"]
    assert "note" in db["settings"].columns_dict
