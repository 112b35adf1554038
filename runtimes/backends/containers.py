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

from runtimes.backends.base import CA_BUNDLE, DEPS, VENV, WORKDIR, OutputCallback, PhaseSpec
from runtimes.backends.cgroups import pid_alive
from runtimes.backends.output import OutputCapture
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
        # The idle main process runs as root so `kill -1` from the sandbox user (see _kill_processes) cannot end
        # the container; every command of the program runs as the sandbox user, never as root.
        "user": "0:0",
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
            WORKDIR: f"rw,size={limits.workspace_mb}m,mode=1777,exec",
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
        self._refill_thread: threading.Thread | None = None
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
            refill = self._refill_thread
        for container in ready:
            _destroy(container)
        if refill is not None:
            refill.join(60)  # a container being started right now is destroyed by the refill itself

    def _start(self):
        return self.client.containers.run(**container_options(self.image, self.limits, network=False))

    def _refill_async(self) -> None:
        with self._lock:
            if self._refilling or self._closed or len(self._ready) >= self.size:
                return
            self._refilling = True
            self._refill_thread = threading.Thread(target=self._refill, name="warm-pool", daemon=True)
            self._refill_thread.start()

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
        self._removals: list[threading.Thread] = []
        self._removals_lock = threading.Lock()
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
        if spec.network and spec.ca_bundle:
            mounts.append(_bind(spec.ca_bundle, CA_BUNDLE, read_only=True))
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

    def discard(self, container) -> None:
        """Remove a used container in the background: the run's result does not wait for the engine's cleanup."""
        thread = threading.Thread(target=_destroy, args=(container,), name="discard-container", daemon=True)
        with self._removals_lock:
            self._removals = [t for t in self._removals if t.is_alive()] + [thread]
        thread.start()

    def close(self) -> None:
        self.pool.close()
        with self._removals_lock:
            pending = list(self._removals)
        for thread in pending:
            thread.join(30)


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
        stopped = {"timeout": False, "output": False}

        def kill(reason: str) -> None:
            stopped[reason] = True
            _kill_processes(self.container)

        sink = OutputCapture(self.limits.output_bytes, on_output, on_limit=lambda: kill("output"))
        timer = threading.Timer(timeout_s, kill, args=("timeout",))
        timer.start()
        try:
            # Read to the end even past the limit (the sink drops the excess): the exec session must end for
            # Podman to reap its processes, or the container cannot be removed.
            for stdout, stderr in stream:
                if stdout:
                    sink.add("stdout", stdout)
                if stderr:
                    sink.add("stderr", stderr)
        except Exception:  # noqa: BLE001, S110 - the stream ends abruptly when the container is killed
            pass
        finally:
            timer.cancel()
            sink.close()
        duration_ms = int((time.monotonic() - started) * 1000)
        exit_code = _exit_code(api, exec_id)
        oom = not stopped["timeout"] and exit_code == KILLED_EXIT and self._memory_exhausted()
        killed = stopped["timeout"] or stopped["output"] or exit_code == KILLED_EXIT
        return PhaseResult(
            exit_code=None if (stopped["timeout"] or stopped["output"]) else exit_code,
            stdout=sink.stdout,
            stderr=sink.stderr,
            duration_ms=duration_ms,
            timed_out=stopped["timeout"],
            out_of_memory=oom,
            output_truncated=sink.truncated,
            signal=9 if killed and not oom else None,
        )

    def close(self) -> None:
        self._copy_out()
        self.backend.discard(self.container)

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
        try:
            tar = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115 - closed by the with below
        except tarfile.TarError:
            return
        with tar:
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
        # cgroup v2 (memory.events) or v1 (memory.oom_control) both count OOM kills as "oom_kill N".
        probe = "cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null" \
                " | grep -q '^oom_kill [1-9]'"
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
        if not owner.isdigit() or not pid_alive(int(owner)):
            _destroy(container)


def _bind(source: Path, target: str, read_only: bool):
    from docker.types import Mount

    return Mount(target=target, source=str(source), type="bind", read_only=read_only)


def _kill_processes(container) -> None:
    """Kill every sandbox process (daemons included) but keep the container, so the workspace can be copied out.

    `kill -1` as the sandbox user reaches all of that user's processes; killing the container itself is the
    fallback (Podman can take seconds to confirm a container kill).
    """
    try:
        if container.exec_run(["kill", "-KILL", "-1"], user=SANDBOX_USER).exit_code in (0, 1, 137, -1):
            return
    except Exception:  # noqa: BLE001, S110 - fall through to killing the container
        pass
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
