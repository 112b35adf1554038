"""Limits applied to every run. Defaults follow the product brief; each can be changed in settings, CLI or env."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    run_timeout_s: float = 20.0
    build_timeout_s: float = 60.0
    install_timeout_s: float = 300.0
    memory_mb: int = 512
    processes: int = 128  # processes and threads together
    cpus: float = 1.0
    output_bytes: int = 1 * MIB  # stdout and stderr combined; past it the run is stopped and marked
    workspace_mb: int = 256
    artifact_bytes: int = 20 * MIB  # total size of files collected from the workspace after a run

    def with_overrides(self, **changes: float | None) -> Limits:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def from_env(base: Limits | None = None) -> Limits:
    """`ARENA_LIMIT_<FIELD>` overrides, e.g. ARENA_LIMIT_RUN_TIMEOUT_S=5."""
    base = base or Limits()
    changes: dict[str, float | int] = {}
    for field in fields(Limits):
        raw = os.environ.get(f"ARENA_LIMIT_{field.name.upper()}")
        if raw:
            changes[field.name] = float(raw) if field.type in ("float", float) else int(raw)
    return replace(base, **changes)
