"""Programs in every program environment, end to end through the engine, on both sandbox backends."""

import pytest

from core.extraction import Program, extract_program
from runtimes.engine import Engine
from runtimes.limits import Limits
from tests.sandbox_backends import backend_fixture

pytestmark = [pytest.mark.sandbox, pytest.mark.docker]

LIMITS = Limits(run_timeout_s=10, build_timeout_s=60)


backend = backend_fixture(LIMITS)


@pytest.fixture
def engine(backend, tmp_path):
    return Engine(backend, LIMITS, root=tmp_path / "runs")


HELLO = {
    "python": ("main.py", 'print("hello from python")'),
    "javascript": ("main.js", 'console.log("hello from " + "javascript")'),
    "typescript": ("main.ts", 'const who: string = "typescript";\nconsole.log(`hello from ${who}`);'),
    "c": ("main.c", '#include <stdio.h>\nint main(void) { puts("hello from c"); return 0; }'),
    "cpp": ("main.cpp", '#include <iostream>\nint main() { std::cout << "hello from cpp" << std::endl; }'),
    "java": ("Main.java", 'public class Main { public static void main(String[] a) {'
                          ' System.out.println("hello from java"); } }'),
    "go": ("main.go", 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello from go") }'),
    "rust": ("main.rs", 'fn main() { println!("hello from rust"); }'),
}


def program(environment: str, path: str, code: str, **fields) -> Program:
    language = "python" if environment == "python" else environment
    return Program(environment=environment, language=language, files={path: code}, entry=path, **fields)


@pytest.mark.parametrize("environment", sorted(HELLO))
def test_hello_world_in_every_language(engine, environment):
    path, code = HELLO[environment]
    streamed = []
    result = engine.execute(program(environment, path, code), on_output=lambda s, t: streamed.append((s, t)))
    assert result.status == "ok", (result.message, result.compile_output, result.stderr)
    assert result.stdout == f"hello from {environment}\n"
    assert ("stdout", f"hello from {environment}\n") in streamed or "".join(t for s, t in streamed if s == "stdout")
    assert result.exit_code == 0 and result.run_ms is not None


def test_compile_errors_are_reported_apart(engine):
    result = engine.execute(program("c", "main.c", "int main(void) { return x }"))
    assert result.status == "compile_error"
    assert "undeclared" in result.compile_output and result.stdout == ""


def test_runtime_error_keeps_stderr_and_exit_code(engine):
    result = engine.execute(program("python", "main.py", "print('before')\nraise ValueError('boom')"))
    assert result.status == "error" and result.exit_code == 1
    assert result.stdout == "before\n" and "ValueError: boom" in result.stderr


def test_stdin_is_empty(engine):
    result = engine.execute(program("python", "main.py", "import sys\nprint(repr(sys.stdin.read()))"))
    assert result.stdout == "''\n"


def test_matplotlib_show_becomes_a_figure_artifact(engine):
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('t')\nplt.show()\nprint('done')"
    result = engine.execute(program("python", "main.py", code))
    assert result.status == "ok", result.stderr
    figures = [a for a in result.artifacts if a.name.endswith(".png")]
    assert len(figures) == 1 and figures[0].mime == "image/png" and figures[0].size > 1000
    with open(figures[0].path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_files_the_program_writes_are_artifacts_but_its_sources_are_not(engine):
    code = "open('result.csv', 'w').write('a,b\\n1,2\\n')\nprint('ok')"
    result = engine.execute(program("python", "main.py", code))
    assert [a.name for a in result.artifacts] == ["result.csv"]


def test_several_files_and_local_imports(engine):
    answer = (
        "Two files:\n\n**utils.py**\n```python\ndef double(x):\n    return 2 * x\n```\n\n"
        "**main.py**\n```python\nfrom utils import double\nprint(double(21))\n```\n"
    )
    result = engine.execute(extract_program(answer))
    assert result.status == "ok", result.stderr
    assert result.stdout == "42\n"


def test_preview_environments_are_not_run_as_programs(engine):
    result = engine.execute(program("html", "index.html", "<h1>hi</h1>"))
    assert result.status == "sandbox_error" and "live preview" in result.message


def test_missing_packages_are_installed_once_then_reused(engine):
    code = "import tabulate\nprint(tabulate.tabulate([[1, 2]], headers=['a', 'b'], tablefmt='plain'))"
    first = engine.execute(program("python", "main.py", code, python_packages=["tabulate"]))
    assert first.status == "ok", (first.message, first.install_output[-2000:], first.stderr)
    assert first.install_ms is not None and first.stdout.split() == ["a", "b", "1", "2"]
    second = engine.execute(program("python", "main.py", code, python_packages=["tabulate"]))
    assert second.status == "ok" and second.install_ms is None  # cached: no install phase


def test_preinstalled_packages_need_no_install(engine):
    code = "import numpy, pandas\nprint(int(numpy.arange(4).sum()), len(pandas.DataFrame({'a': [1, 2]})))"
    result = engine.execute(program("python", "main.py", code, python_packages=["numpy", "pandas"]))
    assert result.status == "ok", result.stderr
    assert result.install_ms is None and result.stdout == "6 2\n"


def test_a_package_that_does_not_exist_fails_the_install_clearly(engine):
    result = engine.execute(program("python", "main.py", "import nope", python_packages=["no-such-package-zq9x"]))
    assert result.status == "error" and "no-such-package-zq9x" in result.message
    assert result.run_ms is None


def test_preinstalled_npm_packages_resolve_without_install(engine):
    code = "const _ = require('lodash');\nconsole.log(_.chunk([1, 2, 3, 4], 2).length);"
    result = engine.execute(program("javascript", "main.js", code, npm_packages=["lodash"]))
    assert result.status == "ok", (result.message, result.stderr)
    assert result.install_ms is None and result.stdout == "2\n"


def test_other_npm_packages_are_installed(engine):
    code = "const leftPad = require('left-pad');\nconsole.log(leftPad('7', 3, '0'));"
    result = engine.execute(program("javascript", "main.js", code, npm_packages=["left-pad"]))
    assert result.status == "ok", (result.message, result.install_output[-1500:], result.stderr)
    assert result.stdout == "007\n" and result.install_ms is not None


def test_plotly_and_pil_show_become_artifacts_too(engine):
    code = ("import plotly.graph_objects as go\nfrom PIL import Image\n"
            "go.Figure(go.Bar(x=[1, 2], y=[3, 4])).show()\nImage.new('RGB', (40, 30), 'red').show()\nprint('ok')")
    result = engine.execute(program("python", "main.py", code))
    assert result.status == "ok", result.stderr
    kinds = sorted(a.mime for a in result.artifacts)
    assert kinds == ["image/png", "text/html"], [a.name for a in result.artifacts]
