"""Opening each real sandbox backend once per test session, for the suites that run on both."""

from __future__ import annotations

import pytest

from runtimes.limits import Limits
from runtimes.sandbox import NoSandbox, open_backend

BACKENDS = ("docker", "bwrap")


def open_for_tests(name: str, limits: Limits):
    try:
        return open_backend(name, limits=limits, pool_size=2)
    except NoSandbox as error:
        # make test installs and starts both backends; a missing one here is a broken setup, not a skip.
        pytest.fail(f"the {name} backend is not available: {error}")
