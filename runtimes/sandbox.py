"""Choosing and opening a sandbox backend: the user's choice (argument, settings, ARENA_SANDBOX) or the first that
works here. With none available, code does not run: the error says how to get one."""

from __future__ import annotations

import os

from runtimes import detect
from runtimes.backends.base import Backend
from runtimes.limits import Limits


class NoSandbox(RuntimeError):
    """No usable sandbox backend; the message tells the user how to get one."""


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
        if images.image_exists(client, image):
            return DockerBackend(client=client, image=image, limits=limits, pool_size=pool_size)
        client.close()
        missing = (f"The runtime image {image} is not built yet: run `python -m runtimes.images build` "
                   "(make test builds it; it takes a few minutes once).")
        bwrap_ready = any(s.name == "bwrap" and s.available for s in statuses)
        # Auto mode may use the other sandbox meanwhile; an explicit docker choice is never silently replaced.
        explicit = (requested or os.environ.get(detect.BACKEND_ENV) or "auto") != "auto"
        if explicit or not bwrap_ready:
            raise NoSandbox(missing)
    from runtimes.backends.bwrap import BwrapBackend

    return BwrapBackend()
