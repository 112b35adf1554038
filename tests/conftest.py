"""Every test runs against its own data: no test may read or write the user's local.db, models.toml or .env."""

import pytest


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_DB", str(tmp_path / "local.db"))
    monkeypatch.setenv("ARENA_MODELS", str(tmp_path / "models.toml"))
    monkeypatch.setenv("ARENA_DOTENV", str(tmp_path / ".env"))
    monkeypatch.setenv("ARENA_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
