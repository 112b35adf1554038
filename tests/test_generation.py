"""The provider-independent wrapper: timing, stopping, partial answers, and two sides at once.

These use a small in-process provider so the wrapper's own logic is tested exactly; the wire-level behaviour
of each real provider is tested against loopback servers in test_ollama_provider / test_litellm_provider.
"""

import threading
import time

import pytest

from core.pairing import PairedGenerations
from core.providers import ChatRequest, Chunk, Generation, Message, ServerError, StreamInterrupted


class ScriptedProvider:
    name = "scripted"

    def __init__(self, pieces, delay=0.0, fail_after=None, first_delay=0.0):
        self.pieces, self.delay, self.fail_after, self.first_delay = pieces, delay, fail_after, first_delay
        self.closed = threading.Event()

    def stream(self, request):
        try:
            time.sleep(self.first_delay)
            for index, piece in enumerate(self.pieces):
                if self.fail_after is not None and index == self.fail_after:
                    raise StreamInterrupted("cut", provider=self.name)
                yield Chunk(text=piece)
                time.sleep(self.delay)
            yield Chunk(input_tokens=3, output_tokens=len(self.pieces), finish_reason="stop", cost_usd=0.5)
        finally:
            self.closed.set()


def request():
    return ChatRequest(model="m", messages=[Message("user", "hi")])


def test_completion_records_text_usage_and_timings():
    generation = Generation(ScriptedProvider(["a", "b", "c"], first_delay=0.05), request())
    completion = generation.run()
    assert completion.text == "abc"
    assert (completion.input_tokens, completion.output_tokens, completion.cost_usd) == (3, 3, 0.5)
    assert completion.finish_reason == "stop" and completion.error is None
    assert completion.ttft_ms >= 45 and completion.latency_ms >= completion.ttft_ms


def test_stop_from_another_thread_ends_the_stream_and_keeps_the_partial_text():
    provider = ScriptedProvider([f"{i} " for i in range(1000)], delay=0.002)
    generation = Generation(provider, request())
    threading.Timer(0.05, generation.stop).start()
    completion = generation.run()
    assert completion.finish_reason == "cancelled"
    assert 0 < len(completion.text) < len("".join(provider.pieces))
    assert provider.closed.wait(1), "the provider's stream must be closed when stopped"


def test_error_mid_stream_raises_typed_error_and_keeps_partial_text():
    generation = Generation(ScriptedProvider(["x", "y", "z"], fail_after=2), request())
    received = []
    with pytest.raises(StreamInterrupted):
        for delta in generation:
            received.append(delta)
    assert received == ["x", "y"]
    assert generation.completion.text == "xy"
    assert generation.completion.finish_reason == "error" and generation.completion.error == "cut"


class FailingProvider:
    name = "failing"

    def stream(self, request):
        raise ServerError("server exploded", provider=self.name)
        yield  # pragma: no cover - makes this a generator


def test_two_sides_at_once_one_failing_does_not_disturb_the_other():
    pair = PairedGenerations(
        {
            "a": Generation(ScriptedProvider(list("hello world"), delay=0.01), request()),
            "b": Generation(FailingProvider(), request()),
        }
    ).start()
    events = list(pair.events())
    outcomes = pair.wait(5)
    assert outcomes["a"].ok and outcomes["a"].completion.text == "hello world"
    assert not outcomes["b"].ok and outcomes["b"].error.message == "server exploded"
    assert [e.kind for e in events if e.side == "b"] == ["error"]
    assert "".join(e.text for e in events if e.side == "a" and e.kind == "delta") == "hello world"


def test_both_sides_stream_concurrently_and_each_can_be_stopped():
    slow = [f"{i} " for i in range(500)]
    pair = PairedGenerations(
        {
            "a": Generation(ScriptedProvider(slow, delay=0.005), request()),
            "b": Generation(ScriptedProvider(list("abcdef"), delay=0.005), request()),
        }
    ).start()
    sides_seen_before_b_done = set()
    for event in pair.events():
        if event.kind == "delta":
            sides_seen_before_b_done.add(event.side)
        if event.side == "b" and event.kind == "done":
            pair.stop("a")
    outcomes = pair.wait(5)
    assert sides_seen_before_b_done == {"a", "b"}
    assert outcomes["b"].completion.finish_reason == "stop"
    assert outcomes["a"].completion.finish_reason == "cancelled"
    assert not pair.running()


def test_a_pasted_answer_enters_like_any_model():
    from core import registry
    from core.providers import BadRequest, generation_for

    manual = registry.load(registry.config.REPO_ROOT / "absent.toml").get("manual")
    pasted = "Here you go:\n```python\nprint('from a web chat')\n```"
    completion = generation_for(manual, [Message("user", "hi")], answer=pasted).run()
    assert completion.text == pasted and completion.finish_reason == "stop" and completion.cost_usd == 0.0
    with pytest.raises(BadRequest, match="Paste an answer first"):
        generation_for(manual, [Message("user", "hi")], answer="   ").run()
