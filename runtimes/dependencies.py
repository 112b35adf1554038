"""The install phase: extra packages a program needs beyond what the sandbox has preinstalled.

Installs run in the sandbox too, with network on (to reach PyPI and npm) and nothing of the program running.
Each set of packages is installed once into its own folder, keyed by the set, and reused read-only afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from runtimes.backends.base import CA_ENV, DEPS, Backend, PhaseSpec, host_ca_bundle
from runtimes.limits import Limits
from runtimes.results import PhaseResult

COMPLETE_MARKER = ".complete"
_NAME = re.compile(r"^[A-Za-z0-9@][A-Za-z0-9._/@-]*$")  # a bare package name: nothing a shell could interpret


PREINSTALLED_NPM_MANIFEST = Path(__file__).resolve().parent / "images" / "package.json"


def preinstalled_npm() -> set[str]:
    """npm packages every sandbox has: the image installs them, and so does the bwrap sandbox environment."""
    return set(json.loads(PREINSTALLED_NPM_MANIFEST.read_text())["dependencies"])


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class InstallPlan:
    python: list[str]
    npm: list[str]

    @property
    def empty(self) -> bool:
        return not self.python and not self.npm

    def key(self) -> str:
        payload = json.dumps({"python": sorted(self.python), "npm": sorted(self.npm)})
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan(program, preinstalled_python: set[str], preinstalled_npm: set[str]) -> InstallPlan:
    """Packages to install: those the program needs that are not preinstalled, and only well-formed names."""
    python = sorted({p for p in program.python_packages if _NAME.match(p) and canonical(p) not in preinstalled_python})
    npm = sorted({p for p in program.npm_packages if _NAME.match(p) and p not in preinstalled_npm})
    return InstallPlan(python, npm)


def installed_python(backend: Backend, workspace: Path, limits: Limits) -> set[str]:
    """Distributions importable in the sandbox (asked once per backend; the answer is cached by the caller)."""
    result = backend.run_phase(
        PhaseSpec(argv=["python3", "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                  workspace=workspace, timeout_s=30),
        limits,
    )
    if not result.succeeded:
        return set()
    try:
        return {canonical(item["name"]) for item in json.loads(result.stdout)}
    except (ValueError, KeyError, TypeError):
        return set()


def install(plan_: InstallPlan, backend: Backend, cache_root: Path, workspace: Path, limits: Limits,
            on_output=None) -> tuple[Path | None, PhaseResult | None]:
    """Install the plan into its cached folder; return (folder, result) — result None when it was cached."""
    if plan_.empty:
        return None, None
    folder = cache_root / plan_.key()
    if (folder / COMPLETE_MARKER).exists():
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)  # a half-finished earlier install is never reused
    folder.mkdir(parents=True)
    folder.chmod(0o777)  # the sandbox user (not the host user) writes the install; the run only reads it
    commands = []
    if plan_.python:
        commands.append(["python3", "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
                         "--target", DEPS, *plan_.python])
    if plan_.npm:
        commands.append(["npm", "install", "--no-audit", "--no-fund", "--prefix", DEPS, *plan_.npm])
    ca_bundle = host_ca_bundle()
    argv = ["sh", "-c", " && ".join(" ".join(_quote(a) for a in command) for command in commands)]
    result = backend.run_phase(
        PhaseSpec(argv=argv, workspace=workspace, timeout_s=limits.install_timeout_s, network=True,
                  deps_dir=folder, deps_writable=True, ca_bundle=ca_bundle,
                  env={"HOME": "/tmp", "npm_config_cache": "/tmp/npm", **(CA_ENV if ca_bundle else {})}),
        limits,
        on_output,
    )
    if result.succeeded:
        (folder / COMPLETE_MARKER).write_text(json.dumps({"python": plan_.python, "npm": plan_.npm}))
    return folder, result


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
