"""The user's sandbox choices (backend and limits), kept in the store's settings so the pages and the CLI agree.

Precedence for the backend: an explicit choice (CLI flag), then ARENA_SANDBOX, then the saved setting, then auto.
Limits: the saved values over the defaults, then ARENA_LIMIT_* variables, then explicit overrides.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields

from runtimes import limits as run_limits
from runtimes.detect import BACKEND_ENV, BACKENDS

BACKEND_KEY = "sandbox.backend"
LIMITS_KEY = "sandbox.limits"
CHOICES = ("auto", *BACKENDS)


def chosen_backend(store, explicit: str | None = None) -> str:
    choice = explicit or os.environ.get(BACKEND_ENV) or store.get_setting(BACKEND_KEY) or "auto"
    return choice if choice in CHOICES else "auto"


def save_backend(store, choice: str) -> None:
    if choice not in CHOICES:
        raise ValueError(f"Unknown sandbox backend '{choice}': choose one of {', '.join(CHOICES)}.")
    store.set_setting(BACKEND_KEY, choice)


def saved_limits(store) -> run_limits.Limits:
    saved = store.get_setting(LIMITS_KEY) or {}
    known = {f.name for f in fields(run_limits.Limits)}
    base = run_limits.Limits(**{k: v for k, v in saved.items() if k in known})
    return run_limits.from_env(base)


def save_limits(store, limits: run_limits.Limits) -> None:
    defaults = asdict(run_limits.Limits())
    changed = {k: v for k, v in asdict(limits).items() if v != defaults[k]}
    for name, value in changed.items():
        if value is None or value <= 0:
            raise ValueError(f"Limit {name} must be positive.")
    store.set_setting(LIMITS_KEY, changed)
