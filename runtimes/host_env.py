"""What the bubblewrap sandbox takes from the host: a cached Python venv, and the host's compilers and runtimes.

The venv is made once from the SYSTEM Python (/usr/bin/python3), so its interpreter lives under /usr, which every
sandbox binds read-only; the venv folder itself is bound read-only at /opt/venv. It holds the same packages as the
container image minus the GUI/web-app ones, and is keyed by a hash of that list: editing the list rebuilds it.

Compilers and runtimes (node, gcc, g++, javac/java, go, rustc/cargo) are used from the host. Those under /usr need
nothing; those installed elsewhere (rustup's toolchains in ~/.rustup, nvm's node, a Go tarball) have their install
folder bound read-only at /opt/toolchains/<name> and its bin folder added to PATH.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

VENV_ENV = "ARENA_SANDBOX_VENV"
SYSTEM_PYTHON = "/usr/bin/python3"
MARKER = ".arena-venv.json"
SANDBOX_VENV_PATH = "/opt/venv"  # where the venv appears inside the sandbox (runtimes.backends.base.VENV)
TOOLCHAIN_ROOT = "/opt/toolchains"
IMAGE_REQUIREMENTS = Path(__file__).resolve().parent / "images" / "requirements.txt"
# Pieces of the image's list that need a display or serve a web app: not preinstalled for host-process sandboxes.
GUI_PACKAGES = {"pygame", "streamlit", "gradio", "tkinter", "pyqt5", "pyqt6", "pyside6", "wxpython"}
FALLBACK_PACKAGES = [
    "numpy>=1.26,<3",
    "pandas>=2.2,<3",
    "matplotlib>=3.8,<4",
    "plotly>=5.22,<7",
    "scipy>=1.13,<2",
    "scikit-learn>=1.5,<2",
    "requests>=2.31,<3",
    "pillow>=10.4,<12",
]
TOOLS = ("node", "npm", "gcc", "g++", "cc", "javac", "java", "go", "rustc", "cargo", "esbuild", "tsc")
# The container image's npm side (runtime.Dockerfile): global tools, and the web packages of images/package.json.
# For bwrap both go in the venv folder's node/ (shown at /opt/node, as in the image; .bin goes on PATH).
NODE_TOOLS = ["esbuild@^0.28.0", "typescript@~5.9.0"]
NODE_PACKAGES = Path(__file__).resolve().parent / "images" / "package.json"
NODE_DIR = "node"
SANDBOX_NODE_PATH = "/opt/node"
NODE_MARKER = ".arena-node.json"
SYSTEM_PREFIXES = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/etc/alternatives/")

Progress = Callable[[str], None]


def _requirement_name(line: str) -> str:
    name = line
    for sep in "<>=!~;[ @":
        name = name.split(sep, 1)[0]
    return name.strip().lower().replace("_", "-")


def sandbox_packages() -> list[str]:
    """The requirement lines preinstalled in the sandbox venv (the image's list without GUI pieces)."""
    try:
        lines = IMAGE_REQUIREMENTS.read_text().splitlines()
    except OSError:
        return list(FALLBACK_PACKAGES)
    packages = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line and _requirement_name(line) not in GUI_PACKAGES:
            packages.append(line)
    return packages or list(FALLBACK_PACKAGES)


def sandbox_venv_path() -> Path:
    return Path(os.environ.get(VENV_ENV) or Path.home() / ".cache" / "code-arena" / "sandbox-venv")


def venv_key(packages: list[str] | None = None) -> str:
    payload = {
        "format": 1,
        "python": os.path.realpath(SYSTEM_PYTHON),
        "packages": sorted(packages if packages is not None else sandbox_packages()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def venv_is_current(path: Path | None = None, packages: list[str] | None = None) -> bool:
    path = path or sandbox_venv_path()
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("key") == venv_key(packages) and (path / "bin" / "python3").exists()


def ensure_sandbox_venv(progress: Progress = print, packages: list[str] | None = None) -> Path:
    """The sandbox venv, built (or rebuilt after the package list changed) if needed. Raises RuntimeError."""
    path = sandbox_venv_path()
    packages = packages if packages is not None else sandbox_packages()
    if venv_is_current(path, packages) and font_cache_files(path) and node_tools_current(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if not venv_is_current(path, packages):
            _build_venv(path, packages, progress)
        if not font_cache_files(path):
            try:
                _build_font_cache(path)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                progress(f"(matplotlib's font cache was not prebuilt: {exc})")
        if not node_tools_current(path):
            try:
                _install_node_tools(path, progress)
            except (OSError, RuntimeError) as exc:
                progress(f"(the sandbox's npm packages were not installed; TypeScript will not build: {exc})")
    return path


def node_tools_current(path: Path | None = None) -> bool:
    """esbuild and tsc are in the venv folder (or npm is missing, so they cannot be)."""
    if shutil.which("npm") is None:
        return True
    try:
        marker = json.loads(((path or sandbox_venv_path()) / NODE_DIR / NODE_MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("key") == _node_key()


def _node_key() -> str:
    try:
        manifest = NODE_PACKAGES.read_text()
    except OSError:
        manifest = ""
    return hashlib.sha256(json.dumps([NODE_TOOLS, manifest]).encode()).hexdigest()[:16]


def node_dir(path: Path | None = None) -> Path | None:
    folder = (path or sandbox_venv_path()) / NODE_DIR
    return folder if (folder / "node_modules").is_dir() else None


def node_bin_dir(path: Path | None = None) -> Path | None:
    folder = (path or sandbox_venv_path()) / NODE_DIR / "node_modules" / ".bin"
    return folder if folder.is_dir() else None


def _install_node_tools(path: Path, progress: Progress) -> None:
    npm = shutil.which("npm")
    if npm is None:
        return
    folder = path / NODE_DIR
    building = folder.with_name(f"{NODE_DIR}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    progress("Installing esbuild, typescript and the preinstalled web packages for the sandbox...")
    try:
        if NODE_PACKAGES.exists():
            shutil.copyfile(NODE_PACKAGES, building / "package.json")
        _stream([npm, "install", "--prefix", str(building), "--no-fund", "--no-audit", "--no-update-notifier",
                 "--omit=dev", *NODE_TOOLS], progress, "installing the sandbox's npm packages")
        (building / NODE_MARKER).write_text(json.dumps({"key": _node_key(), "tools": NODE_TOOLS}))
        _make_readable(building)
        shutil.rmtree(folder, ignore_errors=True)
        building.rename(folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


FONT_CACHE_DIR = "mplconfig"  # inside the venv: /opt/venv/mplconfig, where the Python recipe also looks


def font_cache_files(path: Path | None = None) -> list[Path]:
    """matplotlib's font list, prebuilt for the sandbox's paths (else every run rebuilds it: ~0.5 s)."""
    folder = (path or sandbox_venv_path()) / FONT_CACHE_DIR
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith("fontlist-") and p.suffix == ".json")
    except OSError:
        return []


def _build_font_cache(path: Path) -> None:
    python = path / "bin" / "python3"
    probe = subprocess.run([str(python), "-c", "import matplotlib"], capture_output=True, check=False)
    if probe.returncode != 0:
        return  # no matplotlib in the list: nothing to prebuild
    folder = path / FONT_CACHE_DIR
    building = folder.with_name(folder.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(building), "MPLCONFIGDIR": str(building), "MPLBACKEND": "Agg"}
    subprocess.run([str(python), "-c", "import matplotlib.font_manager"], env=env, capture_output=True, check=True,
                   timeout=300)
    prefix = str(path.resolve())
    for cache in building.glob("fontlist-*.json"):
        # The fonts it lists under the venv are at /opt/venv inside the sandbox.
        cache.write_text(cache.read_text().replace(json.dumps(prefix)[1:-1], SANDBOX_VENV_PATH))
    for other in building.iterdir():
        if not other.name.startswith("fontlist-"):
            shutil.rmtree(other) if other.is_dir() else other.unlink()
    _make_readable(building)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)


def _build_venv(path: Path, packages: list[str], progress: Progress) -> None:
    if not Path(SYSTEM_PYTHON).exists():
        raise RuntimeError(f"{SYSTEM_PYTHON} is missing: install Python 3 from your distribution's packages.")
    building = path.with_name(f"{path.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    progress(f"Creating the sandbox Python environment at {path} (once; {len(packages)} packages)...")
    try:
        _make_venv(building, progress)
        python = building / "bin" / "python3"
        if packages:
            _stream([str(python), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", *packages],
                    progress, "installing the sandbox packages")
        _relocate_scripts(building / "bin")
        _make_readable(building)
        (building / MARKER).write_text(json.dumps({"key": venv_key(packages), "packages": sorted(packages)}))
        old = path.with_name(f"{path.name}.old-{os.getpid()}")
        if path.exists():
            path.rename(old)
        building.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    progress("Sandbox Python environment ready.")


def _make_venv(target: Path, progress: Progress) -> None:
    command = [SYSTEM_PYTHON, "-m", "venv", str(target)]
    probe = subprocess.run(command, capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        return
    shutil.rmtree(target, ignore_errors=True)
    missing_venv = "ensurepip" in probe.stderr or "venv" in probe.stderr
    if missing_venv and os.geteuid() == 0 and shutil.which("apt-get"):
        progress("Installing Debian's python3-venv (needed to create the sandbox environment)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _stream(["apt-get", "install", "-y", "python3-venv"], progress, "installing python3-venv", env=env)
        probe = subprocess.run(command, capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return
    hint = " Install your distribution's python3-venv package (e.g. `sudo apt-get install python3-venv`)."
    raise RuntimeError(f"Could not create a venv with {SYSTEM_PYTHON}: {probe.stderr.strip()[-500:]}{hint}")


def _stream(command: list[str], progress: Progress, what: str, env: dict[str, str] | None = None) -> None:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", env=env)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.rstrip()
        if line:
            progress(line)
            tail = (tail + [line])[-20:]
    if process.wait() != 0:
        raise RuntimeError(f"Failed {what} (exit {process.returncode}):\n" + "\n".join(tail))


def _relocate_scripts(bin_dir: Path) -> None:
    """Console scripts (pip, f2py...) get a shebang that works inside the sandbox, where the venv is /opt/venv."""
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        try:
            with open(script, "rb") as handle:
                head = handle.readline()
                if not head.startswith(b"#!") or b"python" not in head:
                    continue
                rest = handle.read()
        except OSError:
            continue
        script.write_bytes(f"#!{SANDBOX_VENV_PATH}/bin/python3\n".encode() + rest)


def _make_readable(root: Path) -> None:
    """The sandbox may run as another (unprivileged) user: everything must be world-readable."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if mode & 0o111 or name in dirs else 0))
    os.chmod(root, 0o755)


# --------------------------------------------------------------------------------------------------------------------
# host toolchains


@dataclass(frozen=True)
class ToolchainMount:
    name: str
    host_dir: Path  # bound read-only...
    sandbox_dir: str  # ...here
    bin_dir: str  # added to PATH inside the sandbox


@functools.lru_cache(maxsize=1)
def host_toolchains() -> tuple[ToolchainMount, ...]:
    """Toolchains found on PATH outside /usr, with the folder to bind for each (found once per process)."""
    mounts: dict[Path, ToolchainMount] = {}
    for tool in TOOLS:
        found = shutil.which(tool)
        if not found:
            continue
        real = Path(os.path.realpath(found))
        if str(real).startswith(SYSTEM_PREFIXES):
            continue
        root: Path | None
        if tool in ("rustc", "cargo"):
            root = _rust_sysroot(found) or real.parent.parent
            name = "rust"
        else:
            root = real.parent.parent
            name = tool
        if root in mounts or not _dedicated_folder(root):
            continue
        bin_rel = (real.parent.relative_to(root) if real.is_relative_to(root) else Path("bin")).as_posix()
        sandbox_dir = f"{TOOLCHAIN_ROOT}/{name}"
        mounts[root] = ToolchainMount(name, root, sandbox_dir, f"{sandbox_dir}/{bin_rel}")
    return tuple(mounts.values())


def _dedicated_folder(root: Path) -> bool:
    """Only a tool's own install folder is bound, never a broad one that may hold other things (~/.local, /opt)."""
    home = Path.home().resolve()
    if root in (Path("/"), Path("/opt"), Path("/usr/local"), Path("/home"), Path("/root"), home):
        return False
    if root.is_relative_to(home) and len(root.relative_to(home).parts) < 2:
        return False  # ~/.local, ~/go, ~/.cargo: shared with other things
    return len(root.parts) >= 3 or not root.is_relative_to("/opt")


def _rust_sysroot(rustc_or_cargo: str) -> Path | None:
    """rustup installs proxies in ~/.cargo/bin; the real toolchain is the sysroot (also holds cargo)."""
    rustc = Path(rustc_or_cargo).with_name("rustc")
    try:
        out = subprocess.run([str(rustc), "--print", "sysroot"], capture_output=True, text=True, timeout=20,
                             check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    sysroot = Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None
    return sysroot if sysroot and (sysroot / "bin" / "rustc").exists() else None


if __name__ == "__main__":  # python -m runtimes.host_env: build the venv now (e.g. from `make`)
    print(ensure_sandbox_venv())
    for mount in host_toolchains():
        print(f"{mount.name}: {mount.host_dir} -> {mount.sandbox_dir}")
    sys.exit(0)
