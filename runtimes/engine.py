"""From an extracted program to a result: lay out files, install what is missing, build, run, collect.

One function, `execute`, used by the CLI, the pages, batch runs and benchmarks alike.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from runtimes import artifacts as artifact_collector
from runtimes import dependencies
from runtimes.backends.base import DEPS, Backend, OutputCallback
from runtimes.limits import Limits
from runtimes.recipes import recipe_for
from runtimes.recipes.base import ARENA_DIR, write_files
from runtimes.results import PhaseResult, RunResult

STDIN_FILE = f"{ARENA_DIR}/stdin.txt"


def runs_root() -> Path:
    """Each run's result folder lives here: `ARENA_RUNS`, or `runs/` in the repository root."""
    from core import config  # core has no dependency on runtimes, so this direction is safe

    return Path(os.environ.get("ARENA_RUNS") or config.REPO_ROOT / "runs")


class Engine:
    """Runs programs on one backend; remembers what the backend has preinstalled."""

    def __init__(self, backend: Backend, limits: Limits | None = None, root: Path | None = None) -> None:
        self.backend = backend
        self.limits = limits or Limits()
        self.root = root or runs_root()
        self._preinstalled_python: set[str] | None = None

    def execute(self, program, *, limits: Limits | None = None, on_output: OutputCallback | None = None,
                stdin: str | None = None) -> RunResult:
        """Run `program`; its standard input is empty unless `stdin` gives the text to feed it."""
        limits = limits or self.limits
        started = time.monotonic()
        recipe = recipe_for(program.environment)
        result = RunResult(environment=program.environment, language=program.language, backend=self.backend.name,
                           status="ok")
        if recipe.serves_preview or recipe.run is None:
            result.status = "sandbox_error"
            result.message = f"'{program.environment}' answers are shown as a live preview, not run as a program."
            return result
        workspace = self.new_workspace()
        write_files(program.files, workspace)
        recipe.prepare(program, workspace)
        if stdin is not None:
            (workspace / STDIN_FILE).parent.mkdir(exist_ok=True)
            (workspace / STDIN_FILE).write_text(stdin, encoding="utf-8")
        inputs = artifact_collector.snapshot(workspace)

        deps_dir, failure = self._install(program, workspace, limits, on_output, result)
        if failure is not None:
            return self._finish(result, started, failure)

        env = dict(recipe.env)
        if deps_dir is not None:
            env["PYTHONPATH"] = ":".join(filter(None, [env.get("PYTHONPATH"), DEPS]))
        session = self.backend.session(workspace, deps_dir, limits)
        try:
            build = recipe.build(program)
            if build:
                phase = session.run(build, limits.build_timeout_s, env, _relabel(on_output, "build"))
                result.build_ms = phase.duration_ms
                result.compile_output = _joined(phase.stdout, phase.stderr)
                if not phase.succeeded:
                    result.exit_code = phase.exit_code
                    return self._finish(result, started, _build_status(phase), phase)
            command = recipe.run(program)
            if stdin is not None:  # fed from a file in the workspace, the same way on every backend
                command = ["sh", "-c", f'exec "$@" < {STDIN_FILE}', "run", *command]
            phase = session.run(command, limits.run_timeout_s, env, on_output)
        finally:
            session.close()
        result.run_ms = phase.duration_ms
        result.exit_code = phase.exit_code
        result.stdout, result.stderr = phase.stdout, phase.stderr
        result.artifacts = artifact_collector.collect(workspace, inputs, limits.artifact_bytes)
        return self._finish(result, started, _run_status(phase), phase)

    def new_workspace(self) -> Path:
        folder = self.root / time.strftime("%Y%m%d") / uuid.uuid4().hex[:12] / "work"
        folder.mkdir(parents=True)
        return folder

    def preinstalled_python(self, workspace: Path) -> set[str]:
        if self._preinstalled_python is None:
            self._preinstalled_python = dependencies.installed_python(self.backend, workspace, self.limits)
        return self._preinstalled_python

    def _install(self, program, workspace, limits, on_output, result) -> tuple[Path | None, str | None]:
        wanted = bool(program.python_packages or program.npm_packages)
        if not wanted:
            return None, None
        preinstalled = self.preinstalled_python(workspace) if program.python_packages else set()
        plan = dependencies.plan(program, preinstalled, dependencies.preinstalled_npm())
        folder, phase = dependencies.install(plan, self.backend, self.root / "deps", workspace, limits,
                                             _relabel(on_output, "install"))
        if phase is None:
            return folder, None
        result.install_ms = phase.duration_ms
        result.install_output = _joined(phase.stdout, phase.stderr)
        if phase.succeeded:
            return folder, None
        if phase.sandbox_error:
            result.message = phase.sandbox_error
            return None, "sandbox_error"
        result.message = "Installing the program's dependencies failed: " + ", ".join(plan.python + plan.npm)
        return None, "timeout" if phase.timed_out else "error"

    def _finish(self, result: RunResult, started: float, status: str, phase: PhaseResult | None = None) -> RunResult:
        result.status = status
        if phase is not None and phase.sandbox_error:
            result.message = phase.sandbox_error
        elif not result.message:
            result.message = _explain(status, phase)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        return result


def _limit_status(phase: PhaseResult) -> str | None:
    """The sandbox's reason for ending a phase, whichever phase it was."""
    if phase.sandbox_error:
        return "sandbox_error"
    if phase.timed_out:
        return "timeout"
    if phase.out_of_memory:
        return "memory"
    return None


def _build_status(phase: PhaseResult) -> str:
    return _limit_status(phase) or "compile_error"


def _run_status(phase: PhaseResult) -> str:
    limited = _limit_status(phase)
    if limited:
        return limited
    if phase.output_truncated:
        return "output_limit"
    # SIGKILL comes from outside the program (the sandbox, the kernel); a crash (SIGSEGV, SIGABRT…) is the
    # program's own error.
    if _signal_of(phase) == signal.SIGKILL:
        return "killed"
    return "ok" if phase.exit_code == 0 and _signal_of(phase) is None else "error"


def _signal_of(phase: PhaseResult) -> int | None:
    if phase.signal is not None:
        return phase.signal
    if phase.exit_code is not None and phase.exit_code < 0:
        return -phase.exit_code
    return None


def _explain(status: str, phase: PhaseResult | None) -> str:
    number = _signal_of(phase) if phase is not None else None
    if number and status in ("killed", "error"):
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        verb = "was killed by" if status == "killed" else "crashed with"
        return f"The program {verb} signal {name}."
    return {
        "timeout": "The program ran past its time limit and was stopped.",
        "memory": "The program ran out of its memory limit and was stopped.",
        "output_limit": "The program printed more than the output limit; the rest was cut.",
        "compile_error": "The program did not compile.",
        "error": "The program exited with an error.",
    }.get(status, "")


def _joined(stdout: str, stderr: str) -> str:
    return "\n".join(part for part in (stdout, stderr) if part)


def _relabel(on_output: OutputCallback | None, label: str) -> OutputCallback | None:
    if on_output is None:
        return None
    return lambda _stream, text: on_output(label, text)
