"""The bubblewrap backend, for real: toolchains, exit codes, live output, encoding, stdin, environment, network.

Every test starts real `bwrap` sandboxes under real cgroups (no mocks). Abuse cases live in test_abuse_bwrap.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from runtimes import host_env
from runtimes.backends.base import CA_BUNDLE, PhaseSpec, host_ca_bundle
from runtimes.backends.cgroups import CgroupSupport
from runtimes.detect import check_bwrap
from runtimes.limits import Limits
from runtimes.results import PhaseResult

pytestmark = pytest.mark.sandbox

LIMITS = Limits(memory_mb=512, processes=128, output_bytes=256 * 1024, workspace_mb=64)


@pytest.fixture(scope="module")
def backend():
    status = check_bwrap()
    if not status.available:
        pytest.fail(f"bubblewrap unavailable: {status.detail}")
    from runtimes.backends.bwrap import BwrapBackend

    host_env.ensure_sandbox_venv(progress=lambda line: None)
    backend = BwrapBackend()
    yield backend
    backend.close()


def run(backend, tmp_path: Path, argv: list[str], files: dict[str, str | bytes] | None = None, *,
        timeout: float = 30, limits: Limits = LIMITS, on_output=None, **spec) -> PhaseResult:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    for name, content in (files or {}).items():
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = backend.run_phase(PhaseSpec(argv=argv, workspace=workspace, timeout_s=timeout, **spec), limits,
                               on_output)
    assert result.sandbox_error is None, result.sandbox_error
    return result


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed on this host")


# ------------------------------------------------------------------------------------------------------------------
# toolchains


def test_python_hello_uses_sandbox_venv(backend, tmp_path):
    code = "import sys, numpy\nprint('hello from', sys.executable, sys.prefix)\nprint(numpy.arange(3).sum())\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hello from /opt/venv/bin/python3 /opt/venv\n3\n"
    assert result.succeeded


def test_node_hello(backend, tmp_path):
    needs("node")
    result = run(backend, tmp_path, ["node", "main.js"], {"main.js": "console.log('hello', 6 * 7)"})
    assert (result.exit_code, result.stdout) == (0, "hello 42\n"), result.stderr


def test_c_build_then_run(backend, tmp_path):
    needs("gcc")
    source = '#include <stdio.h>\nint main(void) { printf("hello from C\\n"); return 0; }\n'
    build = run(backend, tmp_path, ["gcc", "-O2", "-o", "main", "main.c"], {"main.c": source})
    assert build.exit_code == 0, build.stderr
    binary = tmp_path / "ws" / "main"
    assert binary.is_file() and os.access(binary, os.X_OK), "the compiled program must come back to the host"
    result = run(backend, tmp_path, ["./main"])
    assert (result.exit_code, result.stdout) == (0, "hello from C\n")


def test_cpp_build_then_run(backend, tmp_path):
    needs("g++")
    source = '#include <iostream>\nint main() { std::cout << "hello from C++" << std::endl; }\n'
    assert run(backend, tmp_path, ["g++", "-o", "main", "main.cpp"], {"main.cpp": source}).exit_code == 0
    assert run(backend, tmp_path, ["./main"]).stdout == "hello from C++\n"


def test_java_build_then_run(backend, tmp_path):
    needs("javac")
    source = 'public class Main { public static void main(String[] a) { System.out.println("hello from Java"); } }'
    build = run(backend, tmp_path, ["javac", "-J-Xmx256m", "-d", "classes", "Main.java"], {"Main.java": source},
                timeout=60)
    assert build.exit_code == 0, build.stderr
    result = run(backend, tmp_path, ["java", "-Xmx128m", "-XX:+UseSerialGC", "-cp", "classes", "Main"])
    assert (result.exit_code, result.stdout) == (0, "hello from Java\n"), result.stderr


def test_rust_build_then_run(backend, tmp_path):
    needs("rustc")
    source = 'fn main() { println!("hello from Rust"); }\n'
    build = run(backend, tmp_path, ["rustc", "--edition", "2021", "-o", "main", "main.rs"], {"main.rs": source},
                timeout=60)
    assert build.exit_code == 0, build.stderr
    assert run(backend, tmp_path, ["./main"]).stdout == "hello from Rust\n"


def test_go_build_then_run(backend, tmp_path):
    needs("go")
    source = 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello from Go") }\n'
    env = {"GO111MODULE": "off", "GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go", "CGO_ENABLED": "0"}
    build = run(backend, tmp_path, ["go", "build", "-o", "main", "main.go"], {"main.go": source}, timeout=120,
                env=env)
    assert build.exit_code == 0, build.stderr
    assert run(backend, tmp_path, ["./main"]).stdout == "hello from Go\n"


def test_typescript_with_esbuild(backend, tmp_path):
    if host_env.node_bin_dir() is None:
        pytest.fail("npm is not installed on this host, so the sandbox has no esbuild")
    source = "const answer: number = 6 * 7;\nconsole.log(`typed ${answer}`);\n"
    build = run(backend, tmp_path, ["esbuild", "main.ts", "--platform=node", "--format=cjs", "--log-level=warning",
                                    "--outfile=main.js"], {"main.ts": source})
    assert build.exit_code == 0, build.stderr
    assert run(backend, tmp_path, ["node", "main.js"]).stdout == "typed 42\n"


def test_matplotlib_plot_is_an_artifact(backend, tmp_path):
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 3, 2]); plt.title('chart'); plt.savefig('chart.png')\n"
        "print(plt.get_backend())\n"
    )
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.stdout.lower() == "agg\n", result.stderr
    assert result.stderr == "", "no font-cache rebuild or cache-dir warnings"
    assert (tmp_path / "ws" / "chart.png").read_bytes().startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------------------------
# process semantics


def test_exit_codes_and_signals(backend, tmp_path):
    assert run(backend, tmp_path, ["sh", "-c", "exit 3"]).exit_code == 3
    assert run(backend, tmp_path, ["python3", "-c", "raise SystemExit(0)"]).succeeded
    killed = run(backend, tmp_path, ["sh", "-c", "kill -TERM $$; sleep 5"])
    assert killed.signal == 15 and not killed.succeeded
    missing = run(backend, tmp_path, ["no-such-program"])
    assert missing.exit_code == 127 and "not found" in missing.stderr


def test_stdout_and_stderr_are_separate(backend, tmp_path):
    code = "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\nprint('out again')\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.stdout == "to out\nout again\n"
    assert result.stderr == "to err\n"


def test_output_streams_live(backend, tmp_path):
    seen: list[tuple[float, str, str]] = []
    code = "import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second')\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code},
                 on_output=lambda stream, text: seen.append((time.monotonic(), stream, text)))
    finished = time.monotonic()
    assert result.stdout == "first\nsecond\n"
    first = next(t for t, stream, text in seen if "first" in text)
    assert finished - first > 1.0, "the first line must reach the callback while the program still runs"
    assert "".join(text for _, stream, text in seen if stream == "stdout") == result.stdout


def test_output_without_newline_streams_live(backend, tmp_path):
    seen: list[float] = []
    code = "import sys, time\nsys.stdout.write('no newline')\nsys.stdout.flush()\ntime.sleep(1.5)\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code},
                 on_output=lambda stream, text: seen.append(time.monotonic()))
    assert result.stdout == "no newline"
    assert seen and time.monotonic() - seen[0] > 1.0


def test_invalid_utf8_is_replaced(backend, tmp_path):
    code = (
        "import os\nos.write(1, b'ok \\xff\\xfe bad \\xe2\\x82\\xac euro ')\n"
        "os.write(1, b'\\xe2\\x82')\nos.write(1, b'\\xac split\\n')\n"
        "os.write(2, b'err \\xc3')\n"
    )
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.stdout == "ok \ufffd\ufffd bad \u20ac euro \u20ac split\n"  # a sequence split across writes
    assert result.stderr == "err \ufffd"  # truncated at the very end


def test_stdin_is_empty(backend, tmp_path):
    code = "import os, sys\nprint(repr(sys.stdin.read()))\nprint(os.readlink('/proc/self/fd/0'))\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.stdout == "''\n/dev/null\n"


def test_environment_is_clean(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ARENA_SECRET_PROBE", "do-not-leak")
    result = run(backend, tmp_path, ["python3", "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
                 env={"EXTRA": "from-spec"})
    env = json.loads(result.stdout)
    assert "sk-test" not in result.stdout and "do-not-leak" not in result.stdout
    assert set(env) <= {"PATH", "HOME", "LANG", "PYTHONUNBUFFERED", "MPLBACKEND", "EXTRA", "PWD", "LC_CTYPE"}
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert (env["HOME"], env["LANG"], env["PYTHONUNBUFFERED"], env["MPLBACKEND"]) == ("/tmp", "C.UTF-8", "1", "Agg")
    assert env["EXTRA"] == "from-spec"
    # The process environment of the sandbox's pid 1 (bwrap) is empty too.
    init_env = run(backend, tmp_path, ["sh", "-c", "cat /proc/1/environ | tr '\\0' '\\n'"])
    assert "sk-test" not in init_env.stdout and "do-not-leak" not in init_env.stdout


def test_deps_folder_and_pythonpath(backend, tmp_path):
    deps = tmp_path / "deps"
    deps.mkdir()
    install = run(backend, tmp_path, ["sh", "-c", "echo 'VALUE = 42' > /opt/deps/extra_mod.py"], deps_dir=deps,
                  deps_writable=True)
    assert install.exit_code == 0, install.stderr
    assert (deps / "extra_mod.py").read_text() == "VALUE = 42\n"
    code = "import os, extra_mod\nprint(extra_mod.VALUE, os.environ['PYTHONPATH'])\nopen('/opt/deps/x', 'w')\n"
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code}, deps_dir=deps)
    assert result.stdout == "42 /opt/deps\n"
    assert result.exit_code != 0 and "Read-only file system" in result.stderr


def test_workspace_round_trip(backend, tmp_path):
    code = (
        "import os\n"
        "print(open('data/in.txt').read().strip(), oct(os.stat('tool.sh').st_mode & 0o777))\n"
        "os.makedirs('out/deep', exist_ok=True)\n"
        "open('out/deep/result.txt', 'w').write('made inside')\n"
        "os.remove('data/remove-me.txt')\n"
        "open('data/in.txt', 'a').write('changed\\n')\n"
    )
    workspace = tmp_path / "ws"
    (workspace / "data").mkdir(parents=True)
    (workspace / "data" / "remove-me.txt").write_text("bye")
    (workspace / "tool.sh").write_text("#!/bin/sh\n")
    (workspace / "tool.sh").chmod(0o755)
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code, "data/in.txt": "input\n"})
    assert result.stdout == "input 0o755\n", result.stderr
    assert (workspace / "out" / "deep" / "result.txt").read_text() == "made inside"
    assert (workspace / "data" / "in.txt").read_text() == "input\nchanged\n"
    assert not (workspace / "data" / "remove-me.txt").exists()
    assert os.access(workspace / "tool.sh", os.X_OK)


def test_runs_as_unprivileged_user(backend, tmp_path):
    result = run(backend, tmp_path, ["sh", "-c", "id -u; id -g; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; "
                                                 "grep NoNewPrivs /proc/self/status; cat /etc/passwd"])
    lines = result.stdout.splitlines()
    assert lines[:2] == ["1000", "1000"]
    assert all(line.endswith("0000000000000000") for line in lines[2:5])
    assert lines[5].split() == ["NoNewPrivs:", "1"]
    assert "sandbox:x:1000:1000" in result.stdout and "/root:/bin/bash" not in result.stdout


# ------------------------------------------------------------------------------------------------------------------
# network


def test_network_off_by_default(backend, tmp_path):
    code = (
        "import socket\n"
        "print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]))\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print('connected')\n"
        "except OSError as exc:\n    print('blocked', exc.errno)\n"
    )
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code})
    assert result.stdout.splitlines() == ["['lo']", "blocked 101"]  # ENETUNREACH: there is no route at all


def test_network_on_for_install_phase(backend, tmp_path):
    host_interfaces = sorted(line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:])
    code = (
        "import socket\n"
        "print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]))\n"
        "try:\n    print(socket.getaddrinfo('pypi.org', 443)[0][4][0])\nexcept OSError as exc:\n    print('no-dns')\n"
    )
    bundle = host_ca_bundle()
    result = run(backend, tmp_path, ["python3", "main.py"], {"main.py": code}, network=True, ca_bundle=bundle)
    lines = result.stdout.splitlines()
    assert lines[0] == str(host_interfaces), "the install phase shares the host's network"
    if bundle is not None:  # installs behind a TLS-inspecting proxy trust the host's CAs at CA_BUNDLE
        shown = run(backend, tmp_path, ["cat", CA_BUNDLE], network=True, ca_bundle=bundle)
        assert shown.stdout == bundle.read_text()
        assert run(backend, tmp_path, ["cat", CA_BUNDLE]).exit_code != 0, "only with network"
    try:
        socket.getaddrinfo("pypi.org", 443)
        host_resolves = True
    except OSError:
        host_resolves = False
    if host_resolves:
        assert lines[1] != "no-dns", "a resolver must be configured inside when the network is on"


# ------------------------------------------------------------------------------------------------------------------
# sandbox failures are reported, never run unsandboxed


def test_missing_bwrap_is_a_sandbox_error(tmp_path, monkeypatch):
    from runtimes.backends.bwrap import BwrapBackend

    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    backend = BwrapBackend()
    (tmp_path / "ws").mkdir()
    marker = tmp_path / "ws" / "ran"
    result = backend.run_phase(PhaseSpec(argv=["touch", str(marker)], workspace=tmp_path / "ws", timeout_s=5),
                               LIMITS)
    assert result.sandbox_error and "bubblewrap" in result.sandbox_error
    assert not result.succeeded and not marker.exists()


def test_broken_cgroup_is_a_sandbox_error(backend, tmp_path):
    from runtimes.backends.bwrap import BwrapBackend

    broken = CgroupSupport()
    broken.kind = "cgroup-v1"
    broken.v1_parents = {"memory": tmp_path / "no-such-cgroup", "pids": tmp_path / "no-such-cgroup-either"}
    sandbox = BwrapBackend(cgroups=broken)
    (tmp_path / "ws").mkdir()
    result = sandbox.run_phase(PhaseSpec(argv=["true"], workspace=tmp_path / "ws", timeout_s=5), LIMITS)
    assert result.sandbox_error and "resource limits" in result.sandbox_error


def test_rlimit_fallback_still_runs_and_limits(tmp_path):
    """Without a writable cgroup (a non-root laptop), runs still work under setrlimit, and say they are weaker."""
    if not check_bwrap().available:
        pytest.fail("bubblewrap unavailable")
    from runtimes.backends.bwrap import BwrapBackend

    sandbox = BwrapBackend(cgroups=CgroupSupport())  # never detected: kind "none"
    assert sandbox.limits_note and "weaker" in sandbox.limits_note
    try:
        limits = Limits(memory_mb=256, processes=32, output_bytes=64 * 1024, workspace_mb=16)
        hello = run(sandbox, tmp_path, ["python3", "-c", "print('hi')"], limits=limits)
        assert hello.stdout == "hi\n"
        memory = run(sandbox, tmp_path, ["python3", "-c", "x = bytearray(1024 * 1024 * 1024)"], limits=limits)
        assert memory.exit_code != 0 and "MemoryError" in memory.stderr
        forks = run(sandbox, tmp_path, ["python3", "-c", FORK_COUNTER], limits=limits)
        assert forks.exit_code == 0, forks.stderr
        if sandbox.host_uid is not None or os.geteuid() != 0:  # RLIMIT_NPROC never applies to host root
            assert int(forks.stdout) <= 32 + 2  # bounded far below 200
        started = time.monotonic()
        slow = run(sandbox, tmp_path, ["sleep", "60"], limits=limits, timeout=1)
        assert slow.timed_out and time.monotonic() - started < 4
    finally:
        sandbox.close()


FORK_COUNTER = """
import os, time
count = 0
for _ in range(200):
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


def test_concurrent_output_callback_is_serialised(backend, tmp_path):
    active = threading.Semaphore(1)
    overlaps = []

    def callback(stream, text):
        if not active.acquire(blocking=False):
            overlaps.append(text)
            return
        time.sleep(0.001)
        active.release()

    code = "import sys\nfor i in range(200):\n    print(i); print(i, file=sys.stderr)\n"
    run(backend, tmp_path, ["python3", "main.py"], {"main.py": code}, on_output=callback)
    assert overlaps == []



def _cgroup2_mount() -> Path | None:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[:1] == ["cgroup2"]:
            return Path(left.split()[4])
    return None


@pytest.mark.parametrize("use_kill_file", [True, False], ids=["cgroup.kill", "freeze-and-kill"])
def test_cgroup_v2_kills_a_whole_tree(tmp_path, use_kill_file):
    """The v2 kill path (laptops), exercised on whatever cgroup2 tree this machine has, with a daemonising tree."""
    import subprocess

    from runtimes.backends.cgroups import CgroupV2Run

    mount = _cgroup2_mount()
    folder = mount / f"code-arena-test-{os.getpid()}-{int(use_kill_file)}" if mount else None
    try:
        folder.mkdir()
    except (AttributeError, OSError) as exc:
        pytest.skip(f"no writable cgroup2 tree here: {exc}")
    run_cgroup = CgroupV2Run(folder)
    run_cgroup.use_kill_file = use_kill_file and (folder / "cgroup.kill").exists()
    try:
        script = "sleep 300 & setsid sleep 301 & (sleep 302 &) ; sleep 303"
        process = subprocess.Popen(["sh", "-c", script], preexec_fn=run_cgroup.attach_self, start_new_session=True)
        deadline = time.monotonic() + 5
        while len(run_cgroup.pids()) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(run_cgroup.pids()) >= 5
        if not use_kill_file:
            assert run_cgroup.freeze()
        assert run_cgroup.kill_all()
        assert run_cgroup.pids() == []
        process.wait(5)
    finally:
        run_cgroup.remove()
    assert not folder.exists()


# ------------------------------------------------------------------------------------------------------------------
# the shared output capture on its own


def test_output_capture_cuts_at_the_combined_limit():
    from runtimes.backends.output import OutputCapture
    from runtimes.results import TRUNCATION_MARKER

    stopped = []
    capture = OutputCapture(10, on_limit=lambda: stopped.append(True))
    assert capture.add("stdout", b"1234")
    assert capture.add("stderr", b"abc")
    assert not capture.add("stdout", "\u20ac\u20ac".encode())  # 6 bytes, 3 fit: one euro sign, then a cut
    assert not capture.add("stdout", b"more")
    capture.close()
    marker = TRUNCATION_MARKER.format(limit=10)
    assert capture.stdout == "1234\u20ac" + marker and capture.stderr == "abc"
    assert capture.truncated and stopped == [True] and capture.total_bytes == 10


def test_output_capture_survives_a_failing_callback():
    from runtimes.backends.output import OutputCapture

    def broken(stream, text):
        raise RuntimeError("display failed")

    capture = OutputCapture(100, on_output=broken)
    assert capture.add("stdout", b"one ") and capture.add("stdout", b"two")
    assert capture.stdout == "one two"
