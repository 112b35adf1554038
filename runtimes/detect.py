"""Which sandbox backends this machine offers, and which one runs code when the user has not chosen."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BACKEND_ENV = "ARENA_SANDBOX"
BACKENDS = ("docker", "bwrap")
# Podman's Docker-compatible socket, used when DOCKER_HOST is unset and no Docker socket exists.
PODMAN_SOCKETS = ("/run/podman/podman.sock", f"/run/user/{os.getuid()}/podman/podman.sock")
DOCKER_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class BackendStatus:
    name: str
    available: bool
    detail: str


def docker_base_url() -> str | None:
    """DOCKER_HOST if set, else the first engine socket that exists (Docker's, then Podman's)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    for socket in (DOCKER_SOCKET, *PODMAN_SOCKETS):
        if Path(socket).exists():
            return f"unix://{socket}"
    return None


def check_docker(timeout_s: float = 15.0) -> BackendStatus:
    url = docker_base_url()
    if url is None:
        return BackendStatus("docker", False, "no container engine socket: " + _container_hint())
    try:
        import docker

        client = docker.DockerClient(base_url=url, timeout=timeout_s)
        try:
            version = client.version()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means the engine is unusable; the detail says why
        return BackendStatus("docker", False, f"{url} does not answer ({type(exc).__name__}): {_container_hint()}")
    engines = [c.get("Name", "") for c in version.get("Components", [])]
    engine = "Podman" if any("Podman" in name for name in engines) else "Docker"
    return BackendStatus("docker", True, f"{engine} {version.get('Version', '?')} at {url}")


def check_bwrap(timeout_s: float = 5.0) -> BackendStatus:
    if platform.system() != "Linux":
        return BackendStatus("bwrap", False, "bubblewrap needs Linux")
    path = shutil.which("bwrap")
    if path is None:
        return BackendStatus("bwrap", False, "not installed: `sudo apt-get install bubblewrap`")
    try:
        probe = subprocess.run(
            [path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return BackendStatus("bwrap", False, f"{path} failed to start: {exc}")
    if probe.returncode != 0:
        reason = probe.stderr.strip() or f"exit {probe.returncode}"
        return BackendStatus("bwrap", False, f"{path} cannot create namespaces here: {reason}")
    return BackendStatus("bwrap", True, f"{path} (user namespaces work)")


def check_backends() -> list[BackendStatus]:
    return [check_docker(), check_bwrap()]


def choose_backend(statuses: list[BackendStatus], requested: str | None = None) -> str | None:
    """The user's choice (argument, then ARENA_SANDBOX) if available, else the first available; None if none."""
    requested = requested or os.environ.get(BACKEND_ENV) or "auto"
    available = [s.name for s in statuses if s.available]
    if requested != "auto":
        return requested if requested in available else None
    return available[0] if available else None


def no_backend_message() -> str:
    return (
        "No sandbox is available, so code will not run. Install one: "
        + _container_hint()
        + " or, on Linux, `sudo apt-get install bubblewrap`."
    )


def _container_hint() -> str:
    if platform.system() == "Darwin":
        return "start Docker Desktop."
    return "install Docker Engine, or Podman and start its socket (`make podman`)."
