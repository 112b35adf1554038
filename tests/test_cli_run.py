"""`python -m core run` as a user runs it, on both backends, and what it says when no sandbox is there."""

import json
import os
import subprocess
import sys

import pytest

from core.config import REPO_ROOT
from runtimes.sandbox import NoSandbox, open_backend

ANSWER = """Here is a solution that reads numbers and plots them.

```bash
pip install numpy matplotlib
```

```python
import sys
import matplotlib.pyplot as plt
numbers = [int(x) for x in sys.stdin.read().split()]
plt.bar(range(len(numbers)), numbers)
plt.show()
print("sum =", sum(numbers))
```

Run it and pipe in some numbers.
"""


def run_cli(tmp_path, *args, stdin=None):
    env = {**os.environ, "ARENA_RUNS": str(tmp_path / "runs")}
    return subprocess.run([sys.executable, "-m", "core", "run", *args], cwd=REPO_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.sandbox
@pytest.mark.docker
@pytest.mark.parametrize("backend", ["docker", "bwrap"])
def test_run_markdown_answer_with_stdin_and_json(tmp_path, backend):
    answer = tmp_path / "answer.md"
    answer.write_text(ANSWER)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("3 4 5\n")
    done = run_cli(tmp_path, str(answer), "--backend", backend, "--stdin", str(numbers), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("environment", "language", "status", "exit_code", "stdout", "stderr", "compile_output",
                "duration_ms", "artifacts"):
        assert key in result
    assert (result["environment"], result["language"], result["status"], result["backend"]) == (
        "python", "python", "ok", backend)
    assert result["stdout"] == "sum = 12\n" and result["install_ms"] is None  # numpy/matplotlib are preinstalled
    assert len(result["artifacts"]) == 1 and result["artifacts"][0].endswith("figure_1.png")


@pytest.mark.sandbox
@pytest.mark.docker
def test_run_plain_source_file_streams_output_and_reports_compile_errors(tmp_path):
    good = tmp_path / "hello.c"
    good.write_text('#include <stdio.h>\nint main(void){ printf("hi\\n"); return 0; }\n')
    bad = tmp_path / "bad.rs"
    bad.write_text("fn main() { let x: i32 = \"text\"; }\n")
    ok = run_cli(tmp_path, str(good), "--backend", "bwrap")
    assert ok.returncode == 0 and ok.stdout == "hi\n" and "[c · bwrap] ok" in ok.stderr
    failed = run_cli(tmp_path, str(bad), "--backend", "bwrap", "--json")
    result = json.loads(failed.stdout)
    assert failed.returncode == 1 and result["status"] == "compile_error"
    assert "mismatched types" in result["compile_output"]


def test_timeout_flag_is_honoured(tmp_path):
    script = tmp_path / "sleepy.py"
    script.write_text("import time\ntime.sleep(60)\n")
    done = run_cli(tmp_path, str(script), "--backend", "bwrap", "--timeout", "1", "--json")
    assert json.loads(done.stdout)["status"] == "timeout"


def test_without_a_sandbox_code_is_not_run_and_the_message_says_how(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(NoSandbox, match="Docker|Podman|bubblewrap"):
        open_backend("docker")
    with pytest.raises(NoSandbox, match="Unknown sandbox backend"):
        open_backend("chroot")
    script = tmp_path / "hello.py"
    script.write_text("print('must not run')")
    refused = run_cli(tmp_path, str(script), "--backend", "docker")
    assert refused.returncode == 3 and "must not run" not in refused.stdout
    assert "No sandbox is available, so code will not run" in refused.stderr


@pytest.mark.docker
def test_auto_uses_bubblewrap_while_the_image_is_missing_but_an_explicit_docker_choice_says_so(monkeypatch):
    from runtimes import images
    from runtimes.backends.bwrap import BwrapBackend

    monkeypatch.setattr(images, "RUNTIME_IMAGE", "code-arena/runtime:not-built-yet")
    monkeypatch.delenv("ARENA_SANDBOX", raising=False)
    backend = open_backend("auto", pool_size=0)
    try:
        assert isinstance(backend, BwrapBackend)
    finally:
        backend.close()
    with pytest.raises(NoSandbox, match="not built yet"):
        open_backend("docker", pool_size=0)
    monkeypatch.setenv("ARENA_SANDBOX", "docker")
    with pytest.raises(NoSandbox, match="not built yet"):
        open_backend(None, pool_size=0)
