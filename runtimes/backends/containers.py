"""The docker backend: containers through the Docker API (Docker Engine, Docker Desktop, or Podman's socket).

A warm pool keeps started containers ready so a run does not wait for one. A container serves exactly one run and
is destroyed afterwards: nothing a program leaves behind (daemons, files) can reach the next run.
"""

from __future__ import annotations

import atexit
import io
import os
import tarfile
import threading
import time
from pathlib import Path

from runtimes.backends.output import OutputCapture

from runtimes.backends.base import DEPS, VENV, WORKDIR, OutputCallback, PhaseSpec
from runtimes.limits import MIB, Limits
from runtimes.results import PhaseResult

LABEL = "code-arena"
SANDBOX_USER = "1000:1000"
BASE_ENV = {
    "PATH": f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "MPLBACKEND": "Agg",
}
KILLED_EXIT = 137  # 128 + SIGKILL


def container_options(image: str, limits: Limits, *, network: bool, mounts: list | None = None) -> dict:
    """The isolation every container gets; `network` only for installs."""
    return {
        "image": image,
        "command": ["sleep", "infinity"],
        "detach": True,
        "user": SANDBOX_USER,
        "working_dir": WORKDIR,
        "environment": BASE_ENV,
        "network_mode": "host" if network else "none",
        "mem_limit": limits.memory_mb * MIB,
        "memswap_limit": limits.memory_mb * MIB,  # no swap: the memory limit is the real limit
        "pids_limit": limits.processes,
        "nano_cpus": int(limits.cpus * 1e9),
        "read_only": True,
        "tmpfs": {
            "/tmp": f"rw,size={limits.workspace_mb}m,mode=1777,exec",
            WORKDIR: f"rw,size={limits.workspace_mb}m,mode=1777,exec,uid=1000,gid=1000",
        },
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,  # an init as PID 1 reaps zombies
        "labels": {LABEL: "1", f"{LABEL}.owner": str(os.getpid())},
        "mounts": mounts or [],
        "stdin_open": False,
    }


class WarmPool:
    """Started containers waiting for a run; refilled in the background after each take."""

    def __init__(self, client, image: str, limits: Limits, size: int = 2) -> None:
        self.client, self.image, self.limits, self.size = client, image, limits, size
        self._ready: list = []
        self._lock = threading.Lock()
        self._closed = False
        self._refilling = False
        if size > 0:
            self._refill_async()

    def take(self):
        with self._lock:
            container = self._ready.pop() if self._ready else None
        self._refill_async()
        return container or self._start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
        for container in ready:
            _destroy(container)

    def _start(self):
        return self.client.containers.run(**container_options(self.image, self.limits, network=False))

    def _refill_async(self) -> None:
        with self._lock:
            if self._refilling or self._closed or len(self._ready) >= self.size:
                return
            self._refilling = True
        threading.Thread(target=self._refill, name="warm-pool", daemon=True).start()

    def _refill(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed or len(self._ready) >= self.size:
                        return
                container = self._start()
                with self._lock:
                    if self._closed:
                        _destroy(container)
                        return
                    self._ready.append(container)
        except Exception:  # noqa: BLE001 - a failed refill only means the next run starts its own container
            return
        finally:
            with self._lock:
                self._refilling = False


class DockerBackend:
    name = "docker"

    def __init__(self, client=None, image: str | None = None, limits: Limits | None = None, pool_size: int = 2):
        from runtimes import images

        self.client = client or images.docker_client()
        self.image = image or images.RUNTIME_IMAGE
        self.limits = limits or Limits()
        remove_leftovers(self.client)
        self.pool = WarmPool(self.client, self.image, self.limits, pool_size)
        atexit.register(self.close)

    def session(self, workspace: Path, deps_dir: Path | None, limits: Limits) -> ContainerSession:
        if deps_dir is None and limits == self.limits:
            container = self.pool.take()
        else:  # extra mounts or other limits: a container made for this run
            mounts = [_bind(deps_dir, DEPS, read_only=True)] if deps_dir else []
            container = self.client.containers.run(**container_options(self.image, limits, network=False,
                                                                       mounts=mounts))
        return ContainerSession(self, container, workspace, limits)

    def run_phase(self, spec: PhaseSpec, limits: Limits, on_output: OutputCallback | None = None) -> PhaseResult:
        """A one-off container: used for installs (network on, deps folder writable) and probes."""
        mounts = [_bind(spec.deps_dir, DEPS, read_only=not spec.deps_writable)] if spec.deps_dir else []
        try:
            container = self.client.containers.run(**container_options(self.image, limits, network=spec.network,
                                                                       mounts=mounts))
        except Exception as exc:  # noqa: BLE001 - reported as a sandbox failure, never run unsandboxed
            return _sandbox_failure(f"The container engine could not start a container: {exc}")
        session = ContainerSession(self, container, spec.workspace, limits)
        try:
            return session.run(spec.argv, spec.timeout_s, spec.env, on_output)
        finally:
            session.close()

    def close(self) -> None:
        self.pool.close()


class ContainerSession:
    def __init__(self, backend: DockerBackend, container, workspace: Path, limits: Limits) -> None:
        self.backend, self.container, self.workspace, self.limits = backend, container, workspace, limits
        self._copy_in()

    def run(self, argv: list[str], timeout_s: float, env: dict[str, str],
            on_output: OutputCallback | None = None) -> PhaseResult:
        api = self.backend.client.api
        started = time.monotonic()
        try:
            exec_id = api.exec_create(self.container.id, argv, environment={**BASE_ENV, **env}, workdir=WORKDIR,
                                      user=SANDBOX_USER, stdin=False)["Id"]
            stream = api.exec_start(exec_id, stream=True, demux=True)
        except Exception as exc:  # noqa: BLE001 - the engine's failure, not the program's
            return _sandbox_failure(f"The container engine could not run the command: {exc}")
        capture = OutputCapture(self.limits.output_bytes, on_output)
        stopped = {"timeout": False, "output": False}

        def kill(reason: str) -> None:
            stopped[reason] = True
            _kill(self.container)

        timer = threading.Timer(timeout_s, kill, args=("timeout",))
        timer.start()
        try:
            for stdout, stderr in stream:
                if (stdout and not capture.add("stdout", stdout)) or (stderr and not capture.add("stderr", stderr)):
                    kill("output")
                    break
        except Exception:  # noqa: BLE001, S110 - the stream ends abruptly when the container is killed
            pass
        finally:
            timer.cancel()
        duration_ms = int((time.monotonic() - started) * 1000)
        exit_code = _exit_code(api, exec_id)
        oom = not stopped["timeout"] and exit_code == KILLED_EXIT and self._memory_exhausted()
        killed = stopped["timeout"] or stopped["output"] or exit_code == KILLED_EXIT
        return PhaseResult(
            exit_code=None if (stopped["timeout"] or stopped["output"]) else exit_code,
            stdout=capture.text("stdout"),
            stderr=capture.text("stderr"),
            duration_ms=duration_ms,
            timed_out=stopped["timeout"],
            out_of_memory=oom,
            output_truncated=capture.truncated,
            signal=9 if killed and not oom else None,
        )

    def close(self) -> None:
        self._copy_out()
        _destroy(self.container)

    def _copy_in(self) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for path in sorted(self.workspace.rglob("*")):
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(self.workspace)))
                info.uid = info.gid = 1000
                info.uname = info.gname = ""
                if info.isfile():
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
                elif info.isdir():
                    tar.addfile(info)
        self.container.put_archive(WORKDIR, buffer.getvalue())

    def _copy_out(self) -> None:
        """Bring back what the program wrote; links and special files are dropped, sizes are capped by tmpfs."""
        try:
            chunks, _ = self.container.get_archive(f"{WORKDIR}/.")
            data = b"".join(chunks)
        except Exception:  # noqa: BLE001 - a killed container may have nothing to give back
            return
        root = self.workspace.resolve()
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                target = (root / member.name).resolve()
                if target != root and root not in target.parents:
                    continue
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    if source is not None:
                        if target.is_symlink():
                            target.unlink()
                        target.write_bytes(source.read())

    def _memory_exhausted(self) -> bool:
        probe = ("cat /sys/fs/cgroup/memory.events 2>/dev/null | grep -q '^oom_kill [1-9]' || "
                 "test \"$(cat /sys/fs/cgroup/memory/memory.failcnt 2>/dev/null || echo 0)\" != 0")
        try:
            result = self.container.exec_run(["sh", "-c", probe], user="0")
        except Exception:  # noqa: BLE001 - an unreadable counter means we cannot tell; report a plain kill
            return False
        return result.exit_code == 0


def remove_leftovers(client) -> None:
    """Containers of earlier processes that died without cleaning up (a crash, a kill -9)."""
    try:
        stale = client.containers.list(all=True, filters={"label": LABEL})
    except Exception:  # noqa: BLE001
        return
    for container in stale:
        owner = container.labels.get(f"{LABEL}.owner", "")
        if not owner.isdigit() or not _process_alive(int(owner)):
            _destroy(container)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bind(source: Path, target: str, read_only: bool):
    from docker.types import Mount

    return Mount(target=target, source=str(source), type="bind", read_only=read_only)


def _kill(container) -> None:
    try:
        container.kill()
    except Exception:  # noqa: BLE001, S110 - already gone
        pass


def _destroy(container) -> None:
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001, S110 - already gone
        pass


def _exit_code(api, exec_id: str) -> int | None:
    for _ in range(50):
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            return info.get("ExitCode")
        time.sleep(0.02)
    return None


def _sandbox_failure(message: str) -> PhaseResult:
    return PhaseResult(exit_code=None, stdout="", stderr="", duration_ms=0, sandbox_error=message)
