"""Schema changes as named, append-only steps, recorded in `_migrations` (the pattern of Simon Willison's `llm`).

A database created by any earlier release is brought up to date by running only the steps it has not seen.
Never edit or reorder a migration once it has shipped: add a new one, because users' databases already ran the old.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from core.store.clock import now_iso

Migration = Callable[[Database], None]
MIGRATIONS: list[Migration] = []
MIGRATIONS_TABLE = "_migrations"


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def migration_names() -> list[str]:
    return [fn.__name__ for fn in MIGRATIONS]


def applied_migrations(db: Database) -> list[str]:
    if not db[MIGRATIONS_TABLE].exists():
        return []
    return [row["name"] for row in db.query(f"select name from {MIGRATIONS_TABLE} order by rowid")]


def migrate(db: Database, upto: str | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; stop after `upto` (for tests of old versions).

    Returns the names applied now, so callers can log upgrades. Running it again is a no-op.
    """
    names = migration_names()
    if upto is not None and upto not in names:
        raise ValueError(f"unknown migration {upto!r}; known: {', '.join(names)}")
    db.execute(f"create table if not exists {MIGRATIONS_TABLE} (name text primary key, applied_at text not null)")
    done = set(applied_migrations(db))
    applied: list[str] = []
    for fn in MIGRATIONS:
        name = fn.__name__
        if name not in done:
            with db.atomic():
                fn(db)
                db.execute(f"insert into {MIGRATIONS_TABLE} (name, applied_at) values (?, ?)", [name, now_iso()])
            applied.append(name)
        if name == upto:
            break
    return applied


@migration
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        create table models (
            name text primary key,
            display_name text not null,
            provider text not null,
            model text not null,
            params text not null default '{}',
            first_seen text not null
        );
        create table conversations (
            id text primary key,
            mode text not null check (mode in ('battle', 'side_by_side', 'single')),
            category text,
            system_prompt text,
            model_a text not null references models(name),
            model_b text references models(name),
            created text not null
        );
        create table messages (
            id integer primary key,
            conversation_id text not null references conversations(id) on delete cascade,
            side text not null check (side in ('a', 'b')),
            turn integer not null check (turn >= 1),
            role text not null check (role in ('user', 'assistant')),
            content text not null default '',
            model text references models(name),
            input_tokens integer,
            output_tokens integer,
            latency_ms integer,
            ttft_ms integer,
            cost_usd real,
            finish_reason text,
            error text,
            created text not null,
            unique (conversation_id, side, turn, role)
        );
        create table executions (
            id integer primary key,
            message_id integer not null references messages(id) on delete cascade,
            environment text,
            language text,
            files text not null default '{}',
            install_command text,
            backend text,
            status text not null,
            exit_code integer,
            stdout text,
            stderr text,
            compile_output text,
            install_ms integer,
            build_ms integer,
            run_ms integer,
            artifacts text not null default '[]',
            screenshot blob,
            created text not null
        );
        create table votes (
            id integer primary key,
            conversation_id text not null unique references conversations(id) on delete cascade,
            model_a text not null,
            model_b text,
            winner text not null check (winner in ('a', 'b', 'tie', 'both_bad')),
            environment_a text,
            environment_b text,
            language_a text,
            language_b text,
            turns integer not null,
            blind integer not null check (blind in (0, 1)),
            note text,
            created text not null
        );
        create table settings (
            key text primary key,
            value text not null
        )
        """,
    )


@migration
def m002_full_text_search(db: Database) -> None:
    # Triggers keep the index in step with every insert, update and (cascading) delete of a message.
    db["messages"].enable_fts(["content"], create_triggers=True, tokenize="porter")


@migration
def m003_indexes(db: Database) -> None:
    db.executescript(
        """
        create index idx_messages_conversation on messages (conversation_id, turn);
        create index idx_executions_message on executions (message_id);
        create index idx_votes_created on votes (created);
        create index idx_conversations_created on conversations (created);
        create index idx_conversations_model_a on conversations (model_a);
        create index idx_conversations_model_b on conversations (model_b)
        """,
    )
