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


def backend_fixture(limits: Limits):
    """A module-scoped fixture that yields each backend in turn, opened with `limits`, and closes it after."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def backend(request):
        opened = open_for_tests(request.param, limits)
        yield opened
        opened.close()

    return backend
