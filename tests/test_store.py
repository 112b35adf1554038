import sqlite3
import threading

import pytest

from core.store import NotFound, Store, VoteLocked, open_store

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "arena.db")
    store.upsert_model("alpha", "Alpha", "ollama", "alpha:7b", {"temperature": 0.2})
    store.upsert_model("beta", "Beta", "litellm", "openai/beta", None)
    yield store
    store.close()


def battle(store, prompt="write fizzbuzz", mode="battle", **kwargs):
    conversation_id = store.create_conversation(mode, "alpha", "beta", **kwargs)
    store.add_prompt(conversation_id, 1, prompt)
    return conversation_id


def count(store, table):
    return store.db.execute(f"select count(*) from {table}").fetchone()[0]


# Opening


def test_open_uses_wal_foreign_keys_and_creates_parent_dir(tmp_path):
    store = open_store(tmp_path / "deep" / "er" / "arena.db")
    try:
        assert (tmp_path / "deep" / "er" / "arena.db").exists()
        assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute("insert into conversations values ('x', 'single', null, null, 'ghost', null, 'now')")
    finally:
        store.close()


def test_default_path_comes_from_arena_db(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_DB", str(tmp_path / "env" / "chosen.db"))
    with Store() as store:
        assert store.path == tmp_path / "env" / "chosen.db"
    assert (tmp_path / "env" / "chosen.db").exists()


# Models and conversations


def test_upsert_model_keeps_first_seen_and_drops_key_params(store):
    first = store.get_model("alpha")
    store.upsert_model("alpha", "Alpha v2", "ollama", "alpha:8b", {"temperature": 0.7, "api_key": "x" * 20})
    second = store.get_model("alpha")
    assert second["first_seen"] == first["first_seen"]
    assert second["display_name"] == "Alpha v2"
    assert second["params"] == {"temperature": 0.7}
    with pytest.raises(ValueError, match="provider"):
        store.upsert_model("gamma", "Gamma", "openai", "gpt")
    with pytest.raises(NotFound, match="upsert_model"):
        store.get_model("gamma")


def test_create_conversation_validates(store):
    with pytest.raises(NotFound, match="'ghost'"):
        store.create_conversation("battle", "alpha", "ghost")
    with pytest.raises(ValueError, match="mode"):
        store.create_conversation("duel", "alpha", "beta")
    with pytest.raises(ValueError, match="needs model_b"):
        store.create_conversation("battle", "alpha")
    with pytest.raises(ValueError, match="no model_b"):
        store.create_conversation("single", "alpha", "beta")
    conversation_id = store.create_conversation("single", "alpha", id="fixed", created="2026-03-04T05:06:07+02:00")
    assert conversation_id == "fixed"
    assert store.get_conversation("fixed")["created"] == "2026-03-04T03:06:07.000Z"
    with pytest.raises(ValueError, match="already exists"):
        store.create_conversation("single", "alpha", id="fixed")
    assert count(store, "conversations") == 1


def test_generated_ids_and_timestamps(store):
    conversation = store.get_conversation(battle(store))
    assert len(conversation["id"]) == 32 and int(conversation["id"], 16) >= 0
    assert conversation["created"].endswith("Z") and len(conversation["created"]) == len("2026-11-29T03:40:45.123Z")


# Messages


def test_add_prompt_writes_each_side_and_rolls_back_as_a_whole(store):
    conversation_id = battle(store)
    assert [m["side"] for m in store.get_conversation(conversation_id)["messages"]] == ["a", "b"]
    single = store.create_conversation("single", "alpha")
    with pytest.raises(ValueError, match="side"):
        store.add_prompt(single, 1, "hello")  # side "a" is fine, side "b" is not: nothing may be kept
    assert store.get_conversation(single)["messages"] == []
    with pytest.raises(ValueError, match="turn"):
        store.add_prompt(conversation_id, 0, "zero")
    with pytest.raises(NotFound):
        store.add_prompt("nope", 1, "hello")


def test_save_answer_replaces_the_answer_and_its_executions(store):
    conversation_id = battle(store)
    first = store.save_answer(conversation_id, "a", 1, "alpha", "first try", output_tokens=10, finish_reason="stop")
    store.add_execution(first, environment="python", language="python", status="ok")
    again = store.save_answer(conversation_id, "a", 1, "alpha", "second try", latency_ms=42)
    assert again == first
    answer = store.get_conversation(conversation_id)["messages"][1]
    assert (answer["content"], answer["latency_ms"], answer["output_tokens"]) == ("second try", 42, None)
    assert answer["executions"] == []
    assert count(store, "messages") == 3


def test_save_answer_validates(store):
    conversation_id = battle(store)
    with pytest.raises(ValueError, match="is 'beta', not 'alpha'"):
        store.save_answer(conversation_id, "b", 1, "alpha", "wrong side")
    with pytest.raises(ValueError, match="add_prompt"):
        store.save_answer(conversation_id, "a", 2, "alpha", "no prompt yet")
    with pytest.raises(NotFound):
        store.save_answer("nope", "a", 1, "alpha", "x")
    with pytest.raises(TypeError):
        store.save_answer(conversation_id, "a", 1, "alpha", "x", tokens=3)


def test_get_conversation_orders_messages_and_decodes_executions(store):
    conversation_id = battle(store, "turn one")
    store.add_prompt(conversation_id, 2, "turn two")
    for turn in (2, 1):
        for side, model in (("b", "beta"), ("a", "alpha")):
            store.save_answer(conversation_id, side, turn, model, f"{side}{turn}")
    answer = store.get_conversation(conversation_id)["messages"][1]["id"]
    execution = store.add_execution(
        answer, environment="react", language="javascript", files={"App.jsx": "export default 1"}, backend="docker"
    )
    store.update_execution(
        execution, status="ok", exit_code=0, stdout="built", run_ms=12, screenshot=PNG,
        artifacts=[{"name": "out.txt", "mime": "text/plain", "size": 2, "data": "hi"}],
    )
    conversation = store.get_conversation(conversation_id)
    assert [(m["turn"], m["side"], m["role"]) for m in conversation["messages"]] == [
        (1, "a", "user"), (1, "a", "assistant"), (1, "b", "user"), (1, "b", "assistant"),
        (2, "a", "user"), (2, "a", "assistant"), (2, "b", "user"), (2, "b", "assistant"),
    ]
    (run,) = conversation["messages"][1]["executions"]
    assert run["files"] == {"App.jsx": "export default 1"}
    assert run["artifacts"] == [{"name": "out.txt", "mime": "text/plain", "size": 2, "data": "hi"}]
    assert run["screenshot"] == PNG and run["status"] == "ok" and run["stdout"] == "built"
    assert conversation["vote"] is None


def test_execution_validation(store):
    conversation_id = battle(store)
    answer = store.save_answer(conversation_id, "a", 1, "alpha", "x")
    prompt = store.get_conversation(conversation_id)["messages"][0]["id"]
    with pytest.raises(ValueError, match="unknown execution field"):
        store.add_execution(answer, colour="red")
    with pytest.raises(ValueError, match="status"):
        store.add_execution(answer, status="exploded")
    with pytest.raises(ValueError, match="user prompt"):
        store.add_execution(prompt, status="ok")
    with pytest.raises(NotFound):
        store.add_execution(999, status="ok")
    with pytest.raises(NotFound):
        store.update_execution(999, status="ok")
    with pytest.raises(ValueError, match="screenshot"):
        store.add_execution(answer, screenshot="not bytes")
    assert store.get_conversation(conversation_id)["messages"][1]["executions"] == []
    running = store.add_execution(answer)
    assert store.get_conversation(conversation_id)["messages"][1]["executions"][0]["status"] == "running"
    store.update_execution(running, status="timeout")
    assert store.get_conversation(conversation_id)["messages"][1]["executions"][0]["status"] == "timeout"


# Votes


def test_record_vote_derives_its_facts_and_locks(store):
    conversation_id = battle(store)
    store.add_prompt(conversation_id, 2, "now in rust")
    a1 = store.save_answer(conversation_id, "a", 1, "alpha", "py")
    a2 = store.save_answer(conversation_id, "a", 2, "alpha", "rs")
    store.save_answer(conversation_id, "b", 1, "beta", "py")
    store.add_execution(a1, environment="python", language="python", status="ok")
    store.add_execution(a2, environment="rust", language="rust", status="compile_error")
    vote = store.record_vote(conversation_id, "b", note="b compiled", created="2026-05-01T00:00:00Z")
    assert vote["winner"] == "b" and vote["blind"] is True and vote["turns"] == 2
    assert (vote["model_a"], vote["model_b"]) == ("alpha", "beta")
    assert (vote["environment_a"], vote["language_a"]) == ("rust", "rust")
    assert (vote["environment_b"], vote["language_b"]) == (None, None)
    assert vote["created"] == "2026-05-01T00:00:00.000Z"
    with pytest.raises(VoteLocked):
        store.record_vote(conversation_id, "a")
    assert store.get_conversation(conversation_id)["vote"]["winner"] == "b"


def test_vote_rules(store):
    single = store.create_conversation("single", "alpha")
    with pytest.raises(ValueError, match="single"):
        store.record_vote(single, "a")
    with pytest.raises(NotFound):
        store.record_vote("nope", "a")
    open_one = battle(store, mode="side_by_side")
    with pytest.raises(ValueError, match="winner"):
        store.record_vote(open_one, "alpha")
    assert store.record_vote(open_one, "tie")["blind"] is False
    blind = battle(store)
    store.record_vote(blind, "both_bad")
    assert [v["conversation_id"] for v in store.votes()] == [open_one, blind]
    assert [v["conversation_id"] for v in store.votes(blind_only=True)] == [blind]


# Deleting


def test_delete_cascades_to_messages_executions_votes_and_search(store):
    conversation_id = battle(store, "unique zebra prompt")
    answer = store.save_answer(conversation_id, "a", 1, "alpha", "zebra answer")
    store.add_execution(answer, status="ok")
    store.record_vote(conversation_id, "a")
    keep = battle(store, "another zebra")
    store.delete_conversation(conversation_id)
    assert (count(store, "messages"), count(store, "executions"), count(store, "votes")) == (2, 0, 0)
    assert [hit["conversation_id"] for hit in store.search("zebra")] == [keep]
    with pytest.raises(NotFound):
        store.get_conversation(conversation_id)
    with pytest.raises(NotFound):
        store.delete_conversation(conversation_id)


# Listing and searching


def test_list_conversations_filters_and_orders(store):
    old = store.create_conversation("battle", "alpha", "beta", created="2026-01-01T00:00:00Z")
    store.add_prompt(old, 1, "old prompt")
    mid = store.create_conversation("single", "beta", created="2026-02-01T00:00:00Z")
    store.add_prompt(mid, 1, "mid prompt", sides=("a",))
    answer = store.save_answer(mid, "a", 1, "beta", "x")
    store.add_execution(answer, environment="pygame", status="ok")
    new = store.create_conversation("side_by_side", "alpha", "alpha", created="2026-03-01T00:00:00Z")
    store.record_vote(new, "tie")
    rows = store.list_conversations()
    assert [r["id"] for r in rows] == [new, mid, old]
    assert rows[2]["first_prompt"] == "old prompt" and rows[2]["turns"] == 1 and rows[2]["winner"] is None
    assert rows[0]["winner"] == "tie" and rows[0]["first_prompt"] is None
    assert [r["id"] for r in store.list_conversations(model="beta")] == [mid, old]
    assert [r["id"] for r in store.list_conversations(environment="pygame")] == [mid]
    assert [r["id"] for r in store.list_conversations(winner="tie")] == [new]
    assert [r["id"] for r in store.list_conversations(since="2026-02-01", until="2026-03-01")] == [mid]
    assert [r["id"] for r in store.list_conversations(limit=1, offset=1)] == [mid]
    with pytest.raises(ValueError):
        store.list_conversations(winner="nobody")


def test_search_finds_prompts_and_answers_newest_first(store):
    older = store.create_conversation("battle", "alpha", "beta", created="2026-01-01T00:00:00Z")
    store.add_prompt(older, 1, "implement binary search in go")
    store.save_answer(older, "b", 1, "beta", "func bisect() uses a while loop")
    newer = store.create_conversation("battle", "alpha", "beta", created="2026-02-01T00:00:00Z")
    store.add_prompt(newer, 1, "draw a spinning cube with three.js")
    store.save_answer(newer, "a", 1, "alpha", "here is a binary heap instead")
    hits = store.search("binary")
    assert [h["conversation_id"] for h in hits] == [newer, older]
    assert "[binary]" in hits[0]["snippet"]
    assert [h["conversation_id"] for h in store.search("bisect")] == [older]
    assert store.search("bisect")[0]["role"] == "assistant"
    assert [h["conversation_id"] for h in store.search("spinning cube")] == [newer]
    assert len(store.search("binary", limit=1)) == 1
    store.save_answer(newer, "a", 1, "alpha", "rewritten without that word")
    assert [h["conversation_id"] for h in store.search("heap")] == []


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "NEAR(", "AND", "*", "nosuchcolumn:word", "'; DROP TABLE messages; --", "(((", '""', "-", "^",
     "a OR", "two-sum", "ünïcödé 漢字", "content:", "\x00", " ", ""],
)
def test_search_survives_hostile_queries(store, query):
    conversation_id = battle(store, 'solve "two-sum" quickly')
    result = store.search(query)
    assert isinstance(result, list)
    assert count(store, "messages") == 2
    if query == "two-sum":
        assert [h["conversation_id"] for h in result] == [conversation_id]


def test_unbalanced_quote_falls_back_to_phrase(store):
    conversation_id = battle(store, 'print("hello world") please')
    assert [h["conversation_id"] for h in store.search('"hello world')] == [conversation_id]


# Settings


def test_settings_hold_json_values(store):
    assert store.get_setting("missing", default={"x": 1}) == {"x": 1}
    store.set_setting("pairing", {"weights": [1, 2.5], "enabled": True})
    store.set_setting("pairing", {"weights": [3], "enabled": False})
    store.set_setting("note", None)
    assert store.get_setting("pairing") == {"weights": [3], "enabled": False}
    assert store.get_setting("note", "default") is None


# Threads


def test_two_threads_writing_answers_lose_nothing(store):
    turns = 200
    conversation_id = store.create_conversation("battle", "alpha", "beta")
    for turn in range(1, turns + 1):
        store.add_prompt(conversation_id, turn, f"prompt {turn}")
    start = threading.Barrier(3)
    errors = []

    def write(side, model):
        try:
            start.wait()
            for turn in range(1, turns + 1):
                message = store.save_answer(conversation_id, side, turn, model, f"{side} answer {turn}")
                store.add_execution(message, environment="python", status="ok", stdout=str(turn))
        except Exception as caught:  # noqa: BLE001 - reported below
            errors.append(caught)

    def read():
        try:
            start.wait()
            for _ in range(50):
                store.list_conversations()
                store.search("answer")
        except Exception as caught:  # noqa: BLE001 - reported below
            errors.append(caught)

    threads = [threading.Thread(target=write, args=("a", "alpha")), threading.Thread(target=write, args=("b", "beta")),
               threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    messages = store.get_conversation(conversation_id)["messages"]
    answers = {(m["side"], m["turn"]): m for m in messages if m["role"] == "assistant"}
    assert len(answers) == 2 * turns
    assert all(answers[(s, t)]["content"] == f"{s} answer {t}" for s in "ab" for t in range(1, turns + 1))
    assert count(store, "executions") == 2 * turns


# Secrets


def test_secrets_never_reach_the_database_file(tmp_path, monkeypatch):
    openai_key = "sk-test-" + "A1b2C3d4" * 5
    plain_token = "plain-token-value-0123456789"  # not key-shaped: only the environment can reveal it
    monkeypatch.setenv("ARENA_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("MY_SERVICE_TOKEN", plain_token)
    leak = f"auth failed for {openai_key} / {plain_token}"
    path = tmp_path / "arena.db"
    store = open_store(path)
    store.upsert_model("alpha", "Alpha", "litellm", "openai/x", {"headers": {"Authorization": f"Bearer {openai_key}"},
                                                                 "OPENAI_API_KEY": openai_key})
    store.upsert_model("beta", "Beta", "ollama", "b")
    conversation_id = store.create_conversation("battle", "alpha", "beta", system_prompt=leak)
    store.add_prompt(conversation_id, 1, leak)
    answer = store.save_answer(conversation_id, "a", 1, "alpha", leak, error=leak)
    execution = store.add_execution(answer, stdout=leak, stderr=leak, compile_output=leak, files={"main.py": leak},
                                    install_command=f"pip install --token {plain_token} x",
                                    artifacts=[{"name": "log", "data": leak}])
    store.update_execution(execution, stdout=leak + " again", status="error")
    store.record_vote(conversation_id, "a", note=leak)
    store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("arena.db"))
    assert openai_key.encode() not in stored
    assert plain_token.encode() not in stored
    assert b"[redacted]" in stored
