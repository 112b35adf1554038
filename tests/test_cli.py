"""`python -m core` as a user runs it: a real subprocess, real clients, loopback model servers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from tests.servers.ollama_server import OllamaTestServer
from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import ModelBehaviour

SECRET = "sk-live-SECRET-0123456789abcdefghijklmnop"


@pytest.fixture
def arena_env(tmp_path):
    """A user's environment pointing at temporary data, with no Ollama unless a test starts one."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        ARENA_DB=str(tmp_path / "local.db"),
        ARENA_MODELS=str(tmp_path / "models.toml"),
        ARENA_DOTENV=str(tmp_path / ".env"),
        OLLAMA_HOST="http://127.0.0.1:9",  # discard port: nothing listens
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    return env


def run_cli(env, *args, stdin=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_every_command_has_help(arena_env):
    top = run_cli(arena_env, "--help")
    assert top.returncode == 0
    for command in ("models", "doctor", "pull", "ask", "export", "import"):
        assert command in top.stdout
        helped = run_cli(arena_env, command, "--help")
        assert helped.returncode == 0 and "usage:" in helped.stdout


def test_models_lists_builtin_and_the_models_of_a_running_ollama_server(arena_env):
    installed = {"qwen2.5-coder:1.5b": ModelBehaviour(), "llama3.2:1b": ModelBehaviour(parameter_size="1.2B")}
    with OllamaTestServer(installed) as srv:
        arena_env["OLLAMA_HOST"] = srv.url
        done = run_cli(arena_env, "models", "--json")
    assert done.returncode == 0, done.stderr
    models = {m["name"]: m for m in json.loads(done.stdout)}
    assert models["smollm2-precise"]["provider"] == "local" and models["smollm2-precise"]["enabled"]
    assert models["ollama/qwen2.5-coder:1.5b"]["reachable"] is True
    assert models["ollama/llama3.2:1b"]["source"] == "discovered"


def test_models_without_ollama_says_it_is_not_running(arena_env):
    Path(arena_env["ARENA_MODELS"]).write_text(
        '[[models]]\nname = "coder"\nprovider = "ollama"\nmodel = "qwen2.5-coder:1.5b"\n'
    )
    done = run_cli(arena_env, "models")
    assert done.returncode == 0
    assert "Ollama is not reachable at http://127.0.0.1:9: start it with `ollama serve`" in done.stdout
    assert "coder" in done.stdout and "UNAVAILABLE" in done.stdout


def test_models_reports_an_api_model_missing_its_key(arena_env):
    Path(arena_env["ARENA_MODELS"]).write_text(
        '[[models]]\nname = "claude"\nprovider = "litellm"\nmodel = "anthropic/claude-3-5-haiku-latest"\n'
    )
    models = {m["name"]: m for m in json.loads(run_cli(arena_env, "models", "--json").stdout)}
    assert models["claude"]["reachable"] is False
    assert "ANTHROPIC_API_KEY" in models["claude"]["detail"]


def test_a_broken_registry_is_a_clear_error(arena_env):
    Path(arena_env["ARENA_MODELS"]).write_text("[[models]]\nname = 'x'\nprovider = 'skynet'\nmodel = 'm'\n")
    done = run_cli(arena_env, "models")
    assert done.returncode == 2 and "provider must be one of" in done.stderr and "Traceback" not in done.stderr


def test_doctor_reports_keys_by_name_only(arena_env):
    arena_env["OPENAI_API_KEY"] = SECRET
    done = run_cli(arena_env, "doctor", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["keys_set"] == ["OPENAI_API_KEY"]
    assert SECRET not in done.stdout and SECRET not in done.stderr
    assert report["ollama"]["reachable"] is False
    assert {b["name"] for b in report["backends"]} == {"docker", "bwrap"}
    assert {t["name"] for t in report["toolchains"]} >= {"python3", "gcc", "node", "javac", "rustc"}
    text = run_cli(arena_env, "doctor").stdout
    assert "API keys set: OPENAI_API_KEY" in text and SECRET not in text


def test_pull_shows_progress(arena_env):
    with OllamaTestServer({}, pullable={"llama3.2:1b": ModelBehaviour()}) as srv:
        arena_env["OLLAMA_HOST"] = srv.url
        done = run_cli(arena_env, "pull", "llama3.2:1b")
        missing = run_cli(arena_env, "pull", "nope:1b")
    assert done.returncode == 0 and "100.0%" in done.stdout and done.stdout.strip().endswith("success")
    assert missing.returncode == 1 and "no model 'nope:1b'" in missing.stderr


def test_ask_streams_stores_and_never_writes_the_key_anywhere(arena_env, tmp_path):
    """Done-when of the foundation: a key set in the environment appears nowhere in local.db or the logs."""
    arena_env["OPENAI_API_KEY"] = SECRET
    arena_env["LITELLM_LOG"] = "DEBUG"  # the noisiest logging litellm has
    Path(arena_env["ARENA_MODELS"]).write_text("\n".join([
        "[[models]]", 'name = "mini"', 'provider = "litellm"', 'model = "openai/gpt-4o-mini"',
        "[[models]]", 'name = "echo-key"', 'provider = "litellm"', 'model = "openai/gpt-4o-mini"',
        'api_key_env = "WRONG_API_KEY"',
    ]) + "\n")
    with OpenAITestServer({"gpt-4o-mini": ModelBehaviour(reply="```python\nprint(2 + 2)\n```")},
                          api_key=SECRET) as srv:
        text = Path(arena_env["ARENA_MODELS"]).read_text()
        Path(arena_env["ARENA_MODELS"]).write_text(text.replace('provider = "litellm"\n',
                                                                f'provider = "litellm"\napi_base = "{srv.base_url}"\n'))
        ok = run_cli(arena_env, "ask", "mini", "add two and two", "--json")
        # A server that echoes a wrong key back in its error: the message must not carry it either.
        arena_env["WRONG_API_KEY"] = "sk-wrong-key-echoed-back-0123456789"
        failed = run_cli(arena_env, "ask", "echo-key", "hi")
    assert ok.returncode == 0, ok.stderr
    record = json.loads(ok.stdout)
    assert record["text"] == "```python\nprint(2 + 2)\n```" and record["cost_usd"] > 0
    assert failed.returncode == 1 and "refused the key" in failed.stderr
    for secret in (SECRET, "sk-wrong-key-echoed-back-0123456789"):
        for output in (ok.stdout, ok.stderr, failed.stdout, failed.stderr):
            assert secret not in output
    database = Path(arena_env["ARENA_DB"])
    for path in database.parent.glob("local.db*"):
        data = path.read_bytes()
        assert SECRET.encode() not in data and b"sk-wrong-key-echoed" not in data
    from core.store import open_store

    store = open_store(database)
    try:
        conversations = store.list_conversations()
        assert len(conversations) == 2
        answers = [m for c in conversations for m in store.get_conversation(c["id"])["messages"]
                   if m["role"] == "assistant"]
        assert sorted(a["finish_reason"] for a in answers) == ["error", "stop"]
    finally:
        store.close()


def test_export_then_import_round_trip_through_the_cli(arena_env, tmp_path):
    with OpenAITestServer({"m": ModelBehaviour(reply="answer")}) as srv:
        Path(arena_env["ARENA_MODELS"]).write_text(
            f'[[models]]\nname = "m"\nprovider = "litellm"\nmodel = "openai/m"\napi_base = "{srv.base_url}"\n'
        )
        assert run_cli(arena_env, "ask", "m", "question one").returncode == 0
    first = tmp_path / "first.jsonl"
    assert run_cli(arena_env, "export", str(first)).returncode == 0
    arena_env["ARENA_DB"] = str(tmp_path / "other.db")
    imported = run_cli(arena_env, "import", str(first))
    assert imported.returncode == 0, imported.stderr
    second = run_cli(arena_env, "export", "-")
    assert second.stdout == first.read_text() and "question one" in second.stdout
