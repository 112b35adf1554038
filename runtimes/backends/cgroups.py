"""Per-run resource limits for host-process sandboxes (bubblewrap).

A run gets its own cgroup: memory (no swap), processes+threads (pids), CPU quota, and a freezer so every process in it
can be stopped and killed at once, whatever it forked or daemonised. cgroup v1 (controllers mounted one per folder
under /sys/fs/cgroup, as on this machine) and v2 (one unified tree, as on most laptops) are both supported, nested
under the caller's own cgroup when possible so the caller's limits still apply.

When no cgroup is writable (a non-root laptop whose session does not delegate one), the run falls back to setrlimit:
RLIMIT_AS (virtual memory), RLIMIT_CPU and RLIMIT_NPROC. Those are weaker, and `limits_note` says how.

Everything here is plain file I/O on cgroupfs; `attach_self` runs in the forked child before exec and only makes
system calls (no locks, no imports), as required there.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GROUP_NAME = "code-arena"  # the folder holding every run's cgroup, per controller
PARENT_ENV = "ARENA_CGROUP_PARENT"  # an explicit (delegated) cgroup v2 folder to create runs under
DISABLE_ENV = "ARENA_CGROUPS"  # "off" forces the setrlimit fallback (for tests and broken hosts)
CPU_PERIOD_US = 100_000
MIB = 1024 * 1024

_counter = itertools.count(1)


class CgroupError(RuntimeError):
    """A cgroup that should work could not be set up (the run must not go ahead unlimited)."""


@dataclass(frozen=True)
class ResourceLimits:
    memory_bytes: int
    pids: int  # processes and threads together
    cpus: float
    cpu_seconds: int  # only used by the setrlimit fallback (RLIMIT_CPU)


# --------------------------------------------------------------------------------------------------------------------
# helpers


def _read(path: Path) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read()


def _write(path: Path, value: str | int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _keyed(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def _pids_in(procs_file: Path) -> list[int]:
    try:
        return [int(x) for x in _read(procs_file).split()]
    except FileNotFoundError:
        return []


def _rmdir_retry(path: Path, timeout_s: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                log.warning("could not remove cgroup %s: %s", path, exc)
                return False
            time.sleep(0.01)


def _mountinfo() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fstype, super options) for every cgroup mount."""
    mounts = []
    try:
        lines = _read(Path("/proc/self/mountinfo")).splitlines()
    except OSError:
        return mounts
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) < 5 or len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
            continue
        mounts.append((fields[3], fields[4].replace("\\040", " "), rfields[0], set(rfields[2].split(","))))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """controller -> own cgroup path ("" key for the v2 hierarchy)."""
    own: dict[str, str] = {}
    try:
        lines = _read(Path("/proc/self/cgroup")).splitlines()
    except OSError:
        return own
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            own[controller] = parts[2]
    return own


def _relative(own_path: str, mount_root: str) -> str | None:
    """The own cgroup path as seen below a mount whose root is `mount_root` (containers mount a subtree)."""
    if mount_root in ("", "/"):
        return own_path.lstrip("/")
    if own_path == mount_root or own_path.startswith(mount_root.rstrip("/") + "/"):
        return own_path[len(mount_root) :].lstrip("/")
    return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------------------------------------------------
# one run's limits


class RunLimits:
    """The limits of one run. Subclasses: a v1 or v2 cgroup, or the setrlimit fallback."""

    kind = "none"
    note: str | None = None
    nproc_inside: int | None = None  # the fallback asks the sandbox to set RLIMIT_NPROC itself (see RlimitRun)

    def attach_self(self) -> None:
        """Runs in the child between fork and exec: put this process under the limits."""

    def set_leader(self, process) -> None:
        """The process (a subprocess.Popen) started under these limits, leader of its own process group."""

    def pids(self) -> list[int]:
        return []

    def freeze(self) -> bool:
        """Stop every process (so files can be read without races). False if this kind cannot."""
        return False

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        """SIGKILL every process, looping until none is left. True when empty."""
        return True

    def oom_killed(self) -> bool:
        return False

    def memory_peak(self) -> int | None:
        return None

    def remove(self) -> None:
        """Kill what is left and delete the cgroup."""


class CgroupV1Run(RunLimits):
    kind = "cgroup-v1"

    def __init__(self, dirs: dict[str, Path]):
        self.dirs = dirs  # controller -> this run's folder
        self._procs_files = [str(d / "cgroup.procs") for d in dirs.values()]
        self._removed = False

    def attach_self(self) -> None:
        pid = str(os.getpid()).encode()
        for path in self._procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def _list_dir(self) -> Path:
        return self.dirs.get("pids") or next(iter(self.dirs.values()))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for directory in self.dirs.values():
            found.update(_pids_in(directory / "cgroup.procs"))
        return sorted(found)

    def freeze(self) -> bool:
        freezer = self.dirs.get("freezer")
        if freezer is None:
            return False
        try:
            _write(freezer / "freezer.state", "FROZEN")
            deadline = time.monotonic() + 1.0
            while _read(freezer / "freezer.state").strip() != "FROZEN":
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.002)
            return True
        except OSError as exc:
            log.warning("freezing %s failed: %s", freezer, exc)
            return False

    def _thaw(self) -> None:
        freezer = self.dirs.get("freezer")
        if freezer is not None:
            try:
                _write(freezer / "freezer.state", "THAWED")
            except OSError:
                pass

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.pids():
                return True
            frozen = self.freeze()
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if frozen:
                self._thaw()  # frozen tasks only act on SIGKILL once thawed
            if not pids:
                return True
            if time.monotonic() > deadline:
                log.warning("cgroup %s still has processes %s after kill", self._list_dir(), pids)
                return False
            time.sleep(0.002)

    def oom_killed(self) -> bool:
        memory = self.dirs.get("memory")
        if memory is None:
            return False
        try:
            control = _keyed(_read(memory / "memory.oom_control"))
            if "oom_kill" in control:
                return control["oom_kill"] > 0
            return int(_read(memory / "memory.failcnt").strip() or 0) > 0  # old kernels: the limit was hit
        except OSError:
            return False

    def memory_peak(self) -> int | None:
        memory = self.dirs.get("memory")
        try:
            return int(_read(memory / "memory.max_usage_in_bytes").strip()) if memory else None
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        if self._removed:
            return
        self.kill_all()
        for directory in self.dirs.values():
            _rmdir_retry(directory)
        self._removed = True


class CgroupV2Run(RunLimits):
    kind = "cgroup-v2"

    def __init__(self, directory: Path):
        self.dir = directory
        self._procs_file = str(directory / "cgroup.procs")
        self._removed = False
        self.use_kill_file = (directory / "cgroup.kill").exists()  # kernel >= 5.14

    def attach_self(self) -> None:
        fd = os.open(self._procs_file, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    def pids(self) -> list[int]:
        return _pids_in(self.dir / "cgroup.procs")

    def freeze(self) -> bool:
        try:
            _write(self.dir / "cgroup.freeze", "1")
            deadline = time.monotonic() + 1.0
            while _keyed(_read(self.dir / "cgroup.events")).get("frozen") != 1:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.002)
            return True
        except OSError as exc:
            log.warning("freezing %s failed: %s", self.dir, exc)
            return False

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            if self.use_kill_file:
                try:
                    _write(self.dir / "cgroup.kill", "1")  # atomic, handles forks in flight
                except OSError:
                    pass
            else:
                frozen = self.freeze()
                for pid in self.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                if frozen:
                    try:
                        _write(self.dir / "cgroup.freeze", "0")
                    except OSError:
                        pass
            if time.monotonic() > deadline:
                log.warning("cgroup %s still has processes %s after kill", self.dir, pids)
                return False
            time.sleep(0.002)

    def oom_killed(self) -> bool:
        try:
            return _keyed(_read(self.dir / "memory.events")).get("oom_kill", 0) > 0
        except OSError:
            return False

    def memory_peak(self) -> int | None:
        try:
            return int(_read(self.dir / "memory.peak").strip())
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        if self._removed:
            return
        self.kill_all()
        _rmdir_retry(self.dir)
        self._removed = True


class RlimitRun(RunLimits):
    """No writable cgroup: setrlimit in the child, and the sandbox sets RLIMIT_NPROC itself.

    RLIMIT_NPROC is counted per user: set before the sandbox's user namespace exists it would count every process
    the user runs on the host (and fail at once). Set inside the sandbox (after the namespace exists, see
    `nproc_inside`), it counts only the sandbox's processes. Killing relies on the sandbox's pid namespace: killing
    its first process kills every process in the namespace.
    """

    kind = "rlimit"

    def __init__(self, limits: ResourceLimits, reason: str):
        self.limits = limits
        self.nproc_inside = limits.pids
        self.note = (
            "Limits are weaker on this machine (" + reason + "): memory is capped as virtual address space "
            "(RLIMIT_AS, which breaks Java, Node and Go runtimes that reserve large address ranges), processes "
            "through RLIMIT_NPROC, CPU time through RLIMIT_CPU; there is no CPU share limit and out-of-memory kills "
            "cannot be told apart from other crashes."
        )
        self._leader = None

    def attach_self(self) -> None:
        memory = self.limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = max(1, self.limits.cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    def set_leader(self, process) -> None:
        self._leader = process

    def pids(self) -> list[int]:
        leader = self._leader
        return [leader.pid] if leader is not None and leader.returncode is None else []

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        """Kill the started process's group; bwrap's --die-with-parent then ends its pid namespace, and with it
        every process inside."""
        leader = self._leader
        if leader is None or leader.returncode is not None:  # reaped: its pid may belong to someone else now
            return True
        try:
            os.killpg(leader.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return True

    def remove(self) -> None:
        self.kill_all()


# --------------------------------------------------------------------------------------------------------------------
# what this machine offers


class CgroupSupport:
    """Detected once per process: which cgroup hierarchy runs can be created in."""

    def __init__(self) -> None:
        self.kind = "none"
        self.v1_parents: dict[str, Path] = {}
        self.v2_parent: Path | None = None
        self.reason = "not detected yet"
        self._lock = threading.Lock()
        self._live: dict[str, RunLimits] = {}

    # -- detection ---------------------------------------------------------------------------------------------------

    def detect(self) -> CgroupSupport:
        if os.environ.get(DISABLE_ENV, "").lower() in ("off", "0", "no", "false"):
            self.reason = f"cgroups disabled by {DISABLE_ENV}"
            return self
        mounts = _mountinfo()
        own = _own_cgroups()
        reasons = []
        v1 = self._detect_v1(mounts, own, reasons)
        if v1:
            self.kind, self.v1_parents = "cgroup-v1", v1
            self.reason = "cgroup v1: " + ", ".join(f"{c}={p}" for c, p in v1.items())
            return self
        v2 = self._detect_v2(mounts, own, reasons)
        if v2:
            self.kind, self.v2_parent = "cgroup-v2", v2
            self.reason = f"cgroup v2: {v2}"
            return self
        self.reason = "; ".join(reasons) or "no cgroup filesystem is mounted"
        return self

    @staticmethod
    def _detect_v1(mounts, own, reasons) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for controller in ("memory", "pids", "cpu", "freezer"):
            for root, point, fstype, options in mounts:
                if fstype != "cgroup" or controller not in options:
                    continue
                candidates = []
                rel = _relative(own.get(controller, "/"), root)
                if rel is not None:
                    candidates.append(Path(point, rel, GROUP_NAME) if rel else Path(point, GROUP_NAME))
                candidates.append(Path(point, GROUP_NAME))
                for parent in dict.fromkeys(candidates):
                    if _probe_dir(parent):
                        found[controller] = parent
                        break
                break
        if "memory" in found and "pids" in found:
            return found
        if found or any(fstype == "cgroup" for _, _, fstype, _ in mounts):
            reasons.append("cgroup v1 memory/pids controllers are not writable")
        return {}

    @staticmethod
    def _detect_v2(mounts, own, reasons) -> Path | None:
        unified = [(root, point) for root, point, fstype, _ in mounts if fstype == "cgroup2"]
        if not unified:
            return None
        root, point = unified[0]
        controllers = set(_read_or(Path(point, "cgroup.controllers")).split())
        if not {"memory", "pids"} <= controllers:
            reasons.append("cgroup v2 has no memory/pids controllers here")
            return None
        candidates: list[Path] = []
        if os.environ.get(PARENT_ENV):
            candidates.append(Path(os.environ[PARENT_ENV]))
        rel = _relative(own.get("", "/"), root)
        top = Path(point)
        if os.geteuid() == 0:
            candidates.append(top)
        if rel:
            # Nearest ancestor first: systemd delegates user@UID.service (and its slices) to the user.
            parts = Path(rel).parts
            for i in range(len(parts) - 1, -1, -1):
                candidates.append(top.joinpath(*parts[:i]) if i else top)
        for base in dict.fromkeys(candidates):
            parent = base / GROUP_NAME
            if _prepare_v2_parent(base, parent) and _probe_dir(parent, v2=True):
                return parent
        reasons.append("no cgroup v2 folder is delegated to this user")
        return None

    # -- runs --------------------------------------------------------------------------------------------------------

    def create(self, limits: ResourceLimits) -> RunLimits:
        """A fresh cgroup for one run, or the setrlimit fallback. Raises CgroupError if a cgroup fails to set up."""
        if self.kind == "none":
            return RlimitRun(limits, self.reason)
        for attempt in range(3):  # another backend's close() may remove an empty parent at the same moment
            try:
                run = self._create(limits)
                break
            except FileNotFoundError as exc:
                if attempt == 2:
                    raise CgroupError(f"could not set up the run's cgroup ({exc})") from exc
        with self._lock:
            self._live[id(run)] = run
        return run

    def _create(self, limits: ResourceLimits) -> RunLimits:
        name = f"run-{os.getpid()}-{next(_counter)}-{os.urandom(3).hex()}"
        if self.kind == "cgroup-v1":
            dirs: dict[str, Path] = {}
            try:
                for controller, parent in self.v1_parents.items():
                    parent.mkdir(exist_ok=True)
                    directory = parent / name
                    directory.mkdir()
                    dirs[controller] = directory
                _apply_v1(dirs, limits)
            except OSError as exc:
                for directory in dirs.values():
                    _rmdir_retry(directory, 0.2)
                if isinstance(exc, FileNotFoundError):
                    raise
                raise CgroupError(f"could not set up the run's cgroup ({exc})") from exc
            return CgroupV1Run(dirs)
        assert self.v2_parent is not None
        directory = self.v2_parent / name
        try:
            if not self.v2_parent.exists():
                _prepare_v2_parent(self.v2_parent.parent, self.v2_parent)
            directory.mkdir()
            _apply_v2(directory, limits)
        except OSError as exc:
            _rmdir_retry(directory, 0.2)
            if isinstance(exc, FileNotFoundError):
                raise
            raise CgroupError(f"could not set up the run's cgroup ({exc})") from exc
        return CgroupV2Run(directory)

    def release(self, run: RunLimits) -> None:
        """Kill what is left of a run and remove its cgroup."""
        run.remove()
        with self._lock:
            self._live.pop(id(run), None)

    def remove_parents(self) -> None:
        """Remove the code-arena folders if no run (of any process) uses them any more."""
        parents = list(self.v1_parents.values()) + ([self.v2_parent] if self.v2_parent else [])
        for parent in parents:
            try:
                parent.rmdir()  # fails (harmlessly) while another run still has a cgroup in it
            except OSError:
                pass

    def close(self) -> None:
        """Kill and remove every run cgroup this process still has, then the empty parents."""
        with self._lock:
            runs, self._live = list(self._live.values()), {}
        for run in runs:
            run.remove()
        self.remove_parents()

    def sweep_stale(self) -> int:
        """Remove run cgroups left by processes of this app that died without cleaning up."""
        removed = 0
        parents = list(self.v1_parents.values()) + ([self.v2_parent] if self.v2_parent else [])
        for parent in parents:
            try:
                children = [c for c in parent.iterdir() if c.is_dir() and c.name.startswith("run-")]
            except OSError:
                continue
            for child in children:
                try:
                    owner = int(child.name.split("-")[1])
                except (IndexError, ValueError):
                    continue
                if owner == os.getpid() or pid_alive(owner):
                    continue
                if self.kind == "cgroup-v2":
                    CgroupV2Run(child).remove()
                else:
                    dirs = {c: p / child.name for c, p in self.v1_parents.items() if (p / child.name).exists()}
                    CgroupV1Run(dirs).remove()
                removed += 1
        return removed


def _read_or(path: Path, default: str = "") -> str:
    try:
        return _read(path)
    except OSError:
        return default


def _apply_v1(dirs: dict[str, Path], limits: ResourceLimits) -> None:
    memory = dirs["memory"]
    _write(memory / "memory.limit_in_bytes", limits.memory_bytes)
    memsw = memory / "memory.memsw.limit_in_bytes"
    if memsw.exists():  # absent when the kernel does not account swap: then keep it from swapping at all
        _write(memsw, limits.memory_bytes)
    else:
        _write(memory / "memory.swappiness", 0)
    _write(dirs["pids"] / "pids.max", limits.pids)
    cpu = dirs.get("cpu")
    if cpu is not None:
        _write(cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
        _write(cpu / "cpu.cfs_quota_us", max(1000, int(limits.cpus * CPU_PERIOD_US)))


def _apply_v2(directory: Path, limits: ResourceLimits) -> None:
    _write(directory / "memory.max", limits.memory_bytes)
    swap = directory / "memory.swap.max"
    if swap.exists():
        _write(swap, 0)
    _write(directory / "pids.max", limits.pids)
    cpu_max = directory / "cpu.max"
    if cpu_max.exists():
        _write(cpu_max, f"{max(1000, int(limits.cpus * CPU_PERIOD_US))} {CPU_PERIOD_US}")


def _prepare_v2_parent(base: Path, parent: Path) -> bool:
    """Make `parent` (base/code-arena) exist with memory, pids (and cpu if offered) enabled for its children."""
    try:
        wanted = {"memory", "pids", "cpu"}
        base_enabled = set(_read(base / "cgroup.subtree_control").split())
        missing = (wanted & set(_read(base / "cgroup.controllers").split())) - base_enabled
        if missing:
            try:
                _write(base / "cgroup.subtree_control", " ".join("+" + c for c in sorted(missing)))
            except OSError:
                pass
        parent.mkdir(exist_ok=True)
        offered = set(_read(parent / "cgroup.controllers").split())
        if not {"memory", "pids"} <= offered:
            return False
        enabled = set(_read(parent / "cgroup.subtree_control").split())
        todo = (wanted & offered) - enabled
        if todo:
            _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in sorted(todo)))
        return True
    except OSError:
        return False


def _probe_dir(parent: Path, v2: bool = False) -> bool:
    """Can runs be created under `parent`, and can a process of ours be moved into one? (Leaves nothing behind.)"""
    try:
        parent.mkdir(exist_ok=True)
    except OSError:
        return False
    probe = parent / f"probe-{os.getpid()}-{os.urandom(3).hex()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    child = None
    try:
        limit_file = probe / ("pids.max" if (probe / "pids.max").exists() else "cgroup.procs")
        if limit_file.name == "pids.max":
            _write(limit_file, 64)
        child = subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL, close_fds=True)
        _write(probe / "cgroup.procs", child.pid)
        return True
    except OSError:
        return False
    finally:
        if child is not None:
            child.kill()
            child.wait()
        _rmdir_retry(probe, 1.0)


_support: CgroupSupport | None = None
_support_lock = threading.Lock()


def cgroup_support(refresh: bool = False) -> CgroupSupport:
    """The machine's cgroup support, detected once per process (stale run cgroups of dead processes are removed)."""
    global _support
    with _support_lock:
        if _support is None or refresh:
            _support = CgroupSupport().detect()
            try:
                _support.sweep_stale()
            except OSError as exc:
                log.warning("sweeping stale cgroups failed: %s", exc)
        return _support


def limits_note() -> str | None:
    """A sentence for the user when limits on this machine are weaker than cgroups (else None)."""
    support = cgroup_support()
    if support.kind != "none":
        return None
    return RlimitRun(ResourceLimits(0, 0, 1.0, 1), support.reason).note
