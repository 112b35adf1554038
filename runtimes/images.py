"""The runtime image every container run uses: its name, and building it through the Docker API (Docker or Podman).

The tag is `code-arena/runtime:<hash>`, where the hash covers runtime.Dockerfile and the files it copies, so an edit
to any of them gives a new tag (and a build), and an unchanged folder never rebuilds.

    python -m runtimes.images build   # base image if needed, then the runtime image
    python -m runtimes.images name    # print the runtime image's tag
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from runtimes.detect import docker_base_url

IMAGES_DIR = Path(__file__).resolve().parent / "images"
DOCKERFILE = "runtime.Dockerfile"
# Files in IMAGES_DIR that are neither hashed nor sent to the engine.
NOT_CONTEXT = {"README.md"}

BASE_ENV = "ARENA_BASE_IMAGE"
DEFAULT_BASE = "debian:bookworm-slim"
LOCAL_BASE = "localhost/arena-base:bookworm"  # built without a registry by scripts/build-base-image.sh
BASE_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "build-base-image.sh"
START_PODMAN_SCRIPT = BASE_SCRIPT.with_name("start-podman.sh")

# Extra CA certificates trusted while the image's pip/npm steps download (never kept in the image):
# ARENA_BUILD_CA_CERTS lists PEM files (os.pathsep-separated); by default the host's locally added CAs are used.
CA_ENV = "ARENA_BUILD_CA_CERTS"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")

RUNTIME_REPO = "code-arena/runtime"
BUILD_TIMEOUT_S = 3600  # seconds the engine may stay silent during one build step

Progress = Callable[[str], None]


class ImageError(RuntimeError):
    """The runtime image (or its base) cannot be found or built; the message says what to do."""


def context_files() -> list[Path]:
    """The Dockerfile and the files it may copy: everything in IMAGES_DIR except the README and caches."""
    files = []
    for path in sorted(IMAGES_DIR.rglob("*")):
        rel = path.relative_to(IMAGES_DIR)
        if not path.is_file() or rel.as_posix() in NOT_CONTEXT or "__pycache__" in rel.parts:
            continue
        files.append(path)
    return files


def context_hash() -> str:
    digest = hashlib.sha256()
    for path in context_files():
        digest.update(path.relative_to(IMAGES_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


RUNTIME_IMAGE = f"{RUNTIME_REPO}:{context_hash()}"


def docker_client(timeout: float = 60):
    """A Docker SDK client for the engine runtimes.detect finds; ImageError when there is none."""
    import docker

    url = docker_base_url()
    if url is None:
        raise ImageError(
            "no container engine socket: start Docker, or Podman's socket with scripts/start-podman.sh, "
            "or set DOCKER_HOST"
        )
    return docker.DockerClient(base_url=url, timeout=timeout)


def is_podman(client) -> bool:
    components = client.version().get("Components", [])
    return any("Podman" in c.get("Name", "") for c in components)


def image_exists(client, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _pull(client, name: str) -> None:
    from docker.utils import parse_repository_tag

    repo, tag = parse_repository_tag(name)
    client.images.pull(repo, tag=tag or "latest")


def base_image(client=None, progress: Progress | None = None) -> str:
    """ARENA_BASE_IMAGE (default debian:bookworm-slim), pulled if missing; if that fails, the local debootstrap base."""
    import docker.errors

    progress = progress or (lambda _line: None)
    client = client or docker_client()
    name = os.environ.get(BASE_ENV) or DEFAULT_BASE
    if image_exists(client, name):
        return name
    progress(f"pulling base image {name} ...")
    try:
        _pull(client, name)
        return name
    except (docker.errors.APIError, docker.errors.DockerException) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if name != LOCAL_BASE and image_exists(client, LOCAL_BASE):
        progress(f"cannot pull {name} ({reason}); using the local base {LOCAL_BASE}")
        return LOCAL_BASE
    raise ImageError(
        f"base image {name} is not present and cannot be pulled ({reason}). Without a registry, build "
        f"{LOCAL_BASE} with scripts/build-base-image.sh (Linux, root, podman, debootstrap), or set {BASE_ENV} "
        "to an image the engine has."
    )


def extra_ca_certs() -> str:
    """PEM text of CA certificates the build's downloads must trust in addition to Debian's (often empty)."""
    configured = os.environ.get(CA_ENV)
    if configured is not None:
        paths = [Path(p) for p in configured.split(os.pathsep) if p]
    else:
        paths = sorted(LOCAL_CA_DIR.rglob("*.crt")) if LOCAL_CA_DIR.is_dir() else []
    texts = []
    for path in paths:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ImageError(f"cannot read CA certificate {path}: {exc}") from exc
        if "-----BEGIN CERTIFICATE-----" in text:
            texts.append(text.strip())
    return "\n".join(texts)


def context_tar() -> io.BytesIO:
    """The build context: exactly the hashed files, with fixed owners and times."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in context_files():
            info = tar.gettarinfo(str(path), arcname=path.relative_to(IMAGES_DIR).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    buffer.seek(0)
    return buffer


def _build(client, base: str, tag: str, progress: Progress, timeout_s: float) -> None:
    """Build through the engine's Docker-compatible /build endpoint, streaming its log to `progress`."""
    import docker.errors

    tail: collections.deque[str] = collections.deque(maxlen=40)
    error = None
    try:
        stream = client.api.build(
            fileobj=context_tar(),
            custom_context=True,
            dockerfile=DOCKERFILE,
            tag=tag,
            buildargs={"BASE": base, "EXTRA_CA_CERTS": extra_ca_certs()},
            labels={
                "code-arena.image": "runtime",
                "code-arena.base": base,
                "code-arena.context-hash": tag.rsplit(":", 1)[-1],
            },
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
            timeout=timeout_s,
        )
        for chunk in stream:
            if "error" in chunk:
                error = str(chunk.get("error") or chunk.get("errorDetail"))
                continue
            text = chunk.get("stream") or chunk.get("status") or ""
            for line in str(text).splitlines():
                if line.strip():
                    tail.append(line.rstrip())
                    progress(line.rstrip())
    except (docker.errors.APIError, docker.errors.DockerException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is None and not image_exists(client, tag):
        error = "the engine reported no error but the image is missing"
    if error is not None:
        last = "\n".join(tail)
        raise ImageError(f"building {tag} FROM {base} failed: {error.strip()}\n--- last build output ---\n{last}")


def ensure_runtime_image(
    client,
    progress: Progress = print,
    *,
    tag: str = RUNTIME_IMAGE,
    base: str | None = None,
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """The runtime image's tag, building it first (minutes) unless an image with this content hash exists.

    `base` defaults to base_image(); ImageError (with the build's last output) when the build fails.
    """
    if image_exists(client, tag):
        return tag
    base = base or base_image(client, progress)
    progress(f"building {tag} FROM {base} (takes several minutes the first time) ...")
    started = time.monotonic()
    _build(client, base, tag, progress, timeout_s)
    progress(f"built {tag} in {time.monotonic() - started:.0f} s")
    return tag


def _engine_answers(timeout: float = 20) -> bool:
    # Generous timeout: the client asks /version first, which Podman answers slowly (1.5 s) on a busy machine.
    try:
        client = docker_client(timeout=timeout)
    except Exception:  # noqa: BLE001 - no socket, or any failure to connect, means "not answering"
        return False
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False
    finally:
        client.close()


def _can_build_local_base() -> bool:
    return (
        platform.system() == "Linux"
        and os.geteuid() == 0
        and shutil.which("podman") is not None
        and shutil.which("debootstrap") is not None
    )


def build_all(progress: Progress = print) -> str:
    """What `python -m runtimes.images build` does: engine, base image (if it must be built), runtime image."""
    if not _engine_answers() and platform.system() == "Linux" and shutil.which("podman"):
        progress("no container engine answers; starting Podman's API socket ...")
        subprocess.run(["bash", str(START_PODMAN_SCRIPT)], check=True)
    client = docker_client(timeout=BUILD_TIMEOUT_S)
    try:
        if image_exists(client, RUNTIME_IMAGE):
            progress(f"{RUNTIME_IMAGE} is up to date")
            return RUNTIME_IMAGE
        try:
            base = base_image(client, progress)
        except ImageError:
            if not (is_podman(client) and _can_build_local_base()):
                raise
            progress(f"building the local base image {LOCAL_BASE} with {BASE_SCRIPT.name} ...")
            started = time.monotonic()
            subprocess.run(["bash", str(BASE_SCRIPT)], check=True, env={**os.environ, "ARENA_BASE_TAG": LOCAL_BASE})
            progress(f"base image ready in {time.monotonic() - started:.0f} s")
            base = base_image(client, progress)
        return ensure_runtime_image(client, progress, tag=RUNTIME_IMAGE, base=base)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtimes.images", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the base image if needed, then the runtime image")
    sub.add_parser("name", help="print the runtime image's tag")
    args = parser.parse_args(argv)
    if args.command == "name":
        print(RUNTIME_IMAGE)
        return 0
    try:
        tag = build_all(lambda line: print(line, flush=True))
    except (ImageError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
