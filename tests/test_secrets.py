import logging

from core import secrets


def test_keys_come_from_env_and_dotenv_and_only_names_are_listed(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("ANTHROPIC_API_KEY=sk-ant-from-dotenv-0123456789abcdef\nGREETING=hello\n")
    monkeypatch.setenv("ARENA_DOTENV", str(dotenv))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment-0123456789abcdef")
    assert secrets.key_names_set() == ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]
    assert secrets.get_secret("ANTHROPIC_API_KEY") == "sk-ant-from-dotenv-0123456789abcdef"
    assert secrets.get_secret("GREETING") is None


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GROQ_API_KEY=from-dotenv-value-123\n")
    monkeypatch.setenv("ARENA_DOTENV", str(dotenv))
    monkeypatch.setenv("GROQ_API_KEY", "from-environment-value-456")
    assert secrets.get_secret("GROQ_API_KEY") == "from-environment-value-456"


def test_redact_removes_known_values_and_key_shapes(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890-secret")
    text = "auth tok-1234567890-secret failed; server echoed sk-abcdefghijklmnopqrstuvwx and short=abc"
    cleaned = secrets.redact(text)
    assert "tok-1234567890-secret" not in cleaned
    assert "sk-abcdefghijklmnopqrstuvwx" not in cleaned
    assert "short=abc" in cleaned and cleaned.count(secrets.REDACTED) == 2


def test_log_records_are_scrubbed(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loggedkey-0123456789abcdef")
    handler = logging.StreamHandler()
    handler.addFilter(secrets.RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            caplog.handler.addFilter(secrets.RedactingFilter())
            logger.info("calling with key %s", "sk-loggedkey-0123456789abcdef")
    finally:
        logger.removeHandler(handler)
    assert "sk-loggedkey" not in caplog.text
    assert secrets.REDACTED in caplog.text
