"""Where things live. Every path can be overridden by an environment variable so tests and users can relocate data."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def db_path() -> Path:
    """The SQLite database: `ARENA_DB`, or `local.db` in the repository root."""
    return Path(os.environ.get("ARENA_DB") or REPO_ROOT / "local.db")


def models_path() -> Path:
    """The user's model registry (TOML): `ARENA_MODELS`, or `models.toml` in the repository root."""
    return Path(os.environ.get("ARENA_MODELS") or REPO_ROOT / "models.toml")


def dotenv_path() -> Path:
    """The gitignored file of API keys: `ARENA_DOTENV`, or `.env` in the repository root."""
    return Path(os.environ.get("ARENA_DOTENV") or REPO_ROOT / ".env")


def ollama_host() -> str:
    """Ollama's address as the official client reads it, with Ollama's own default."""
    return os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
