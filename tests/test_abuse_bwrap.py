"""Hostile programs against the real bubblewrap backend: every limit and every wall must hold.

Small limits keep this fast (3 s timeouts, 128 MB memory); each test checks the host afterwards too: no process,
cgroup, mount or file is left behind.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runtimes import host_env
from runtimes.backends.base import PhaseSpec
from runtimes.detect import check_bwrap
from runtimes.limits import Limits
from runtimes.results import TRUNCATION_MARKER, PhaseResult

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[1]
LIMITS = Limits(memory_mb=128, processes=64, cpus=1.0, output_bytes=64 * 1024, workspace_mb=16)
TIMEOUT = 3.0


@pytest.fixture(scope="module")
def backend():
    status = check_bwrap()
    if not status.available:
        pytest.fail(f"bubblewrap unavailable: {status.detail}")
    from runtimes.backends.bwrap import BwrapBackend

    host_env.ensure_sandbox_venv(progress=lambda line: None)
    backend = BwrapBackend()
    if backend.cgroups.kind == "none":
        pytest.skip(f"no writable cgroup here ({backend.cgroups.reason}); abuse limits need one")
    yield backend
    backend.close()


def run(backend, tmp_path: Path, code: str | None = None, argv: list[str] | None = None, *,
        timeout: float = TIMEOUT, limits: Limits = LIMITS, files: dict[str, str] | None = None,
        **spec) -> tuple[PhaseResult, float]:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    if code is not None:
        (workspace / "main.py").write_text(code)
    for name, content in (files or {}).items():
        (workspace / name).write_text(content)
    started = time.monotonic()
    result = backend.run_phase(
        PhaseSpec(argv=argv or ["python3", "main.py"], workspace=workspace, timeout_s=timeout, **spec), limits
    )
    elapsed = time.monotonic() - started
    assert result.sandbox_error is None, result.sandbox_error
    return result, elapsed


def host_processes_with(marker: str) -> list[str]:
    """Every host process whose command line contains `marker` (a /proc scan, no psutil)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{entry}: {cmdline}")
    return found


def zombie_children() -> list[str]:
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(entry)
    return zombies


def run_cgroups(backend) -> list[Path]:
    parents = list(backend.cgroups.v1_parents.values()) + ([backend.cgroups.v2_parent]
                                                           if backend.cgroups.v2_parent else [])
    prefix = f"run-{os.getpid()}-"
    return [child for parent in parents if parent.exists() for child in parent.iterdir()
            if child.name.startswith(prefix)]


@pytest.fixture(autouse=True)
def nothing_left_behind(request):
    yield
    if "backend" in request.fixturenames:
        backend = request.getfixturevalue("backend")
        assert run_cgroups(backend) == [], "every run's cgroup must be removed"
    assert zombie_children() == []


# ------------------------------------------------------------------------------------------------------------------
# processes


FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""


def test_fork_bomb(backend, tmp_path):
    result, elapsed = run(backend, tmp_path, FORK_BOMB + "# fork-bomb-marker")
    assert result.timed_out and elapsed < TIMEOUT + 3
    assert host_processes_with("fork-bomb-marker") == []


def test_shell_fork_bomb(backend, tmp_path):
    marker = f"shbomb{uuid.uuid4().hex[:8]}"
    result, elapsed = run(backend, tmp_path, argv=["bash", "-c", f"{marker}() {{ {marker} | {marker} & }}; {marker}"
                                                   "; sleep 100"])
    assert result.timed_out and elapsed < TIMEOUT + 3
    assert host_processes_with(marker) == []


def test_fork_count_is_capped(backend, tmp_path):
    code = """
import os, time
count = 0
for _ in range(500):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    count += 1
print(count)
"""
    result, _ = run(backend, tmp_path, code)
    assert result.exit_code == 0
    assert int(result.stdout) < LIMITS.processes, "processes must stop at the pids limit"


def test_thread_bomb(backend, tmp_path):
    code = """
import threading, time
count = 0
try:
    for _ in range(2000):
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        count += 1
except RuntimeError:
    pass
print(count, flush=True)
import os; os._exit(0)
"""
    result, _ = run(backend, tmp_path, code)
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) < LIMITS.processes, "threads count against the same pids limit"


# ------------------------------------------------------------------------------------------------------------------
# memory, CPU, time


MEMORY_BOMB = """
import sys
chunks = []
for i in range(1, 400):
    chunks.append(b"x" * (4 * 1024 * 1024))  # touched, not just reserved
    print(4 * i, flush=True)
"""


def test_memory_bomb(backend, tmp_path):
    result, elapsed = run(backend, tmp_path, MEMORY_BOMB, timeout=20)
    assert result.out_of_memory and not result.timed_out
    assert result.signal == 9 and not result.succeeded
    reached = int(result.stdout.split()[-1])
    assert LIMITS.memory_mb / 2 <= reached <= LIMITS.memory_mb, "killed near the limit, never past it"
    assert elapsed < 10
    ok, _ = run(backend, tmp_path, "print('host fine')")  # the machine (and the backend) carry on
    assert ok.stdout == "host fine\n"


def test_tmpfs_counts_as_memory_not_host_disk(backend, tmp_path):
    """Files in /tmp and /work are RAM: a huge tmpfs quota would still stop at the memory limit."""
    limits = Limits(memory_mb=64, processes=64, output_bytes=64 * 1024, workspace_mb=512)
    code = """
with open('/tmp/fill', 'wb') as f:
    for i in range(1, 400):
        f.write(b'x' * 1024 * 1024)
        f.flush()
print('wrote everything')
"""
    result, _ = run(backend, tmp_path, code, limits=limits, timeout=20)
    assert "wrote everything" not in result.stdout and not result.succeeded


def test_cpu_spin_times_out(backend, tmp_path):
    result, elapsed = run(backend, tmp_path, "while True:\n    pass\n")
    assert result.timed_out and result.exit_code is None and result.signal == 9
    assert TIMEOUT - 0.2 <= elapsed < TIMEOUT + 2


def test_cpu_quota_is_one_core(backend, tmp_path):
    code = """
import os, resource, time
def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        spin(2.0)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(round(usage.ru_utime + usage.ru_stime, 2))
"""
    cpu_parent = backend.cgroups.v1_parents.get("cpu") or backend.cgroups.v2_parent
    if cpu_parent is None:
        pytest.skip("no cpu controller")
    throttled: list[int] = []
    quotas: list[str] = []
    done = threading.Event()

    def watch():  # the run's own cgroup, read while it runs: configured quota and the kernel's throttling count
        while not done.is_set():
            for folder in cpu_parent.glob(f"run-{os.getpid()}-*"):
                try:
                    stat = dict(line.split() for line in (folder / "cpu.stat").read_text().splitlines())
                    throttled.append(int(stat.get("nr_throttled", 0)))
                    quota_file = folder / ("cpu.cfs_quota_us" if (folder / "cpu.cfs_quota_us").exists() else "cpu.max")
                    quotas.append(quota_file.read_text().split()[0])
                except (OSError, ValueError):
                    pass
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result, _ = run(backend, tmp_path, code, timeout=10)
    finally:
        done.set()
        watcher.join()
    cpu = float(result.stdout)
    assert cpu < 2.0 * 1.35, f"two spinning processes for 2 s used {cpu} s of CPU: more than one core"
    assert quotas and set(quotas) == {str(int(LIMITS.cpus * 100_000))}
    # On an idle enough machine the two processes want two cores: the kernel must have throttled them.
    # (On a saturated one they may not even get one core, so only the quota read above can be checked.)
    if cpu > 1.6:
        assert max(throttled, default=0) > 0, "the CPU quota must actually throttle two busy processes"


def test_sleep_forever_is_killed_on_time(backend, tmp_path):
    result, elapsed = run(backend, tmp_path, argv=["sleep", "1000"])
    assert result.timed_out and TIMEOUT - 0.2 <= elapsed < TIMEOUT + 1.5


# ------------------------------------------------------------------------------------------------------------------
# output


def assert_capped(result: PhaseResult, elapsed: float) -> None:
    marker = TRUNCATION_MARKER.format(limit=LIMITS.output_bytes)
    combined = result.stdout + result.stderr
    assert result.output_truncated and marker in combined
    assert len((combined.replace(marker, "")).encode()) <= LIMITS.output_bytes
    assert not result.timed_out and elapsed < TIMEOUT, "the run must be stopped as soon as the limit is reached"


def test_output_flood_with_newlines(backend, tmp_path):
    result, elapsed = run(backend, tmp_path, argv=["yes", "spam"], timeout=10)
    assert_capped(result, elapsed)
    assert result.stdout.startswith("spam\nspam\n")


def test_output_flood_without_newlines(backend, tmp_path):
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    result, elapsed = run(backend, tmp_path, code, timeout=10)
    assert_capped(result, elapsed)
    assert "\n" not in result.stdout.split("\n[output truncated")[0]


def test_one_huge_line(backend, tmp_path):
    code = "import os, time\nos.write(1, b'y' * (50 * 1024 * 1024))\ntime.sleep(30)\n"
    result, elapsed = run(backend, tmp_path, code, timeout=10)
    assert_capped(result, elapsed)


def test_stderr_flood_counts_too(backend, tmp_path):
    code = "import sys\nprint('a little out')\nwhile True:\n    sys.stderr.write('e' * 4096)\n"
    result, elapsed = run(backend, tmp_path, code, timeout=10)
    assert_capped(result, elapsed)
    assert result.stdout == "a little out\n"


# ------------------------------------------------------------------------------------------------------------------
# disk


def test_disk_fill_stops_at_workspace_limit(backend, tmp_path):
    free_before = shutil.disk_usage(tmp_path).free
    code = """
import errno
total = 0
for where in ('/work/fill.bin', '/tmp/fill.bin'):
    try:
        with open(where, 'wb') as f:
            while True:
                f.write(b'z' * 1024 * 1024)
                f.flush()
                total += 1
    except OSError as exc:
        print(where, errno.errorcode[exc.errno], flush=True)
"""
    result, _ = run(backend, tmp_path, code, timeout=20)
    assert result.stdout.splitlines() == ["/work/fill.bin ENOSPC", "/tmp/fill.bin ENOSPC"], result.stderr
    copied = tmp_path / "ws" / "fill.bin"
    assert copied.stat().st_size <= LIMITS.workspace_mb * 1024 * 1024
    assert shutil.disk_usage(tmp_path).free > free_before - 2 * LIMITS.workspace_mb * 1024 * 1024


def test_sparse_file_does_not_fill_the_host(backend, tmp_path):
    code = "import os\nwith open('huge.bin', 'wb') as f:\n    f.truncate(1 << 40)\nprint(os.path.getsize('huge.bin'))\n"
    result, _ = run(backend, tmp_path, code)
    assert result.stdout == f"{1 << 40}\n", "a 1 TB sparse file takes no room in the tmpfs"
    assert not (tmp_path / "ws" / "huge.bin").exists(), "but it is not copied back to the host"
    assert "huge.bin" in result.stderr and "over the workspace size limit" in result.stderr


def test_file_count_is_capped_on_the_way_out(backend, tmp_path, monkeypatch):
    import runtimes.backends.bwrap as bwrap_module

    monkeypatch.setattr(bwrap_module, "MAX_COPY_ENTRIES", 300)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "keep.txt").write_text("host file")
    code = "import os\nos.makedirs('many')\nfor i in range(2000):\n    open(f'many/{i}', 'w').close()\n"
    result, _ = run(backend, tmp_path, code)
    assert result.exit_code == 0, result.stderr
    assert len(os.listdir(tmp_path / "ws" / "many")) < 300
    assert (tmp_path / "ws" / "keep.txt").read_text() == "host file", "what was not looked at is not deleted"
    assert "more than 300 entries" in result.stderr


def test_workspace_too_big_is_refused(backend, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "big.bin").write_bytes(b"\0" * (LIMITS.workspace_mb + 1) * 1024 * 1024)
    result = backend.run_phase(PhaseSpec(argv=["true"], workspace=workspace, timeout_s=TIMEOUT), LIMITS)
    assert result.sandbox_error and "workspace" in result.sandbox_error


# ------------------------------------------------------------------------------------------------------------------
# host secrets and the filesystem


def test_host_secrets_are_unreadable(backend, tmp_path, monkeypatch):
    secret = f"secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-{secret}")
    repo_secret = REPO / f".arena-test-secret-{uuid.uuid4().hex[:8]}"
    repo_secret.write_text(secret)
    try:
        targets = [
            repo_secret,
            REPO / "local.db",
            REPO / ".env",
            Path.home() / ".bashrc",
            Path.home() / ".ssh",
            "/run/podman/podman.sock",
            "/var/run/docker.sock",
            "/etc/shadow",
            "/etc/ssl/private",
            f"/proc/{os.getpid()}/environ",
            "/sys/fs/cgroup",
        ]
        code = f"""
import os, socket
for path in {[str(t) for t in targets]!r}:
    try:
        if os.path.isdir(path):
            print(path, 'LISTED', os.listdir(path))
        else:
            data = open(path, 'rb').read()
            print(path, 'READ', len(data), {secret!r} in data.decode(errors='replace'))
    except OSError as exc:
        print(path, 'denied', type(exc).__name__)
for sock in ('/run/podman/podman.sock', '/var/run/docker.sock'):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock); print(sock, 'CONNECTED')
    except OSError as exc:
        print(sock, 'denied', type(exc).__name__)
environ = open('/proc/1/environ', 'rb').read() + str(dict(os.environ)).encode()
print('environ', {secret!r} in environ.decode(errors='replace'))
"""
        result, _ = run(backend, tmp_path, code)
    finally:
        repo_secret.unlink()
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout.replace(f"{secret!r}", "")
    lines = result.stdout.splitlines()
    assert lines[-1] == "environ False"
    for line in lines[:-1]:
        assert " denied " in line, f"host path reachable inside the sandbox: {line}"


def test_writes_outside_workspace_fail(backend, tmp_path):
    code = """
for path in ['/usr/x', '/etc/x', '/x', '/opt/venv/x', '/opt/x', '/dev/x', '/proc/x', '/home/x', '/root/x']:
    try:
        open(path, 'w').write('x'); print(path, 'WROTE')
    except OSError as exc:
        print(path, 'denied')
open('/tmp/ok', 'w').write('x'); open('/work/ok', 'w').write('x'); print('tmp and work ok')
"""
    result, _ = run(backend, tmp_path, code)
    lines = result.stdout.splitlines()
    assert lines[-1] == "tmp and work ok"
    assert all(line.endswith(" denied") for line in lines[:-1]), result.stdout


def test_kernel_settings_are_read_only(backend, tmp_path):
    """Global sysctls must not be writable (a sandbox user mapped to host root could write them)."""
    code = """
value = open('/proc/sys/kernel/printk_ratelimit').read()
try:
    open('/proc/sys/kernel/printk_ratelimit', 'w').write(value); print('WROTE')
except OSError as exc:
    print('denied', exc.errno)
"""
    result, _ = run(backend, tmp_path, code)
    assert result.stdout.startswith("denied"), result.stdout


def test_root_runs_sandboxes_as_an_unprivileged_host_user(backend, tmp_path):
    """As root, the sandbox's processes are not host root (uid 1000 inside maps to nobody outside)."""
    if os.geteuid() != 0:
        pytest.skip("the app is not running as root here: the sandbox maps to this user")
    marker = f"whoami{uuid.uuid4().hex[:8]}"
    found: list[str] = []

    def look():
        deadline = time.monotonic() + 8
        while not found and time.monotonic() < deadline:
            for line in host_processes_with(marker):
                status = Path(f"/proc/{line.split(':')[0]}/status").read_text()
                found.append(next(row for row in status.splitlines() if row.startswith("Uid:")))
            time.sleep(0.02)

    watcher = threading.Thread(target=look)
    watcher.start()
    result, _ = run(backend, tmp_path, argv=["sh", "-c", "sleep 3; true", marker], timeout=10)
    watcher.join()
    assert result.exit_code == 0
    assert found and found[0].split()[1:] == [str(backend.host_uid)] * 4 and backend.host_uid != 0


def test_symlink_to_host_file_resolves_inside(backend, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host-only-content")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "link-secret").symlink_to(secret)
    (workspace / "link-hostname").symlink_to("/etc/hostname")
    (workspace / "link-dir").symlink_to(tmp_path)
    code = """
import os
for name in ('link-secret', 'link-hostname', 'link-dir/host-secret.txt'):
    try:
        print(name, 'READ', open(name).read().strip())
    except OSError as exc:
        print(name, 'denied', type(exc).__name__)
os.symlink('/etc/passwd', 'made-inside')
"""
    result, _ = run(backend, tmp_path, code)
    assert "host-only-content" not in result.stdout
    assert Path("/etc/hostname").read_text().strip() not in result.stdout.replace("link-hostname", "")
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["denied"] * 3
    # Links stay links on the host (never replaced by what they point at): the artifact collector refuses them.
    assert (workspace / "link-secret").is_symlink() and os.readlink(workspace / "link-secret") == str(secret)
    assert (workspace / "made-inside").is_symlink() and os.readlink(workspace / "made-inside") == "/etc/passwd"


# ------------------------------------------------------------------------------------------------------------------
# network


def test_network_egress_fails_fast(backend, tmp_path):
    accepted: list[object] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    code = f"""
import socket, time
def attempt(label, fn):
    started = time.monotonic()
    try:
        fn(); print(label, 'REACHED')
    except OSError as exc:
        print(label, 'failed', round(time.monotonic() - started, 2))
attempt('dns', lambda: socket.getaddrinfo('pypi.org', 443))
attempt('tcp-1.1.1.1', lambda: socket.create_connection(('1.1.1.1', 53), timeout=5))
attempt('udp-dns', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53)))
attempt('host-loopback', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=5))
attempt('ipv6', lambda: socket.create_connection(('2606:4700:4700::1111', 53), timeout=5))
"""
    try:
        result, _ = run(backend, tmp_path, code)
    finally:
        stop.set()
        thread.join()
        server.close()
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [[label, "failed"] for label in
                                                     ("dns", "tcp-1.1.1.1", "udp-dns", "host-loopback", "ipv6")]
    assert all(float(line.split()[2]) < 1.0 for line in lines), "no interface: failures are immediate"
    assert accepted == [], "the host's loopback must be unreachable from inside"


# ------------------------------------------------------------------------------------------------------------------
# nothing survives a run


def test_daemons_die_with_the_run(backend, tmp_path):
    marker = f"daemon{uuid.uuid4().hex[:10]}"
    code = f"""
import os, subprocess, time
# 1. double fork
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', ['sleep', '300', '{marker}-double'])
    os._exit(0)
# 2. setsid + background
subprocess.Popen(['setsid', 'sleep', '301', '{marker}-setsid'], start_new_session=True)
# 3. nohup ... &
subprocess.run(['sh', '-c', 'nohup sleep 302 {marker}-nohup >/dev/null 2>&1 &'])
time.sleep(0.3)
print('parent exits')
"""
    result, elapsed = run(backend, tmp_path, code)
    assert result.exit_code == 0 and result.stdout == "parent exits\n", result.stderr
    assert elapsed < TIMEOUT, "the run ends when the program does, not when its daemons do"
    assert host_processes_with(marker) == []


def test_zombies_are_reaped(backend, tmp_path):
    code = """
import os, time
# an orphan that exits becomes a zombie of the sandbox's pid 1, which must reap it
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(0.2)
        os._exit(0)
    os._exit(0)
os.wait()
time.sleep(0.6)
states = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        states.append(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0])
print('zombies', states.count('Z'))
"""
    result, _ = run(backend, tmp_path, code)
    assert result.stdout == "zombies 0\n", result.stdout + result.stderr


def test_no_mount_or_file_outside_workspace_survives(backend, tmp_path):
    mounts_before = Path("/proc/self/mountinfo").read_text()
    stage = [os.listdir(d) for d in ("/mnt", "/media", "/srv") if os.path.isdir(d)]
    result, _ = run(backend, tmp_path, "open('/tmp/left.txt', 'w').write('x')\nprint('ok')\n")
    assert result.stdout == "ok\n"
    assert Path("/proc/self/mountinfo").read_text() == mounts_before
    assert [os.listdir(d) for d in ("/mnt", "/media", "/srv") if os.path.isdir(d)] == stage
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == ["main.py"]


def test_close_kills_running_sandboxes(tmp_path):
    from runtimes.backends.bwrap import BwrapBackend

    backend = BwrapBackend()
    marker = f"closeme{uuid.uuid4().hex[:8]}"
    (tmp_path / "ws").mkdir()
    results: list[PhaseResult] = []
    thread = threading.Thread(target=lambda: results.append(backend.run_phase(
        PhaseSpec(argv=["sh", "-c", "sleep 100; true", marker], workspace=tmp_path / "ws", timeout_s=60),
        LIMITS)))
    thread.start()
    deadline = time.monotonic() + 10
    while not host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_processes_with(marker)
    backend.close()
    thread.join(10)
    assert not thread.is_alive() and host_processes_with(marker) == []
    assert results and not results[0].succeeded


# ------------------------------------------------------------------------------------------------------------------
# many at once


def test_ten_runs_at_once(backend, tmp_path):
    def one(index: int) -> tuple[int, PhaseResult]:
        folder = tmp_path / f"run{index}"
        folder.mkdir()
        if index % 2:
            code = MEMORY_BOMB
        else:
            code = f"import time\ntime.sleep(0.5)\nopen('out.txt', 'w').write('{index}')\nprint('run', {index})\n"
        (folder / "main.py").write_text(code)
        return index, backend.run_phase(PhaseSpec(argv=["python3", "main.py"], workspace=folder, timeout_s=20),
                                         LIMITS)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    assert time.monotonic() - started < 30
    for index, result in results:
        assert result.sandbox_error is None, result.sandbox_error
        if index % 2:
            assert result.out_of_memory, (index, result.stderr[-300:])
            assert int(result.stdout.split()[-1]) <= LIMITS.memory_mb
        else:
            assert (result.exit_code, result.stdout) == (0, f"run {index}\n"), result.stderr
            assert (tmp_path / f"run{index}" / "out.txt").read_text() == str(index)
