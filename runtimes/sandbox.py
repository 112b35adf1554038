"""Choosing and opening a sandbox backend: the user's choice (argument, settings, ARENA_SANDBOX) or the first that
works here. With none available, code does not run: the error says how to get one."""

from __future__ import annotations

import os

from runtimes import detect
from runtimes.backends.base import Backend
from runtimes.limits import Limits


class NoSandbox(RuntimeError):
    """No usable sandbox backend; the message tells the user how to get one."""


def effective_backend(statuses: list[detect.BackendStatus], requested: str | None,
                      image_built: bool | None) -> str | None:
    """The backend runs will use: auto mode takes bubblewrap while the runtime image is not built yet; an explicit
    docker choice (argument or ARENA_SANDBOX) is never silently replaced."""
    chosen = detect.choose_backend(statuses, requested)
    explicit = (requested or os.environ.get(detect.BACKEND_ENV) or "auto") != "auto"
    bwrap_ready = any(s.name == "bwrap" and s.available for s in statuses)
    if chosen == "docker" and image_built is False and not explicit and bwrap_ready:
        return "bwrap"
    return chosen


def open_backend(requested: str | None = None, limits: Limits | None = None, pool_size: int = 2) -> Backend:
    statuses = detect.check_backends()
    chosen = detect.choose_backend(statuses, requested)
    if chosen is None:
        wanted = requested or "auto"
        if wanted not in ("auto", *detect.BACKENDS):
            raise NoSandbox(f"Unknown sandbox backend '{wanted}': choose auto, docker or bwrap.")
        reasons = "; ".join(f"{s.name}: {s.detail}" for s in statuses if wanted in ("auto", s.name))
        raise NoSandbox(f"{detect.no_backend_message()} ({reasons})")
    if chosen == "docker":
        from runtimes import images
        from runtimes.backends.containers import DockerBackend

        client = images.docker_client()
        image = images.RUNTIME_IMAGE
        built = images.image_exists(client, image)
        if built:
            return DockerBackend(client=client, image=image, limits=limits, pool_size=pool_size)
        client.close()
        if effective_backend(statuses, requested, built) == "docker":
            raise NoSandbox(f"The runtime image {image} is not built yet: run `python -m runtimes.images build` "
                            "(make test builds it; it takes a few minutes once).")
    from runtimes.backends.bwrap import BwrapBackend

    return BwrapBackend()
