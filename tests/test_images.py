"""The runtime image, built for real and run through the Docker SDK under the sandbox's limits.

One session-scoped container (no network, 512 MiB, 128 pids, 1 CPU, read-only root, tmpfs /tmp and /work, user
sandbox, no capabilities) serves every toolchain check through exec, as a warm pool would.
"""

from __future__ import annotations

import statistics
import time

import docker
import pytest

from runtimes import images
from runtimes.detect import docker_base_url
from runtimes.images import RUNTIME_IMAGE, ImageError, context_hash, ensure_runtime_image, image_exists

# The first test's setup may build the image (about 5 minutes from nothing), past the project's 300 s default timeout.
pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

TMPFS_OPTS = "rw,exec,nosuid,nodev,size=256m"
SANDBOX_KWARGS = {
    "network_mode": "none",
    "mem_limit": "512m",
    "pids_limit": 128,
    "nano_cpus": int(1e9),
    "read_only": True,
    "tmpfs": {"/tmp": f"{TMPFS_OPTS},mode=1777", "/work": f"{TMPFS_OPTS},mode=1777"},
    "user": "sandbox",
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
}


@pytest.fixture(scope="session")
def client():
    url = docker_base_url()
    if url is None:
        pytest.fail("no container engine socket (start one with scripts/start-podman.sh)")
    client = docker.DockerClient(base_url=url, timeout=3600)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means there is no engine to test against
        pytest.fail(f"container engine at {url} does not answer: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def runtime_image(client):
    """Built once per session (minutes the first time, instant when the content hash already exists)."""
    return ensure_runtime_image(client, progress=lambda line: print(f"[build] {line}"))


@pytest.fixture(scope="session")
def sandbox(client, runtime_image):
    container = client.containers.run(runtime_image, detach=True, **SANDBOX_KWARGS)
    container.reload()
    assert container.status == "running", container.logs().decode(errors="replace")
    yield container
    container.remove(force=True)


def sh(container, script: str, timeout_s: int = 120) -> tuple[int, str]:
    """Run a bash script in the container as `sandbox` in /work; (exit code, stdout+stderr)."""
    code, output = container.exec_run(
        ["timeout", str(timeout_s), "bash", "-euo", "pipefail", "-c", script], user="sandbox", workdir="/work"
    )
    return code, output.decode(errors="replace")


def ok(container, script: str, timeout_s: int = 120) -> str:
    code, output = sh(container, script, timeout_s)
    assert code == 0, f"exit {code}:\n{output}"
    return output


# --- the image itself -----------------------------------------------------------------------------------------------


def test_tag_is_content_hash(client, runtime_image):
    assert runtime_image == RUNTIME_IMAGE == f"code-arena/runtime:{context_hash()}"
    assert image_exists(client, runtime_image)
    assert not image_exists(client, "code-arena/runtime:does-not-exist")
    # Unchanged context: ensuring again returns at once without building.
    started = time.monotonic()
    assert ensure_runtime_image(client, progress=pytest.fail) == runtime_image
    assert time.monotonic() - started < 5


def test_failed_build_raises_clear_error(client, runtime_image, tmp_path, monkeypatch):
    (tmp_path / images.DOCKERFILE).write_text("ARG BASE\nFROM ${BASE}\nRUN echo boom-from-build && exit 3\n")
    monkeypatch.setattr(images, "IMAGES_DIR", tmp_path)
    lines = []
    with pytest.raises(ImageError) as caught:
        ensure_runtime_image(client, lines.append, tag="code-arena/broken-test:1", base=runtime_image)
    message = str(caught.value)
    assert "code-arena/broken-test:1" in message and "boom-from-build" in message
    assert any("boom-from-build" in line for line in lines)  # the log was streamed while building
    assert not image_exists(client, "code-arena/broken-test:1")


def test_image_config(client, runtime_image):
    config = client.images.get(runtime_image).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == "sandbox"
    assert config["WorkingDir"] == "/work"
    assert config["Entrypoint"][0].endswith("tini")
    assert env["PATH"].startswith("/opt/venv/bin:")
    for key, value in {"PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", "PIP_NO_CACHE_DIR": "1", "HOME": "/tmp"}.items():
        assert env[key] == value
    assert config["Labels"]["code-arena.context-hash"] == context_hash()


def test_sandbox_user(sandbox):
    uid, name, passwd = ok(sandbox, "id -u; id -un; getent passwd sandbox").split("\n")[:3]
    assert name == "sandbox"
    assert 1000 <= int(uid) < 2000
    assert passwd.split(":")[2] == uid


def test_limits_applied(sandbox):
    host = sandbox.attrs["HostConfig"]
    assert host["Memory"] == 512 * 1024 * 1024
    assert host["PidsLimit"] == 128
    assert host["NanoCpus"] == 10**9
    assert host["ReadonlyRootfs"] is True
    assert host["NetworkMode"] in ("none", "")


def test_read_only_root_writable_work_and_tmp(sandbox):
    code, output = sh(sandbox, "touch /usr/local/x")
    assert code != 0 and "Read-only file system" in output
    ok(sandbox, "echo a > /work/w.txt && echo b > /tmp/t.txt && cat /work/w.txt /tmp/t.txt && rm /work/w.txt")


def test_tini_is_pid_1(sandbox):
    assert ok(sandbox, "cat /proc/1/comm").strip() == "tini"


def test_no_network(sandbox):
    script = """
import socket, time
started = time.monotonic()
try:
    socket.create_connection(("1.1.1.1", 53), timeout=5).close()
    print("CONNECTED")
except OSError as exc:
    print(f"refused {type(exc).__name__} {exc} after {time.monotonic() - started:.3f}")
"""
    output = ok(sandbox, f"python3 -c '{script}'")
    assert "CONNECTED" not in output and "refused" in output
    assert float(output.split()[-1]) < 2, output
    interfaces = ok(sandbox, "ls /sys/class/net").split()
    assert interfaces == ["lo"], interfaces


# --- toolchains ------------------------------------------------------------------------------------------------------


def test_python(sandbox):
    output = ok(sandbox, "command -v python3; python3 -c 'import sys; print(\"hello\", sys.version_info[:2])'")
    assert output.splitlines()[0] == "/opt/venv/bin/python3"
    assert "hello (3, 11)" in output


def test_python_packages(sandbox):
    script = r"""mkdir -p /work/py && cd /work/py
cat > check.py <<'EOF'
import numpy, pandas, matplotlib, scipy, sklearn, requests, PIL, plotly, pygame, streamlit, gradio
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression
assert matplotlib.get_backend().lower() == "agg", matplotlib.get_backend()
x = numpy.arange(10.0)
model = LinearRegression().fit(x.reshape(-1, 1), 2 * x + 1)
frame = pandas.DataFrame({"x": x, "y": scipy.special.expit(x)})
plt.plot(frame.x, frame.y)
plt.savefig("plot.png")
print("coef", round(float(model.coef_[0]), 3), "rows", len(frame), "numpy", numpy.__version__)
EOF
python3 check.py && test -s plot.png && python3 -c 'import PIL.Image; print(PIL.Image.open("plot.png").size)'
"""
    output = ok(sandbox, script)
    assert "coef 2.0 rows 10" in output
    assert "(640, 480)" in output


def test_node(sandbox):
    assert ok(sandbox, "node -e 'console.log(\"node\", 6 * 7)'").strip() == "node 42"


def test_typescript_with_esbuild(sandbox):
    script = r"""mkdir -p /work/ts && cd /work/ts
cat > main.ts <<'EOF'
interface Point { x: number; y: number }
const norm = (p: Point): number => Math.hypot(p.x, p.y);
console.log(`ts ${norm({ x: 3, y: 4 })}`);
EOF
esbuild main.ts --platform=node --format=cjs --log-level=warning --outfile=main.js && node main.js
"""
    assert ok(sandbox, script).strip() == "ts 5"


def test_typescript_tsc_typecheck(sandbox):
    # tsc is slow (~9 s on one CPU), so runs transpile with esbuild; tsc is there for type checks.
    script = r"""mkdir -p /work/tsc && cd /work/tsc
printf 'const n: number = 1;\nconsole.log(n);\n' > good.ts
printf 'const n: number = "one";\nconsole.log(n);\n' > bad.ts
tsc --noEmit --strict --target es2020 good.ts && echo good-ok
tsc --noEmit --strict --target es2020 bad.ts || echo bad-rejected
"""
    output = ok(sandbox, script)
    assert "good-ok" in output and "bad-rejected" in output and "TS2322" in output


def test_c_and_cpp(sandbox):
    script = r"""mkdir -p /work/c && cd /work/c
cat > hello.c <<'EOF'
#include <stdio.h>
int main(void) { printf("c %d\n", 6 * 7); return 0; }
EOF
cat > hello.cpp <<'EOF'
#include <iostream>
#include <vector>
int main() { std::vector<int> v{1, 2, 3}; std::cout << "cpp " << v.size() << "\n"; }
EOF
gcc -O2 -o hello_c hello.c && ./hello_c
g++ -O2 -std=c++17 -o hello_cpp hello.cpp && ./hello_cpp
make --version
"""
    output = ok(sandbox, script)
    assert "c 42" in output and "cpp 3" in output and "GNU Make" in output


def test_java(sandbox):
    script = r"""mkdir -p /work/java && cd /work/java
cat > Hello.java <<'EOF'
public class Hello {
    public static void main(String[] a) { System.out.println("java " + Runtime.version().feature()); }
}
EOF
javac Hello.java && java -cp . Hello
"""
    assert "java 17" in ok(sandbox, script)


def test_go(sandbox):
    script = r"""mkdir -p /work/go && cd /work/go
cat > hello.go <<'EOF'
package main

import "fmt"

func main() { fmt.Println("go", 6*7) }
EOF
go build -o hello hello.go && ./hello
"""
    assert "go 42" in ok(sandbox, script)


def test_rust(sandbox):
    script = r"""mkdir -p /work/rust && cd /work/rust
cat > hello.rs <<'EOF'
fn main() { let v: Vec<u32> = (1..=3).collect(); println!("rust {}", v.iter().sum::<u32>()); }
EOF
rustc -o hello hello.rs && ./hello
"""
    assert "rust 6" in ok(sandbox, script)


def test_gui_tools_present(sandbox):
    ok(sandbox, "command -v Xvfb x11vnc socat tini")


# --- cost of a fresh container vs exec in a warm one ----------------------------------------------------------------


def test_run_vs_exec_timing(client, runtime_image, sandbox):
    runs, execs = [], []
    for _ in range(3):
        started = time.monotonic()
        output = client.containers.run(runtime_image, ["true"], remove=True, **SANDBOX_KWARGS)
        runs.append(time.monotonic() - started)
        assert output == b""
    for _ in range(5):
        started = time.monotonic()
        code, _ = sandbox.exec_run(["true"], user="sandbox")
        execs.append(time.monotonic() - started)
        assert code == 0
    run_s, exec_s = statistics.median(runs), statistics.median(execs)
    print(f"containers.run(remove=True) median {run_s:.3f} s; exec_run median {exec_s:.3f} s")
    assert exec_s < 2 and run_s < 15
