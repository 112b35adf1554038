"""Run latency: a hello world end to end through the engine on each backend, against the same program run
directly on the host, in the same session."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.stats import measure, row
from core.extraction import Program
from runtimes.engine import Engine
from runtimes.limits import Limits
from runtimes.sandbox import NoSandbox, open_backend

REPEAT = 15
# The interpreter the sandboxes use (not a version-manager shim, which adds its own start-up time).
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"
PY_HELLO = 'print("hello")'
C_HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }'


def _program(environment: str, path: str, code: str) -> Program:
    return Program(environment=environment, language=environment, files={path: code}, entry=path)


def _direct_python() -> None:
    subprocess.run([SYSTEM_PYTHON, "-c", PY_HELLO], check=True, capture_output=True)


def _direct_c(folder: Path) -> None:
    source = folder / "main.c"
    source.write_text(C_HELLO)
    subprocess.run(["gcc", "-O2", "-o", str(folder / "main"), str(source)], check=True, capture_output=True)
    subprocess.run([str(folder / "main")], check=True, capture_output=True)


def _wait_for_pool(backend) -> None:
    pool = getattr(backend, "pool", None)
    if pool is None:
        return
    deadline = time.monotonic() + 30
    while len(pool._ready) < pool.size and time.monotonic() < deadline:
        time.sleep(0.02)


def run() -> list[str]:
    rows = []
    root = Path(tempfile.mkdtemp(prefix="arena-bench-"))
    try:
        direct_py = measure("python3 direct", _direct_python, REPEAT)
        direct_c = measure("gcc + run direct", lambda: _direct_c(root), REPEAT)
        rows.append(row("Python hello, `python3` directly on the host", direct_py, None))
        rows.append(row("C hello, `gcc` + run directly on the host", direct_c, None))
        targets = {"bwrap": ("≤ 1.3× direct", {"max_ratio": 1.3}),
                   "docker": ("≤ 150 ms median (warm pool)", {"max_ms": 150})}
        for name, (py_target, py_limit) in targets.items():
            try:
                backend = open_backend(name, limits=Limits(), pool_size=2)
            except NoSandbox as error:
                rows.append(f"| {name} | unavailable: {error} | | | | | |")
                continue
            try:
                engine = Engine(backend, Limits(), root=root / name)
                py = measure(f"{name} python", lambda e=engine: _check(e.execute(_program("python", "main.py",
                                                                                           PY_HELLO))),
                             REPEAT, before_each=lambda b=backend: _wait_for_pool(b))
                c = measure(f"{name} c", lambda e=engine: _check(e.execute(_program("c", "main.c", C_HELLO))),
                            REPEAT, before_each=lambda b=backend: _wait_for_pool(b))
            finally:
                backend.close()
            rows.append(row(f"Python hello through {name} (engine, end to end)", py, direct_py, py_target,
                            **py_limit))
            rows.append(row(f"C hello compile + run through {name}", c, direct_c, "≤ 1000 ms", max_ms=1000))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def _check(result) -> None:
    if result.status != "ok" or "hello" not in result.stdout:
        raise RuntimeError(f"benchmark run failed: {result.status} {result.message} {result.stderr[-300:]}")


