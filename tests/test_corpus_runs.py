"""The answer corpus (tests/corpus) end to end: extracted, then built and run on both sandbox backends, each
answer's result checked against its manifest."""

import json
from pathlib import Path

import pytest

from core.extraction import extract_program
from runtimes.engine import Engine
from runtimes.limits import Limits
from tests.sandbox_backends import BACKENDS, open_for_tests

pytestmark = [pytest.mark.sandbox, pytest.mark.docker, pytest.mark.slow]

CORPUS = Path(__file__).parent / "corpus"
RUNNABLE = [entry for entry in json.loads((CORPUS / "manifest.json").read_text()) if entry.get("expect")]


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, tmp_path_factory):
    backend = open_for_tests(request.param, Limits())
    yield Engine(backend, Limits(run_timeout_s=20), root=tmp_path_factory.mktemp(f"corpus-{request.param}"))
    backend.close()


def test_the_corpus_covers_every_program_environment():
    assert len(RUNNABLE) >= 40
    assert {e["environment"] for e in RUNNABLE} >= {"python", "javascript", "typescript", "c", "cpp", "java", "go",
                                                      "rust"}


@pytest.mark.parametrize("entry", RUNNABLE, ids=[e["file"] for e in RUNNABLE])
def test_answer_runs_as_expected(engine, entry):
    program = extract_program((CORPUS / "answers" / entry["file"]).read_text())
    result = engine.execute(program, stdin=entry.get("stdin"))
    expect = entry["expect"]
    context = (result.status, result.message, result.compile_output[-800:], result.stderr[-800:])
    assert result.status == expect["status"], context
    for text in expect.get("stdout_contains", []):
        assert text in result.stdout, (text, result.stdout[-800:])
    for text in expect.get("stderr_contains", []):
        assert text in result.stderr + result.compile_output, (text, context)
