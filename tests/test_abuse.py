"""Hostile programs against the whole engine, on both backends: every limit holds, the status says which one,
nothing of the host leaks in, and nothing of the program survives its run."""

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.extraction import Program
from runtimes.engine import Engine
from runtimes.limits import MIB, Limits
from tests.sandbox_backends import backend_fixture

pytestmark = [pytest.mark.sandbox, pytest.mark.docker]

LIMITS = Limits(run_timeout_s=4, build_timeout_s=30, memory_mb=128, processes=64, output_bytes=64 * 1024,
                workspace_mb=32)
SECRET = "sk-host-secret-0123456789abcdefghij"


backend = backend_fixture(LIMITS)


@pytest.fixture
def engine(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return Engine(backend, LIMITS, root=tmp_path / "runs")


def python(code: str) -> Program:
    return Program(environment="python", language="python", files={"main.py": code}, entry="main.py")


def c(code: str) -> Program:
    return Program(environment="c", language="c", files={"main.c": code}, entry="main.c")


def processes_with(marker: str) -> list[int]:
    """Host processes whose command line holds `marker` (a daemon the program tried to leave behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_fork_bomb_is_contained(engine):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    result = engine.execute(python(bomb))
    assert result.status in ("timeout", "memory", "killed", "error")
    assert result.duration_ms < 30_000
    assert engine.execute(python("print('still fine')")).stdout == "still fine\n"


def test_thread_bomb_hits_the_process_limit(engine):
    code = ("import threading, time\nn = 0\ntry:\n    while True:\n"
            "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); n += 1\n"
            "except RuntimeError:\n    print('capped at', n)\n")
    result = engine.execute(python(code))
    assert "capped at" in result.stdout
    assert int(result.stdout.split()[-1]) < LIMITS.processes


def test_memory_bomb_is_stopped_with_status_memory(engine):
    result = engine.execute(python("blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))"))
    assert result.status == "memory", (result.status, result.stderr[-500:])


def test_cpu_spin_times_out(engine):
    started = time.monotonic()
    result = engine.execute(python("while True:\n    pass"))
    assert result.status == "timeout"
    assert time.monotonic() - started < LIMITS.run_timeout_s + 10


def test_sleep_forever_times_out(engine):
    result = engine.execute(python("import time\ntime.sleep(3600)"))
    assert result.status == "timeout"


@pytest.mark.parametrize("code", [
    "while True:\n    print('flood line')",
    "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)",
    "import os\nwhile True:\n    os.write(1, b'\\xff\\xfe bad utf8 \\xc3')",
    "import sys\nwhile True:\n    sys.stderr.write('e' * 4096)",
], ids=["lines", "no-newlines", "invalid-utf8", "stderr"])
def test_output_floods_are_capped(engine, code):
    result = engine.execute(python(code))
    assert result.status == "output_limit"
    # The limit counts the program's raw bytes; each invalid byte decodes to one replacement character.
    total = len(result.stdout) + len(result.stderr)
    assert total <= LIMITS.output_bytes + 200  # the limit plus the truncation marker
    assert "output truncated" in result.stdout + result.stderr


def test_disk_fill_is_stopped_by_the_workspace_limit(engine):
    code = ("import os\nwritten = 0\ntry:\n    with open('fill.bin', 'wb') as f:\n        while True:\n"
            "            f.write(b'\\0' * (1 << 20)); f.flush(); written += 1\nexcept OSError as e:\n"
            "    print('stopped after', written, 'MiB:', e.errno)\n")
    result = engine.execute(python(code))
    assert "stopped after" in result.stdout, (result.status, result.stderr[-300:])
    assert int(result.stdout.split()[2]) <= LIMITS.workspace_mb + 1


def test_host_secrets_are_invisible(engine, monkeypatch):
    from core.config import REPO_ROOT

    code = f"""
import os, glob
print('env', any('{SECRET}' in v for v in os.environ.values()), sorted(k for k in os.environ if 'KEY' in k))
for path in ['/proc/1/environ', os.path.expanduser('~root/.bashrc'), '/root/.bashrc', '{REPO_ROOT}/local.db',
             '{REPO_ROOT}/README.md', '/run/podman/podman.sock', '/var/run/docker.sock', '/etc/shadow']:
    try:
        data = open(path, 'rb').read()
        print('READ', path, b'{SECRET}' in data)
    except OSError as error:
        print('blocked', path)
"""
    result = engine.execute(python(code))
    assert result.status == "ok", result.stderr
    assert result.stdout.startswith("env False []")
    assert SECRET not in result.stdout
    for line in result.stdout.splitlines()[1:]:
        assert line.startswith("blocked") or line.endswith("False"), line
        assert "podman.sock" not in line or line.startswith("blocked")
        assert "local.db" not in line or line.startswith("blocked")
        assert "README.md" not in line or line.startswith("blocked")


def test_network_is_unreachable(engine):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted = []
    listener.settimeout(6)

    def accept_once():
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    waiter = threading.Thread(target=accept_once, daemon=True)
    waiter.start()
    code = f"""
import socket
def attempt(name, fn):
    try:
        fn(); print(name, 'REACHED')
    except OSError as error:
        print(name, 'blocked')
attempt('dns', lambda: socket.getaddrinfo('pypi.org', 443))
attempt('tcp', lambda: socket.create_connection(('1.1.1.1', 53), timeout=2))
attempt('host-loopback', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))
"""
    try:
        result = engine.execute(python(code))
    finally:
        waiter.join(7)
        listener.close()
    assert result.stdout.split("\n")[:3] == ["dns blocked", "tcp blocked", "host-loopback blocked"], result.stdout
    assert not accepted


def test_writes_outside_the_workspace_fail(engine, tmp_path):
    target = tmp_path / "escape.txt"
    code = f"""
for path in ['{target}', '/usr/local/escape.txt', '/etc/escape.txt', '/escape.txt']:
    try:
        open(path, 'w').write('x'); print('WROTE', path)
    except OSError:
        print('blocked', path)
"""
    result = engine.execute(python(code))
    assert "WROTE" not in result.stdout and result.stdout.count("blocked") == 4
    assert not target.exists()


def test_daemons_do_not_survive_the_run(engine):
    marker = f"arena-daemon-{os.getpid()}-{time.monotonic_ns()}"
    code = f"""
import os, subprocess, time
subprocess.Popen(['sh', '-c', 'exec -a {marker}-setsid sleep 300'], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sh', ['sh', '-c', 'exec -a {marker}-double sleep 300'])
    os._exit(0)
subprocess.Popen('nohup sh -c "exec -a {marker}-nohup sleep 300" >/dev/null 2>&1 &', shell=True)
time.sleep(0.5)
print('spawned')
"""
    result = engine.execute(python(code))
    assert result.stdout == "spawned\n", result.stderr
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(marker) == []


def test_zombie_children_are_reaped(engine):
    code = ("import os, time\nfor _ in range(20):\n    if os.fork() == 0:\n        os._exit(0)\n"
            "time.sleep(0.5)\nprint('ok')")
    result = engine.execute(python(code))
    assert result.status == "ok" and result.stdout == "ok\n"


def test_symlinks_to_host_files_never_become_artifacts(engine, tmp_path):
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text(SECRET)
    code = f"""
import os
os.symlink('{secret_file}', 'link.txt')
os.symlink('/etc/hostname', 'hostname.txt')
open('real.txt', 'w').write('mine')
try:
    print(open('link.txt').read())
except OSError:
    print('unreadable')
"""
    result = engine.execute(python(code))
    assert SECRET not in result.stdout
    assert [a.name for a in result.artifacts] == ["real.txt"]
    for artifact in result.artifacts:
        assert SECRET not in Path(artifact.path).read_text()


def test_ten_runs_at_once(engine):
    def one(index: int):
        return engine.execute(python(f"import time\ntime.sleep(0.3)\nprint({index} * {index})"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(10)]
    assert all(r.status == "ok" for r in results)
    assert time.monotonic() - started < 120


def test_c_program_cannot_escape_either(engine):
    code = ('#include <stdio.h>\n#include <stdlib.h>\nint main(void){ const char *k = getenv("OPENAI_API_KEY");'
            ' printf("%s\\n", k ? k : "none"); FILE *f = fopen("/etc/escape", "w");'
            ' printf("%s\\n", f ? "WROTE" : "blocked"); return 0; }')
    result = engine.execute(c(code))
    assert result.stdout == "none\nblocked\n", (result.status, result.compile_output, result.stderr)


def test_the_host_stays_responsive_and_limits_are_reported_in_mib():
    assert LIMITS.output_bytes < MIB
