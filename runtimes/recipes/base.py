"""What every environment recipe provides: how to lay out files, build, and run a program inside a sandbox.

Commands run inside the sandbox with the workspace at /work as the current directory, so they are identical on
every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

ARENA_DIR = ".arena"  # helper files the recipe adds (preambles); outputs it collects live below it
FIGURES_DIR = f"{ARENA_DIR}/figures"
# Packages installed for this run first, then the ones every sandbox has (runtimes/images/package.json).
NODE_PATH = "/opt/deps/node_modules:/opt/node/node_modules"


@dataclass(frozen=True)
class Recipe:
    environment: str
    language: str
    # None for environments shown as previews: they are served by runtimes.previews, not run as scripts.
    run: Callable[[Any], list[str]] | None = None
    build: Callable[[Any], list[str] | None] = lambda program: None
    prepare: Callable[[Any, Path], None] = lambda program, workspace: None
    env: dict[str, str] = field(default_factory=dict)
    serves_preview: bool = False  # web apps, Python apps and games are shown live by the previews, not run here
    needs: tuple[str, ...] = ()  # host tools the bwrap backend must find (doctor reports missing ones)


def files_with_suffix(program: Any, *suffixes: str) -> list[str]:
    return sorted(path for path in program.files if PurePosixPath(path).suffix in suffixes)


def write_files(files: dict[str, str], workspace: Path) -> None:
    """Write the program's files; paths were made safe by extraction, and are checked again here."""
    root = workspace.resolve()
    for relative, content in files.items():
        target = (root / relative).resolve()
        if root not in target.parents:
            raise ValueError(f"refusing to write outside the workspace: {relative!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
