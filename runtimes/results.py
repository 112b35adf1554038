"""What a run produces: one phase's raw outcome, and the whole run's result as the store and the pages see it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUSES = ("ok", "error", "compile_error", "timeout", "memory", "output_limit", "killed", "sandbox_error")
TRUNCATION_MARKER = "\n[output truncated: the combined output limit of {limit} bytes was reached]\n"


@dataclass
class PhaseResult:
    """One command run inside the sandbox (install, build or run)."""

    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool = False
    out_of_memory: bool = False
    output_truncated: bool = False
    signal: int | None = None  # the signal that ended the process, if any
    sandbox_error: str | None = None  # the sandbox itself failed (not the program)

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.out_of_memory or self.sandbox_error)


@dataclass
class Artifact:
    name: str  # path relative to the workspace
    path: str  # where the file is kept on the host
    mime: str
    size: int


@dataclass
class RunResult:
    environment: str
    language: str
    backend: str
    status: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    compile_output: str = ""
    install_output: str = ""
    install_ms: int | None = None
    build_ms: int | None = None
    run_ms: int | None = None
    duration_ms: int = 0
    artifacts: list[Artifact] = field(default_factory=list)
    message: str = ""  # a sentence for the user when the status needs explaining

    def as_dict(self) -> dict:
        return asdict(self)
