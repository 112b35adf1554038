import base64
import io
import json

import pytest

from core.store import NotFound, open_store
from core.store.exchange import ImportReport, export_jsonl, import_jsonl

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3


@pytest.fixture
def source(tmp_path):
    store = open_store(tmp_path / "source.db")
    store.upsert_model("alpha", "Alpha ✨", "ollama", "alpha:7b", {"temperature": 0.2, "stop": ["\n\n"]})
    store.upsert_model("beta", "Beta", "litellm", "openai/beta")
    store.upsert_model("gamma", "Gamma", "local", "gamma.gguf", {"n_ctx": 2048})

    battle = store.create_conversation(
        "battle", "alpha", "beta", category="web", system_prompt="Réponds en français 🇫🇷", id="c-battle",
        created="2026-04-01T10:00:00Z",
    )
    prompts = ["build a todo app", "add dark mode — 暗いモード", 'quote "this" and \\ that\n\tplease']
    for turn, prompt in enumerate(prompts, start=1):
        store.add_prompt(battle, turn, prompt)
        a = store.save_answer(battle, "a", turn, "alpha", f"```jsx\n// turn {turn} ✓\n```", input_tokens=10 * turn,
                              output_tokens=20, latency_ms=300, ttft_ms=40, cost_usd=0.0012, finish_reason="stop")
        b = store.save_answer(battle, "b", turn, "beta", f"answer b {turn} عربي", error="rate limited" if turn == 2
                              else None, finish_reason="length")
        run = store.add_execution(a, environment="react", language="javascript", files={"App.jsx": f"// {turn}"},
                                  install_command="npm i", backend="docker")
        store.update_execution(run, status="ok", exit_code=0, stdout="ok ✓", stderr="", compile_output="built",
                               install_ms=1000, build_ms=200, run_ms=50, screenshot=PNG,
                               artifacts=[{"name": "shot.png", "mime": "image/png", "size": len(PNG),
                                           "path": "artifacts/shot.png"}])
        store.add_execution(b, environment="python", language="python", status="timeout", stderr="Timeout\n")
    store.record_vote(battle, "a", note="A's UI works; B timed out 🙂", created="2026-04-01T10:05:00Z")

    # Same creation time as c-side but written first: the export must still order them by id.
    single = store.create_conversation("single", "gamma", id="c-single", created="2026-04-02T00:00:00Z")
    store.add_prompt(single, 1, "hello", sides=("a",))
    store.save_answer(single, "a", 1, "gamma", "hi there")

    side = store.create_conversation("side_by_side", "alpha", "gamma", id="c-side", created="2026-04-02T00:00:00Z")
    store.add_prompt(side, 1, "fizzbuzz")
    store.save_answer(side, "a", 1, "alpha", "for i in range(1, 101): ...")
    store.record_vote(side, "both_bad")

    empty = store.create_conversation("battle", "beta", "gamma", id="z-empty", created="2026-03-01T00:00:00Z")
    assert empty
    yield store
    store.close()


def exported(store, ids=None) -> str:
    out = io.StringIO()
    export_jsonl(store, out, ids)
    return out.getvalue()


def test_round_trip_is_byte_identical(source, tmp_path):
    first = tmp_path / "first.jsonl"
    assert export_jsonl(source, first) == 4
    target = open_store(tmp_path / "target.db")
    try:
        report = import_jsonl(target, first)
        assert report.invalid == [] and report.skipped == []
        assert report.imported == ["z-empty", "c-battle", "c-side", "c-single"]  # file order
        second = tmp_path / "second.jsonl"
        export_jsonl(target, second)
        assert second.read_bytes() == first.read_bytes()
        assert target.get_conversation("c-battle")["messages"][1]["executions"][0]["screenshot"] == PNG
        assert target.get_model("alpha") == source.get_model("alpha")
        assert target.votes() == source.votes()
    finally:
        target.close()


def test_export_shape_follows_bigcodearena(source):
    lines = exported(source).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["chat_session_id"] for r in records] == ["z-empty", "c-battle", "c-side", "c-single"]  # created, id
    for line, record in zip(lines, records, strict=True):
        assert line == json.dumps(record, sort_keys=True, ensure_ascii=False)
    assert "暗いモード" in lines[1]
    battle, side, single = records[1], records[2], records[3]
    assert (battle["model_A"], battle["model_B"], battle["human_vote"]) == ("alpha", "beta", "vote_model_A")
    assert battle["instruction"] == "build a todo app" and battle["category_name"] == "web"
    assert battle["vote"]["blind"] is True and battle["vote"]["turns"] == 3
    assert battle["vote"]["environment_b"] == "python"
    state = battle["states"]["model_A"]
    assert state["model_name"] == "alpha"
    assert state["messages"][:2] == [["user", "build a todo app"], ["assistant", "```jsx\n// turn 1 ✓\n```"]]
    assert [s["turn"] for s in state["message_stats"]] == [1, 1, 2, 2, 3, 3]
    assert state["message_stats"][1]["cost_usd"] == 0.0012
    assert sorted(state["sandbox_logs_by_round"]) == ["1", "2", "3"]
    (run,) = state["sandbox_logs_by_round"]["2"]
    assert run["files"] == {"App.jsx": "// 2"} and run["status"] == "ok"
    assert base64.b64decode(run["sandbox_state"]["screenshot_base64"]) == PNG
    assert run["sandbox_state"]["sandbox_output"] == "ok ✓"
    assert battle["states"]["model_B"]["sandbox_logs_by_round"]["1"][0]["sandbox_state"]["screenshot_base64"] == ""
    assert side["human_vote"] == "vote_both_bad" and side["vote"]["blind"] is False
    assert single["model_B"] is None and single["states"]["model_B"] is None and single["human_vote"] is None
    assert single["models"] == {"gamma": {"display_name": "Gamma", "provider": "local", "model": "gamma.gguf",
                                          "params": {"n_ctx": 2048}, "first_seen": single["models"]["gamma"]
                                          ["first_seen"]}}
    assert records[0]["instruction"] is None and records[0]["states"]["model_A"]["messages"] == []


def test_export_selected_ids(source):
    assert [json.loads(line)["chat_session_id"] for line in exported(source, ["c-single", "c-battle"]).splitlines()] \
        == ["c-battle", "c-single"]
    with pytest.raises(NotFound, match="nope"):
        exported(source, ["c-battle", "nope"])


def test_reimport_skips_duplicates(source, tmp_path):
    text = exported(source)
    target = open_store(tmp_path / "target.db")
    try:
        assert len(import_jsonl(target, io.StringIO(text)).imported) == 4
        again = import_jsonl(target, io.StringIO(text))
        assert again.imported == [] and again.invalid == []
        assert again.skipped == [(1, "z-empty"), (2, "c-battle"), (3, "c-side"), (4, "c-single")]
        assert exported(target) == text
    finally:
        target.close()


def test_malformed_lines_are_reported_and_the_rest_imported(source, tmp_path):
    good = exported(source).splitlines()
    battle = json.loads(good[1])
    bad_round = json.loads(good[1])
    bad_round["chat_session_id"] = "bad-round"
    bad_round["states"]["model_B"]["sandbox_logs_by_round"]["9"] = []
    bad_shot = json.loads(good[1])
    bad_shot["chat_session_id"] = "bad-shot"
    bad_shot["states"]["model_B"]["sandbox_logs_by_round"]["1"][0]["sandbox_state"]["screenshot_base64"] = "%%%"
    single_vote = json.loads(good[3])
    single_vote["chat_session_id"] = "single-vote"
    single_vote["human_vote"] = "vote_model_A"
    late_failure = json.loads(good[1])  # side A is written before side B fails: nothing of it may remain
    late_failure["chat_session_id"] = "late-failure"
    late_failure["states"]["model_B"]["messages"][1] = ["robot", "beep"]
    lines = [
        good[0],
        "{not json",
        "[1, 2, 3]",
        json.dumps({**battle, "chat_session_id": ""}),
        json.dumps({**battle, "chat_session_id": "bad-vote", "human_vote": "vote_model_C"}),
        json.dumps({**battle, "chat_session_id": "bad-mode", "mode": "single"}),
        json.dumps(bad_round),
        "",
        json.dumps(bad_shot),
        json.dumps(single_vote),
        json.dumps(late_failure),
        json.dumps({**battle, "chat_session_id": "bad-time", "created": "yesterday"}),
        good[1],
    ]
    target = open_store(tmp_path / "target.db")
    try:
        report = import_jsonl(target, io.StringIO("\n".join(lines) + "\n"))
        assert report.imported == ["z-empty", "c-battle"]
        assert [number for number, _ in report.invalid] == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12]
        reasons = dict(report.invalid)
        assert reasons[2].startswith("not JSON")
        assert "object" in reasons[3] and "chat_session_id" in reasons[4] and "human_vote" in reasons[5]
        assert "round" in reasons[7] and "base64" in reasons[9] and "vote" in reasons[10]
        assert "role" in reasons[11] and "timestamp" in reasons[12]
        ids = {row[0] for row in target.db.execute("select id from conversations").fetchall()}
        assert ids == {"z-empty", "c-battle"}
        assert target.db.execute("select count(*) from messages").fetchone()[0] == 12
        assert "invalid 10" in str(report) and "line 11: invalid" in str(report)
    finally:
        target.close()


def test_import_keeps_existing_model_snapshots_and_redacts(source, tmp_path, monkeypatch):
    secret = "sk-test-" + "Z9y8X7w6" * 4
    monkeypatch.setenv("ARENA_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    record = json.loads(exported(source, ["c-single"]))
    record["states"]["model_A"]["messages"][1][1] = f"leaked {secret}"
    target = open_store(tmp_path / "target.db")
    try:
        target.upsert_model("gamma", "Gamma (mine)", "ollama", "gamma:latest")
        assert import_jsonl(target, [json.dumps(record)]).imported == ["c-single"]
        assert target.get_model("gamma")["display_name"] == "Gamma (mine)"
        assert target.get_conversation("c-single")["messages"][1]["content"] == "leaked [redacted]"
    finally:
        target.close()


def test_import_minimal_bigcodearena_record(tmp_path):
    record = {
        "chat_session_id": "bca-1",
        "model_A": "gpt-4o",
        "model_B": "claude",
        "instruction": "make a snake game",
        "human_vote": "vote_model_B",
        "category_name": "game",
        "states": {
            "model_A": {"model_name": "gpt-4o", "messages": [["USER", "make a snake game"], ["ASSISTANT", "A"]]},
            "model_B": {"model_name": "claude", "messages": [["user", "make a snake game"], ["assistant", "B"],
                                                             ["user", "faster"], ["assistant", None]]},
        },
    }
    store = open_store(tmp_path / "arena.db")
    try:
        report = import_jsonl(store, io.StringIO(json.dumps(record) + "\n"))
        assert isinstance(report, ImportReport) and report.imported == ["bca-1"], report
        conversation = store.get_conversation("bca-1")
        assert conversation["mode"] == "battle"
        assert [(m["side"], m["turn"], m["role"]) for m in conversation["messages"]] == [
            ("a", 1, "user"), ("a", 1, "assistant"), ("b", 1, "user"), ("b", 1, "assistant"), ("b", 2, "user"),
        ]
        assert conversation["vote"]["winner"] == "b" and conversation["vote"]["turns"] == 2
        assert store.get_model("claude")["provider"] == "manual"
    finally:
        store.close()
