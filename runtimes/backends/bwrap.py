"""The bubblewrap backend: each phase is a fresh `bwrap` sandbox on the host, limited by its own cgroup.

How one phase runs:

1. A cgroup is made for the run (memory without swap, pids, CPU quota; see cgroups.py), or the setrlimit fallback.
2. `bwrap` starts in it with every namespace unshared (network too, unless `spec.network`), uid 1000 inside, no
   capabilities, no new privileges, nested user namespaces disabled, an empty environment, stdin /dev/null. The
   sandbox sees read-only /usr (and the /bin, /lib links), a small /etc subset with generated passwd/group/hosts,
   a fresh /proc (its /proc/sys read-only) and /dev, size-capped tmpfs at /tmp, /dev/shm and /work, the sandbox
   venv read-only at /opt/venv, the deps folder at /opt/deps, and host toolchains read-only under /opt/toolchains.
   The root folder and /dev are then remounted read-only. Nothing else of the host is there.
3. A one-line shell wrapper inside says "ready"; the host copies the workspace into the sandbox's /work tmpfs
   (through /proc/<pid>/root, entry by entry relative to open folders, never following a link, writing as the
   sandbox's host user) and keeps a descriptor on that folder; then says "go", and the wrapper execs the program.
4. The run ends when the program exits (bwrap's pid namespace dies with it, taking every daemon along), when the
   timeout passes, or when the combined output limit is reached; then every process in the cgroup is killed.
5. The workspace is copied back from the descriptor kept in step 3 (the tmpfs outlives the namespace while that
   descriptor is open, and every process is dead, so nothing races the copy), links copied as links, never
   followed; files deleted inside are deleted on the host; at most workspace_mb bytes and 20,000 entries come back
   (a sparse file or a million empty files cannot flood the host). Then the cgroup is removed. The workspace size
   limit is the tmpfs size: a program that fills it gets ENOSPC (or, with cgroups, an out-of-memory kill, since
   tmpfs pages count as the run's memory), never the host disk.

When running as root, bwrap itself is started as an unprivileged host user (nobody by default): a sandbox user
mapped to host root could write global sysctls such as kernel.core_pattern through /proc/sys (checked on this
kernel), and would own every root-owned file it can see. Folders it needs from places that user cannot enter (the
venv in /root/.cache, rustup in /root/.rustup, the deps cache) are bind-mounted for it in a private mount
namespace of the child process before bwrap starts; no mount is ever made in the host's namespace.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import fcntl
import functools
import glob
import itertools
import json
import logging
import os
import select
import shutil
import signal
import stat
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from runtimes import host_env
from runtimes.backends.base import CA_BUNDLE, DEPS, VENV, WORKDIR, OutputCallback, PhaseSession, PhaseSpec
from runtimes.backends.cgroups import (
    CgroupError,
    CgroupSupport,
    ResourceLimits,
    RlimitRun,
    RunLimits,
    cgroup_support,
)
from runtimes.backends.output import OutputCapture, PipeCapture
from runtimes.limits import MIB, Limits
from runtimes.results import PhaseResult

log = logging.getLogger(__name__)

SANDBOX_UID = SANDBOX_GID = 1000  # the user inside
HOST_UID_ENV = "ARENA_SANDBOX_HOST_UID"  # as root: the host uid sandboxes run as ("0" keeps root; not advised)
DEFAULT_HOST_UID = 65534  # nobody
STAGE_DIRS = ("/mnt", "/media", "/srv")  # covered by a private tmpfs in the child's own mount namespace only
SETUP_TIMEOUT_S = 20.0
PIDS_OVERHEAD = 2  # bwrap's monitor and init processes run in the run's cgroup too
MAX_COPY_ENTRIES = 20_000
MAX_COPY_DEPTH = 64
# Needed options (all in bubblewrap >= 0.6); --disable-userns (0.8) and --clearenv are used when offered.
REQUIRED_OPTIONS = ("--size", "--info-fd", "--ro-bind-data", "--remount-ro", "--die-with-parent", "--cap-drop")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# /etc entries the sandbox may read: loader config, certificates, alternatives, Java and Python config, name
# service config. Never passwd/shadow/group from the host (generated instead), never credentials.
ETC_ENTRIES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl/openssl.cnf", "ca-certificates",
    "ca-certificates.conf", "java-*", "python3*", "nsswitch.conf", "host.conf", "gai.conf", "localtime", "timezone",
    "mime.types", "os-release", "debian_version", "lsb-release", "fonts", "protocols", "services",
)
PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"sandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:sandbox:/tmp:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\nsandbox:x:{SANDBOX_GID}:\nnogroup:x:65534:\n"
HOSTS = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"
# fd numbers inside the sandbox (a POSIX shell only handles 0-9 in redirections)
FD_READY, FD_GO, FD_INFO, FD_PASSWD, FD_GROUP, FD_HOSTS, FD_RESOLV, FD_CA = 3, 4, 5, 6, 7, 8, 9, 10
# Says "ready", waits for "go" (the host copies the workspace in between), then becomes the program.
WRAPPER = (
    f'printf R >&{FD_READY} && read -r _ <&{FD_GO} && '
    f'exec {{limit}}"$@" {FD_READY}>&- {FD_GO}<&- {FD_INFO}>&- 6<&- 7<&- 8<&- 9<&-; exit 125'
)


class SandboxError(RuntimeError):
    """The sandbox itself failed; the message is a sentence for the user."""


# --------------------------------------------------------------------------------------------------------------------
# the child side (between fork and exec): only system calls


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def _sys(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@dataclass
class _ChildSetup:
    limits_run: RunLimits
    fd_map: list[tuple[int, int]]  # (parent fd >= 10, fd number in the child)
    drop_to: int | None  # host uid/gid to become (root only)
    stage_dir: str | None = None
    stage_sources: list[tuple[str, str]] = field(default_factory=list)  # (host folder, staging folder)

    def __call__(self) -> None:
        try:
            self.limits_run.attach_self()
            keep = {0, 1, 2}
            for source, target in self.fd_map:
                os.dup2(source, target)  # inheritable
                keep.add(target)
            for name in os.listdir("/proc/self/fd"):  # close_fds, but keeping our numbering
                fd = int(name)
                if fd in keep:
                    continue
                try:
                    if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                        os.close(fd)
                except OSError:
                    pass
            if self.drop_to is not None:
                if self.stage_dir:
                    _sys(_libc.unshare(CLONE_NEWNS), "unshare(mount namespace)")
                    _sys(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
                    # Opened in this namespace (a bind source must be), before the tmpfs may hide them.
                    fds = [os.open(path, os.O_PATH | os.O_CLOEXEC) for path, _ in self.stage_sources]
                    _sys(_libc.mount(b"tmpfs", self.stage_dir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                                     b"size=64k,mode=0755"), "mount staging tmpfs")
                    for source_fd, (_, folder) in zip(fds, self.stage_sources, strict=True):
                        os.mkdir(folder, 0o755)
                        _sys(_libc.mount(f"/proc/self/fd/{source_fd}".encode(), folder.encode(), None,
                                         MS_BIND | MS_REC, None), f"bind {folder}")
                os.setgroups([])
                os.setresgid(self.drop_to, self.drop_to, self.drop_to)
                os.setresuid(self.drop_to, self.drop_to, self.drop_to)
        except BaseException as exc:
            os.write(2, f"code-arena: preparing the sandbox process failed: {exc}\n".encode())
            raise


# --------------------------------------------------------------------------------------------------------------------
# copying the workspace in and out without ever following a link


class _Budget:
    """Caps on one copy: a program can make a million empty files, or a sparse file of a terabyte that takes no
    room in its tmpfs; neither may turn into a million files or a terabyte on the host."""

    def __init__(self, max_bytes: int) -> None:
        self.entries = 0
        self.bytes_left = max_bytes
        self.skipped: list[str] = []


_libc.setfsuid.argtypes = [ctypes.c_uint]
_libc.setfsgid.argtypes = [ctypes.c_uint]


class _FsUser:
    """Do file operations as another user, in this thread only (setfsuid is per thread).

    Root cannot create files in a tmpfs that belongs to the sandbox's user namespace (its uid has no mapping
    there: EOVERFLOW); the sandbox's host user can, and the files are then the sandbox user's inside."""

    def __init__(self, uid: int | None):
        self.uid = uid

    def __enter__(self) -> _FsUser:
        if self.uid is not None:
            _libc.setfsgid(self.uid)
            _libc.setfsuid(self.uid)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.uid is not None:
            _libc.setfsuid(os.geteuid())
            _libc.setfsgid(os.getegid())


def _open_dir(name: str, dir_fd: int) -> int:
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)


def _remove(name: str, dir_fd: int) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def _copy_file(name: str, src_dir: int, dst_dir: int, st: os.stat_result, as_user: _FsUser,
               budget: _Budget, where: str) -> None:
    src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=src_dir)
    try:
        current = os.fstat(src)
        if not stat.S_ISREG(current.st_mode):  # swapped for something else since the listing
            return
        if current.st_size > budget.bytes_left:
            budget.skipped.append(f"{where}{name} ({current.st_size} bytes: over the workspace size limit)")
            return
        budget.bytes_left -= current.st_size
        with as_user:
            try:
                existing = os.stat(name, dir_fd=dst_dir, follow_symlinks=False)
                if not stat.S_ISREG(existing.st_mode):
                    _remove(name, dst_dir)
            except FileNotFoundError:
                pass
            dst = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                          dir_fd=dst_dir)
        try:
            offset, size = 0, current.st_size
            while offset < size:
                sent = os.sendfile(dst, src, offset, min(size - offset, 1 << 30))
                if sent == 0:
                    break
                offset += sent
            with as_user:
                os.fchmod(dst, stat.S_IMODE(st.st_mode) & 0o777)
                os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _copy_tree(src_dir: int, dst_dir: int, *, as_user: _FsUser, mirror: bool, budget: _Budget,
               depth: int = 0, where: str = "") -> None:
    """Copy the folder `src_dir` into `dst_dir` (both open descriptors, never a path that could hold a link).

    Links are copied as links; fifos, sockets and devices are skipped. Every entry is opened relative to its
    parent's descriptor with O_NOFOLLOW, so nothing outside the two trees is ever read or written. With `mirror`,
    entries of dst missing from src are deleted and unchanged files are left alone. Writes happen `as_user`."""
    room = MAX_COPY_ENTRIES - budget.entries
    with os.scandir(src_dir) as listing:
        names = sorted(entry.name for entry in itertools.islice(listing, room + 1))
    complete = len(names) <= room
    if not complete:
        budget.skipped.append(f"{where} (more than {MAX_COPY_ENTRIES} entries in the workspace)")
        names = names[:room]
    present = set()
    for name in names:
        budget.entries += 1
        present.add(name)
        try:
            st = os.stat(name, dir_fd=src_dir, follow_symlinks=False)
        except FileNotFoundError:
            continue
        try:
            dst_st = os.stat(name, dir_fd=dst_dir, follow_symlinks=False)
        except FileNotFoundError:
            dst_st = None
        if stat.S_ISDIR(st.st_mode):
            if depth >= MAX_COPY_DEPTH:
                budget.skipped.append(f"{where}{name}/ (nested too deep)")
                continue
            sub_src = _open_dir(name, src_dir)
            try:
                with as_user:
                    if dst_st is not None and not stat.S_ISDIR(dst_st.st_mode):
                        _remove(name, dst_dir)
                        dst_st = None
                    if dst_st is None:
                        os.mkdir(name, 0o700, dir_fd=dst_dir)
                    sub_dst = _open_dir(name, dst_dir)
                try:
                    _copy_tree(sub_src, sub_dst, as_user=as_user, mirror=mirror, budget=budget, depth=depth + 1,
                               where=f"{where}{name}/")
                    with as_user:
                        os.fchmod(sub_dst, stat.S_IMODE(st.st_mode) & 0o777 | 0o700)
                finally:
                    os.close(sub_dst)
            finally:
                os.close(sub_src)
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(name, dir_fd=src_dir)
            with as_user:
                if dst_st is not None:
                    if stat.S_ISLNK(dst_st.st_mode) and os.readlink(name, dir_fd=dst_dir) == target:
                        continue
                    _remove(name, dst_dir)
                os.symlink(target, name, dir_fd=dst_dir)
        elif stat.S_ISREG(st.st_mode):
            if (mirror and dst_st is not None and stat.S_ISREG(dst_st.st_mode) and dst_st.st_size == st.st_size
                    and dst_st.st_mtime_ns == st.st_mtime_ns
                    and stat.S_IMODE(dst_st.st_mode) == stat.S_IMODE(st.st_mode) & 0o777):
                continue
            _copy_file(name, src_dir, dst_dir, st, as_user, budget, where)
        else:
            budget.skipped.append(f"{where}{name} (not a file, folder or link)")
            present.discard(name)
    if mirror and complete:  # never delete what was not looked at
        with as_user:
            for entry in list(os.scandir(dst_dir)):
                if entry.name not in present:
                    _remove(entry.name, dst_dir)


# --------------------------------------------------------------------------------------------------------------------
# the backend


@dataclass
class _Mount:
    source: Path
    target: str
    writable: bool = False


class BwrapBackend:
    name = "bwrap"

    def __init__(self, venv: Path | None = None, *, cgroups: CgroupSupport | None = None,
                 host_uid: int | None = None, build_venv: bool = True) -> None:
        self._venv = venv
        self._build_venv = build_venv
        self._venv_error: str | None = None
        self._lock = threading.Lock()
        self._cgroups = cgroups
        self._active: dict[int, tuple[subprocess.Popen, RunLimits]] = {}
        self._closed = False
        self.bwrap = shutil.which("bwrap")
        self.host_uid = host_uid if host_uid is not None else self._default_host_uid()
        self._node_bin = False
        self._drop_checked = False
        self._drop_note: str | None = None
        atexit.register(_close_weakly, weakref.ref(self))

    # -- public ------------------------------------------------------------------------------------------------------

    @property
    def cgroups(self) -> CgroupSupport:
        if self._cgroups is None:
            self._cgroups = cgroup_support()
        return self._cgroups

    @property
    def limits_note(self) -> str | None:
        """A sentence when this machine's limits or isolation are weaker than designed, else None."""
        notes = []
        if self.cgroups.kind == "none":
            notes.append(RlimitRun(ResourceLimits(0, 0, 1.0, 1), self.cgroups.reason).note or "")
        if self._drop_note:
            notes.append(self._drop_note)
        return " ".join(notes) or None

    def session(self, workspace: Path, deps_dir: Path | None, limits: Limits) -> PhaseSession:
        return PhaseSession(self, workspace, deps_dir, limits)

    def run_phase(self, spec: PhaseSpec, limits: Limits, on_output: OutputCallback | None = None) -> PhaseResult:
        started = time.monotonic()
        try:
            if self._closed:
                raise SandboxError("The bubblewrap backend was closed.")
            if not self.bwrap:
                raise SandboxError("bubblewrap (bwrap) is not installed, so nothing can run in this sandbox: "
                                   "install it (`sudo apt-get install bubblewrap`) or use the container backend.")
            missing = [o for o in REQUIRED_OPTIONS if o not in _bwrap_options(self.bwrap)]
            if missing:
                raise SandboxError(f"This bubblewrap ({self.bwrap}) is too old: it lacks {', '.join(missing)} "
                                   "(bubblewrap 0.6 or newer is needed).")
            venv = self._sandbox_venv()
            self._check_uid_drop()
            run = self.cgroups.create(ResourceLimits(
                memory_bytes=limits.memory_mb * MIB,
                pids=limits.processes + PIDS_OVERHEAD,
                cpus=limits.cpus,
                cpu_seconds=int(spec.timeout_s) + 2,
            ))
        except SandboxError as exc:
            return _failure(str(exc), started)
        except CgroupError as exc:
            return _failure(f"The sandbox's resource limits could not be set up, so the program was not run: {exc}.",
                            started)
        try:
            return self._run(spec, limits, on_output, venv, run, started)
        except SandboxError as exc:
            return _failure(str(exc), started)
        finally:
            self.cgroups.release(run)

    def close(self) -> None:
        """Kill every sandbox still running and remove this process's cgroups."""
        self._closed = True
        with self._lock:
            active = list(self._active.values())
        for process, run in active:
            run.kill_all()
            _kill_group(process)
        if self._cgroups is not None:
            self._cgroups.remove_parents()  # other backends' runs (if any) keep theirs

    # -- setup -------------------------------------------------------------------------------------------------------

    @staticmethod
    def _default_host_uid() -> int | None:
        if os.geteuid() != 0:
            return None  # already unprivileged: the sandbox user maps to this user
        raw = os.environ.get(HOST_UID_ENV, "").strip()
        uid = int(raw) if raw.isdigit() else DEFAULT_HOST_UID
        return None if uid == 0 else uid

    def _sandbox_venv(self) -> Path:
        with self._lock:
            if self._venv is None and self._venv_error is None:
                if not self._build_venv or (host_env.venv_is_current() and host_env.font_cache_files()
                                            and host_env.node_tools_current()):
                    self._venv = host_env.sandbox_venv_path()
                else:
                    try:
                        self._venv = host_env.ensure_sandbox_venv(progress=log.info)
                    except Exception as exc:  # noqa: BLE001 - any failure becomes a sandbox error sentence
                        self._venv_error = str(exc)
            if self._venv_error:
                raise SandboxError(f"The sandbox's Python environment could not be built: {self._venv_error}")
            assert self._venv is not None
            self._node_bin = host_env.node_bin_dir(self._venv) is not None
            return self._venv

    def _check_uid_drop(self) -> None:
        """Once: can bwrap create its namespaces as the unprivileged host uid? If not, run it as root (noted)."""
        if self.host_uid is None or self._drop_checked:
            return
        with self._lock:
            if self._drop_checked:
                return
            uid = self.host_uid

            def become() -> None:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)

            try:
                probe = subprocess.run(
                    [str(self.bwrap), "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--ro-bind",
                     "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink",
                     "usr/lib64", "/lib64", "/usr/bin/true"],
                    preexec_fn=become, capture_output=True, text=True, timeout=10, env={}, cwd="/", check=False)
                ok, detail = probe.returncode == 0, probe.stderr.strip()
            except (OSError, subprocess.SubprocessError) as exc:
                ok, detail = False, str(exc)
            if not ok:
                log.warning("bwrap cannot run as uid %s (%s); sandboxes will map to host root", uid, detail)
                self._drop_note = (f"bubblewrap could not run as the unprivileged host user {uid} ({detail}), so "
                                   "the sandbox user maps to host root (without capabilities).")
                self.host_uid = None
            self._drop_checked = True

    def _mounts(self, spec: PhaseSpec, venv: Path) -> list[_Mount]:
        mounts = [_Mount(venv, VENV)]
        if spec.deps_dir is not None:
            mounts.append(_Mount(Path(spec.deps_dir), DEPS, writable=spec.deps_writable))
        for toolchain in host_env.host_toolchains():
            mounts.append(_Mount(toolchain.host_dir, toolchain.sandbox_dir))
        return mounts

    def _environment(self, spec: PhaseSpec) -> dict[str, str]:
        bins = [f"{VENV}/bin", *(t.bin_dir for t in host_env.host_toolchains())]
        if self._node_bin:  # esbuild, tsc
            bins.insert(1, f"{host_env.SANDBOX_NODE_PATH}/node_modules/.bin")
        env = {
            "PATH": ":".join([*bins, BASE_PATH]),
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg",
        }
        if spec.deps_dir is not None:
            env["PYTHONPATH"] = DEPS
        env.update(spec.env)
        return env

    def _bwrap_args(self, spec: PhaseSpec, limits: Limits, binds: list[tuple[str, str, bool]]) -> list[str]:
        size = str(max(1, limits.workspace_mb) * MIB)
        args = ["--unshare-all"]
        if spec.network:
            args.append("--share-net")
        args += [
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr",
        ]
        options = _bwrap_options(str(self.bwrap))
        args += [option for option in ("--disable-userns", "--clearenv") if option in options]
        args += _system_binds(certs_by_entry=bool(spec.network and spec.ca_bundle))
        args += ["--ro-bind-data", str(FD_PASSWD), "/etc/passwd", "--ro-bind-data", str(FD_GROUP), "/etc/group",
                 "--ro-bind-data", str(FD_HOSTS), "/etc/hosts"]
        if spec.network:
            args += ["--ro-bind-data", str(FD_RESOLV), "/etc/resolv.conf"]
            if spec.ca_bundle:
                args += ["--ro-bind-data", str(FD_CA), CA_BUNDLE]
        args += [
            "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
            "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm",
            "--size", size, "--tmpfs", "/tmp",
            "--size", size, "--tmpfs", WORKDIR,
        ]
        for source, target, writable in binds:
            args += ["--bind" if writable else "--ro-bind", source, target]
        args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR, "--info-fd", str(FD_INFO)]
        for key, value in self._environment(spec).items():
            args += ["--setenv", key, value]
        return args

    # -- one run -----------------------------------------------------------------------------------------------------

    def _run(self, spec: PhaseSpec, limits: Limits, on_output: OutputCallback | None, venv: Path, run: RunLimits,
             started: float) -> PhaseResult:
        workspace = Path(spec.workspace)
        if not workspace.is_dir():
            raise SandboxError(f"The workspace folder {workspace} does not exist.")
        if not spec.argv:
            raise SandboxError("No command to run.")
        drop = self.host_uid
        mounts = self._mounts(spec, venv)
        owned: list[int] = []  # every descriptor opened here, closed at the end

        def keep(fd: int) -> int:
            owned.append(fd)
            return fd

        try:
            # Sources bwrap (as the unprivileged uid) cannot reach are staged in the child's mount namespace.
            stage_dir = next((d for d in STAGE_DIRS if os.path.isdir(d) and not os.path.islink(d)), None)
            binds: list[tuple[str, str, bool]] = []
            stage_sources: list[tuple[str, str]] = []
            for index, mount in enumerate(mounts):
                if not mount.source.is_dir():
                    if mount.target == VENV:
                        raise SandboxError(f"The sandbox's Python environment {mount.source} is missing.")
                    continue
                if drop is not None:
                    if stage_dir is None:
                        raise SandboxError("No folder to stage the sandbox's mounts in (/mnt, /media or /srv).")
                    if mount.writable:
                        _chown_tree(mount.source, drop)
                    folder = f"{stage_dir}/{index}"
                    stage_sources.append((str(mount.source), folder))
                    binds.append((folder, mount.target, mount.writable))
                else:
                    binds.append((str(mount.source), mount.target, mount.writable))
            # The npm packages every sandbox has, at /opt/node as in the container image.
            if host_env.node_dir(venv) is not None:
                binds.append((f"{binds[0][0]}/{host_env.NODE_DIR}", host_env.SANDBOX_NODE_PATH, False))
            # matplotlib finds its prebuilt font list where it looks by default ($HOME/.cache), read-only.
            for cache in host_env.font_cache_files(venv):
                source = f"{binds[0][0]}/{host_env.FONT_CACHE_DIR}/{cache.name}"
                binds.append((source, f"/tmp/.cache/matplotlib/{cache.name}", False))

            ready_r, ready_w = (keep(fd) for fd in os.pipe())
            go_r, go_w = (keep(fd) for fd in os.pipe())
            info_r, info_w = (keep(fd) for fd in os.pipe())
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            owned += [out_w, err_w]
            child_fds = {FD_READY: ready_w, FD_GO: go_r, FD_INFO: info_w,
                         FD_PASSWD: keep(_memfd("passwd", PASSWD)), FD_GROUP: keep(_memfd("group", GROUP)),
                         FD_HOSTS: keep(_memfd("hosts", _read_text("/etc/hosts") if spec.network else HOSTS))}
            if spec.network:
                child_fds[FD_RESOLV] = keep(_memfd("resolv", _read_text("/etc/resolv.conf")))
                if spec.ca_bundle:  # read here: the sandbox's host user may not be able to open it
                    try:
                        child_fds[FD_CA] = keep(_memfd("ca", Path(spec.ca_bundle).read_text()))
                    except OSError as exc:
                        raise SandboxError(f"The CA bundle {spec.ca_bundle} could not be read: {exc}.") from exc
            fd_map = [(keep(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)), target) for target, fd in child_fds.items()]
            setup = _ChildSetup(run, fd_map, drop, stage_dir if drop is not None else None, stage_sources)
            # Without a pids cgroup, RLIMIT_NPROC is set inside, where it counts only the sandbox's processes.
            nproc = ""
            if run.nproc_inside and os.path.exists("/usr/bin/prlimit"):  # util-linux; absent: no process cap
                nproc = f"prlimit --nproc={run.nproc_inside}:{run.nproc_inside} -- "
            argv = [str(self.bwrap), *self._bwrap_args(spec, limits, binds), "/bin/sh", "-c",
                    WRAPPER.format(limit=nproc), "sh", *spec.argv]

            stop = threading.Event()
            reason: dict[str, bool] = {"output": False}

            def output_limit() -> None:
                reason["output"] = True
                stop.set()

            sink = OutputCapture(limits.output_bytes, on_output, on_limit=output_limit)
            try:
                process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                                           close_fds=False, preexec_fn=setup, start_new_session=True, env={},
                                           cwd="/")
            except (OSError, subprocess.SubprocessError) as exc:
                os.close(out_w)
                os.close(err_w)
                owned.remove(out_w)
                owned.remove(err_w)
                detail = _drain(err_r).strip() or str(exc)
                os.close(out_r)
                os.close(err_r)
                raise SandboxError(f"bubblewrap could not be started: {detail}") from exc
            run.set_leader(process)
            with self._lock:
                self._active[process.pid] = (process, run)
            for fd in (out_w, err_w, ready_w, go_r, info_w, *(hi for hi, _ in fd_map)):
                owned.remove(fd)
                os.close(fd)
            capture = PipeCapture(sink, out_r, err_r, name=f"bwrap-{process.pid}")
            threading.Thread(target=lambda: (process.wait(), stop.set()), name=f"bwrap-wait-{process.pid}",
                             daemon=True).start()
            workdir_fd = None
            try:
                child_pid = self._handshake(process, ready_r, info_r)
                workdir_fd = self._copy_in(workspace, child_pid, drop, limits.workspace_mb * MIB)
                os.write(go_w, b"G\n")
                go_time = time.monotonic()
                timed_out = not stop.wait(spec.timeout_s)
                finished = process.poll() is not None and not timed_out and not reason["output"]
                if not finished:
                    run.kill_all()
                    _kill_group(process)
                process.wait()
                run.kill_all()  # anything that slipped out of the pid namespace (nothing should)
                run_ms = int((time.monotonic() - go_time) * 1000)
                capture.join(5.0)
                notes = self._copy_out(workdir_fd, workspace, limits.workspace_mb * MIB)
            except SandboxError as exc:
                run.kill_all()
                _kill_group(process)
                process.wait()
                capture.join(2.0)
                detail = sink.stderr.strip()
                if detail and str(exc).endswith(":"):
                    raise SandboxError(f"{exc} {detail[-800:]}") from None
                raise
            finally:
                if workdir_fd is not None:
                    os.close(workdir_fd)
                with self._lock:
                    self._active.pop(process.pid, None)
        finally:
            for fd in owned:
                try:
                    os.close(fd)
                except OSError:
                    pass

        returncode = process.returncode
        killed_by_us = timed_out or reason["output"]
        oom = run.oom_killed()
        exit_code: int | None
        if killed_by_us:
            exit_code, sig = None, signal.SIGKILL
        elif returncode < 0:  # bwrap itself was killed (the kernel's OOM killer, or someone else)
            exit_code, sig = None, -returncode
        else:
            exit_code = returncode
            sig = returncode - 128 if 128 < returncode < 128 + 65 else None
        stderr = sink.stderr
        if notes:
            stderr += "\n[sandbox] " + "; ".join(notes) + "\n"
        return PhaseResult(
            exit_code=exit_code,
            stdout=sink.stdout,
            stderr=stderr,
            duration_ms=run_ms,
            timed_out=timed_out,
            out_of_memory=oom and not timed_out,
            output_truncated=sink.truncated,
            signal=int(sig) if sig else None,
        )

    def _handshake(self, process: subprocess.Popen, ready_r: int, info_r: int) -> int:
        """Wait for bwrap's info (the sandbox's pid) and the wrapper's "ready"; return that pid."""
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        info, ready, child_pid = b"", False, None
        watch = [ready_r, info_r]
        while not (ready and child_pid):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError("bubblewrap did not set up the sandbox in time:")
            readable, _, _ = select.select(watch, [], [], min(remaining, 0.5))
            if info_r in readable:
                chunk = os.read(info_r, 4096)
                if not chunk:
                    watch.remove(info_r)
                info += chunk
                try:
                    child_pid = int(json.loads(info.decode())["child-pid"])
                    if info_r in watch:
                        watch.remove(info_r)
                except (ValueError, KeyError):
                    pass
            if ready_r in readable:
                chunk = os.read(ready_r, 16)
                if chunk.startswith(b"R"):
                    ready = True
                    watch.remove(ready_r)
                else:
                    raise SandboxError("bubblewrap could not set up the sandbox:")
            if not readable and process.poll() is not None:
                raise SandboxError("bubblewrap could not set up the sandbox:")
            if not watch and not (ready and child_pid):
                raise SandboxError("bubblewrap could not set up the sandbox:")
        return child_pid

    def _copy_in(self, workspace: Path, child_pid: int, owner: int | None, max_bytes: int) -> int:
        """Copy the workspace into the sandbox's /work; returns a descriptor on that folder (keeps it alive)."""
        try:
            workdir = os.open(f"/proc/{child_pid}/root{WORKDIR}", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                              os.O_CLOEXEC)
        except OSError as exc:
            raise SandboxError(f"The sandbox's {WORKDIR} folder could not be opened: {exc}.") from exc
        try:
            source = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            budget = _Budget(max_bytes)
            try:
                _copy_tree(source, workdir, as_user=_FsUser(owner), mirror=False, budget=budget)
            finally:
                os.close(source)
            if budget.skipped:
                raise OSError(errno.ENOSPC, "; ".join(budget.skipped[:3]))
        except OSError as exc:
            os.close(workdir)
            if exc.errno == errno.ENOSPC:
                raise SandboxError("The workspace does not fit in the sandbox's workspace size limit.") from exc
            raise SandboxError(f"The workspace could not be copied into the sandbox: {exc}.") from exc
        return workdir

    @staticmethod
    def _copy_out(workdir_fd: int, workspace: Path, max_bytes: int) -> list[str]:
        """Bring the sandbox's /work back into the host workspace (a mirror; links stay links, never followed)."""
        budget = _Budget(max_bytes)
        try:
            target = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                _copy_tree(workdir_fd, target, as_user=_FsUser(None), mirror=True, budget=budget)
            finally:
                os.close(target)
        except OSError as exc:
            log.warning("copying the workspace back failed: %s", exc)
            return [f"the workspace could not be fully copied back: {exc}"]
        if budget.skipped:
            return ["not copied back: " + ", ".join(budget.skipped[:10]) +
                    (f" and {len(budget.skipped) - 10} more" if len(budget.skipped) > 10 else "")]
        return []


# --------------------------------------------------------------------------------------------------------------------
# small helpers


@functools.lru_cache(maxsize=2)
def _system_binds(certs_by_entry: bool = False) -> tuple[str, ...]:
    """bwrap arguments for the read-only system folders and the /etc subset (looked up once)."""
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    certs = "/etc/ssl/certs"
    if certs_by_entry and os.path.isdir(certs):
        # Rebuilt entry by entry (nearly all are links) so a CA bundle can be added inside; ~15 ms, installs only.
        args += ["--dir", certs]
        for name in sorted(os.listdir(certs)):
            found = f"{certs}/{name}"
            if os.path.islink(found):
                args += ["--symlink", os.readlink(found), found]
            elif os.path.isfile(found) or os.path.isdir(found):
                args += ["--ro-bind", found, found]
    elif os.path.isdir(certs):
        args += ["--ro-bind", certs, certs]
    for pattern in ETC_ENTRIES:
        for found in sorted(glob.glob(f"/etc/{pattern}")):
            if not os.path.exists(found):
                continue  # a dangling link
            if os.path.islink(found) and os.readlink(found).startswith("/usr/"):
                args += ["--symlink", os.readlink(found), found]
            else:
                args += ["--ro-bind", found, found]
    return tuple(args)


@functools.lru_cache(maxsize=4)
def _bwrap_options(path: str) -> frozenset[str]:
    """The options this bwrap understands (from its --help)."""
    try:
        text = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(word for word in text.split() if word.startswith("--"))


def _close_weakly(ref: weakref.ref) -> None:
    backend = ref()
    if backend is not None:
        backend.close()


def _memfd(name: str, content: str) -> int:
    fd = os.memfd_create(f"arena-{name}", os.MFD_CLOEXEC)
    os.write(fd, content.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _drain(fd: int) -> str:
    """What is already in a pipe whose writers are closed."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks).decode(errors="replace")
        chunks.append(chunk)


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _chown_tree(root: Path, uid: int) -> None:
    """A folder the sandbox writes (deps during install) must belong to the sandbox's host user."""
    os.chown(root, uid, uid, follow_symlinks=False)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _kill_group(process: subprocess.Popen) -> None:
    if process.returncode is not None:  # already reaped: the pid (group) may be someone else's now
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _failure(message: str, started: float) -> PhaseResult:
    return PhaseResult(exit_code=None, stdout="", stderr="", duration_ms=int((time.monotonic() - started) * 1000),
                       sandbox_error=message)

