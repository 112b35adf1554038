"""Files a program produced: whatever is new or changed in its workspace after the run.

Links are never followed (a program can leave a symlink to a host file; it must not turn into an artifact),
and the total size is capped.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from pathlib import Path

from runtimes.results import Artifact

# Build outputs and helper files that are not the program's own output.
_IGNORED_DIRS = {"classes", "__pycache__", "node_modules"}
_IGNORED_FILES = {"main", ".arena/sitecustomize.py", ".arena/stdin.txt"}

Snapshot = dict[str, tuple[int, str]]  # relative path -> (size, content digest)


def snapshot(workspace: Path) -> Snapshot:
    """Content digests, not timestamps: a backend that copies the workspace back rewrites every file."""
    return {rel: (st.st_size, _digest(workspace / rel)) for rel, st in _regular_files(workspace)}


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def collect(workspace: Path, before: Snapshot, max_total_bytes: int) -> list[Artifact]:
    found: list[Artifact] = []
    total = 0
    for rel, st in sorted(_regular_files(workspace)):
        if rel in _IGNORED_FILES:
            continue
        previous = before.get(rel)
        if previous is not None and previous[0] == st.st_size and previous[1] == _digest(workspace / rel):
            continue
        if rel.endswith((".cjs", ".o", ".class")):
            continue
        if total + st.st_size > max_total_bytes:
            continue
        total += st.st_size
        mime = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        found.append(Artifact(name=rel, path=str(workspace / rel), mime=mime, size=st.st_size))
    return found


def _regular_files(workspace: Path):
    root = str(workspace)
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in _IGNORED_DIRS]
        for name in filenames:
            full = os.path.join(directory, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):  # symlinks, fifos and devices are never artifacts
                yield os.path.relpath(full, root), st
