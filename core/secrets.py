"""API keys: read from the environment or the gitignored `.env`, never written anywhere.

Keys are kept in memory only. Anything that may echo a key back (a provider's error message, a log line,
program output) passes through `redact` before it is stored, logged or shown.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from dotenv import dotenv_values

from core import config

REDACTED = "[redacted]"

# Variable names whose values are secrets. Anything ending in one of these suffixes counts too.
KNOWN_KEY_NAMES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "TOGETHERAI_API_KEY",
    "FIREWORKS_API_KEY",
    "COHERE_API_KEY",
    "XAI_API_KEY",
    "HF_TOKEN",
    "HUGGINGFACE_API_KEY",
    "AZURE_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
)
SECRET_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_KEY", "_ACCESS_KEY")
# Values shorter than this are not treated as secrets: redacting "1" or "abc" would mangle ordinary text.
MIN_SECRET_LENGTH = 8
# Shapes of well-known keys, redacted even when the value is not in our environment (e.g. echoed by a server).
KEY_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    re.compile(r"\bgsk_[A-Za-z0-9]{30,}"),
)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return upper in KNOWN_KEY_NAMES or upper.endswith(SECRET_SUFFIXES)


def load_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secret variables from `.env` overlaid by the process environment (the environment wins)."""
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    path = config.dotenv_path()
    if path.is_file():
        for name, value in dotenv_values(path).items():
            if value and is_secret_name(name):
                found[name] = value
    for name, value in environ.items():
        if value and is_secret_name(name):
            found[name] = value
    return found


def key_names_set() -> list[str]:
    """Names (never values) of the keys that are set, for `doctor` and the Settings page."""
    return sorted(load_secrets())


def get_secret(name: str) -> str | None:
    return load_secrets().get(name)


def redact(text: str | None, extra_values: list[str] | None = None) -> str | None:
    """Replace every known secret value and key-shaped token in `text`."""
    if not text:
        return text
    values = [v for v in load_secrets().values() if len(v) >= MIN_SECRET_LENGTH]
    values += [v for v in (extra_values or []) if v and len(v) >= MIN_SECRET_LENGTH]
    for value in sorted(set(values), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern in KEY_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs secrets from every record passing through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (and to the ones added later via basicConfig)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
