"""The docker backend's own promises: warm pool, one container per run, nothing left after close."""

import time

import pytest

from core.extraction import Program
from runtimes import images
from runtimes.backends.containers import LABEL, DockerBackend
from runtimes.engine import Engine
from runtimes.limits import Limits

pytestmark = [pytest.mark.docker, pytest.mark.sandbox]


def labelled(client) -> list:
    return client.containers.list(all=True, filters={"label": LABEL})


@pytest.fixture
def client():
    docker_client = images.docker_client()
    assert images.image_exists(docker_client, images.RUNTIME_IMAGE), "make test builds the runtime image"
    yield docker_client
    docker_client.close()


def program(code: str) -> Program:
    return Program(environment="python", language="python", files={"main.py": code}, entry="main.py")


def test_pool_warms_up_serves_runs_and_nothing_survives_close(client, tmp_path):
    before = {c.id for c in labelled(client)}
    backend = DockerBackend(client=client, limits=Limits(), pool_size=2)
    try:
        deadline = time.monotonic() + 60
        while len(backend.pool._ready) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(backend.pool._ready) == 2
        engine = Engine(backend, Limits(), root=tmp_path)
        # A run leaves a file and a daemon behind in its container; the next run must see neither.
        first = engine.execute(program("import subprocess\nopen('/tmp/left.txt','w').write('x')\n"
                                       "subprocess.Popen(['sleep','301'], start_new_session=True)\nprint('one')"))
        second = engine.execute(program(
            "import os, subprocess\nprint(os.path.exists('/tmp/left.txt'))\n"
            "print(subprocess.run(['pgrep', '-f', 'sleep 301'], capture_output=True).returncode)"))
        assert first.stdout == "one\n", first.stderr
        assert second.stdout == "False\n1\n", second.stderr
    finally:
        backend.close()
    assert {c.id for c in labelled(client)} - before == set()


def test_leftovers_of_a_dead_process_are_removed_on_start(client, tmp_path):
    from runtimes.backends.containers import container_options

    options = container_options(images.RUNTIME_IMAGE, Limits(), network=False)
    options["labels"] = {LABEL: "1", f"{LABEL}.owner": "999999999"}  # a pid that cannot exist
    orphan = client.containers.run(**options)
    backend = DockerBackend(client=client, pool_size=0)
    backend.close()
    assert orphan.id not in {c.id for c in labelled(client)}


def test_an_engine_failure_is_a_sandbox_error_not_a_crash(client, tmp_path):
    backend = DockerBackend(client=client, image="code-arena/does-not-exist:0", pool_size=0)
    try:
        result = Engine(backend, Limits(), root=tmp_path).execute(
            Program(environment="python", language="python", files={"main.py": "print(1)"}, entry="main.py",
                    python_packages=["tabulate"]))
    finally:
        backend.close()
    assert result.status == "sandbox_error" and "container" in result.message
