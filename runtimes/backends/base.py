"""The one interface every sandbox backend implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from runtimes.limits import Limits
from runtimes.results import PhaseResult

# Called with ("stdout" | "stderr", text) as output arrives, so pages and the CLI can show it live.
OutputCallback = Callable[[str, str], None]

WORKDIR = "/work"  # where the workspace appears inside every sandbox
VENV = "/opt/venv"  # the preinstalled Python environment, at the same path in every backend
DEPS = "/opt/deps"  # cached extra dependencies installed for this run (read-only while the program runs)


@dataclass
class PhaseSpec:
    argv: list[str]
    workspace: Path  # host folder shown at WORKDIR; the only place the program may write (besides /tmp)
    timeout_s: float
    network: bool = False  # only the install phase may reach package registries
    env: dict[str, str] = field(default_factory=dict)
    deps_dir: Path | None = None  # host folder shown read-only at DEPS (writable during install)
    deps_writable: bool = False
    # With network: the host's CA bundle, shown at CA_BUNDLE, so installs work behind a TLS-inspecting proxy.
    ca_bundle: Path | None = None


CA_BUNDLE = "/etc/ssl/certs/arena-host-ca.crt"
CA_ENV = {name: CA_BUNDLE for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")}


def host_ca_bundle() -> Path | None:
    """The host's trusted certificates (Debian/Ubuntu, Fedora/RHEL, Alpine locations), if any."""
    for candidate in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


class Session(Protocol):
    """The build and run phases of one run, in one sandbox instance (a container), or one per phase (bwrap)."""

    def run(self, argv: list[str], timeout_s: float, env: dict[str, str],
            on_output: OutputCallback | None = None) -> PhaseResult: ...

    def close(self) -> None:
        """Bring the workspace's final contents back to the host folder; destroy the sandbox instance."""
        ...


class Backend(Protocol):
    name: str

    def run_phase(self, spec: PhaseSpec, limits: Limits, on_output: OutputCallback | None = None) -> PhaseResult:
        """Run one command isolated under `limits`; never raise for the program's own failures."""
        ...

    def session(self, workspace: Path, deps_dir: Path | None, limits: Limits) -> Session:
        """A sandbox for a run's build and run phases (no network)."""
        ...

    def close(self) -> None:
        """Release pooled resources (containers, cgroups); nothing may survive it."""
        ...


class PhaseSession:
    """A session for backends whose phases are independent sandboxes sharing the host workspace folder."""

    def __init__(self, backend: Backend, workspace: Path, deps_dir: Path | None, limits: Limits) -> None:
        self.backend, self.workspace, self.deps_dir, self.limits = backend, workspace, deps_dir, limits

    def run(self, argv: list[str], timeout_s: float, env: dict[str, str],
            on_output: OutputCallback | None = None) -> PhaseResult:
        spec = PhaseSpec(argv=argv, workspace=self.workspace, timeout_s=timeout_s, env=env, deps_dir=self.deps_dir)
        return self.backend.run_phase(spec, self.limits, on_output)

    def close(self) -> None:
        return None
