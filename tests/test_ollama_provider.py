"""The Ollama provider through the real `ollama` client, against a loopback server speaking Ollama's API."""

import socket
import time

import pytest

from core.pairing import PairedGenerations
from core.providers import (
    ChatRequest,
    Generation,
    Message,
    ModelNotFound,
    ProviderTimeout,
    ProviderUnavailable,
    StreamInterrupted,
)
from core.providers.ollama_provider import OllamaProvider
from tests.servers.ollama_server import OllamaTestServer
from tests.servers.scripts import ModelBehaviour

MODEL = "qwen2.5-coder:1.5b"


def request(model=MODEL, **kwargs):
    return ChatRequest(model=model, messages=[Message("user", "Write hello world")], **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server():
    with OllamaTestServer({MODEL: ModelBehaviour(reply="```python\nprint('hi')\n```", chunk_size=3)}) as srv:
        yield srv


def test_streams_an_answer_with_usage_options_and_keep_alive(server):
    provider = OllamaProvider(server.url)
    generation = Generation(provider, request(temperature=0.3, max_tokens=500, seed=42, stop=["###"],
                                              options={"keep_alive": "30m"}))
    deltas = list(generation)
    completion = generation.completion
    assert "".join(deltas) == "```python\nprint('hi')\n```" and len(deltas) > 3
    assert completion.output_tokens == len(deltas) and completion.input_tokens > 0
    assert completion.finish_reason == "stop" and completion.cost_usd == 0.0
    body = server.last_body("/api/chat")
    assert body["options"] == {"temperature": 0.3, "num_predict": 500, "seed": 42, "stop": ["###"]}
    assert body["keep_alive"] == "30m" and body["stream"] is True


def test_max_tokens_ends_with_length(server):
    completion = Generation(OllamaProvider(server.url), request(max_tokens=2)).run()
    assert completion.finish_reason == "length" and completion.output_tokens == 2


def test_lists_installed_models_with_details(server):
    models = OllamaProvider(server.url).list_models()
    assert [(m.name, m.family, m.parameter_size, m.quantization) for m in models] == [
        (MODEL, "qwen2", "1.5B", "Q4_K_M")
    ]
    assert models[0].size > 0


def test_pull_reports_progress_then_the_model_is_installed():
    with OllamaTestServer({}, pullable={"llama3.2:1b": ModelBehaviour()}) as srv:
        provider = OllamaProvider(srv.url)
        progress = list(provider.pull("llama3.2:1b"))
        assert progress[-1].status == "success"
        fractions = [p.fraction for p in progress if p.fraction is not None]
        assert fractions and all(0 <= f <= 1 for f in fractions) and fractions[-1] == 1.0  # one bar per layer
        assert [m.name for m in provider.list_models()] == ["llama3.2:1b"]
        with pytest.raises(ModelNotFound):
            list(provider.pull("no-such-model"))


def test_show_returns_model_details(server):
    shown = OllamaProvider(server.url).show(MODEL)
    assert shown["details"]["family"] == "qwen2"


def test_server_down_says_how_to_start_it():
    host = f"http://127.0.0.1:{free_port()}"
    provider = OllamaProvider(host)
    with pytest.raises(ProviderUnavailable) as caught:
        Generation(provider, request()).run()
    expected = f"Ollama is not reachable at {host}: start it with `ollama serve` (or set OLLAMA_HOST)."
    assert caught.value.message == expected
    with pytest.raises(ProviderUnavailable):
        provider.list_models()
    assert provider.is_reachable() is False


def test_model_not_pulled_says_how_to_pull_it(server):
    with pytest.raises(ModelNotFound) as caught:
        Generation(OllamaProvider(server.url), request(model="llama3.2:1b")).run()
    assert "`ollama pull llama3.2:1b`" in caught.value.message and "Settings" in caught.value.message


def test_stream_cut_midway_keeps_the_partial_answer(server):
    server.models[MODEL] = ModelBehaviour(reply="abcdefghijklmnopqrstuvwxyz", chunk_size=2, cut_after_chunks=4)
    generation = Generation(OllamaProvider(server.url), request())
    with pytest.raises(StreamInterrupted):
        generation.run()
    assert generation.completion.text == "abcdefgh"
    assert generation.completion.finish_reason == "error"


def test_error_line_inside_the_stream_is_an_interruption(server):
    server.models[MODEL] = ModelBehaviour(reply="abcdefghijkl", chunk_size=2, cut_after_chunks=2,
                                          stream_error="model runner crashed")
    generation = Generation(OllamaProvider(server.url), request())
    with pytest.raises(StreamInterrupted, match="model runner crashed"):
        generation.run()
    assert generation.completion.text == "abcd"


def test_slow_first_token_is_measured(server):
    server.models[MODEL] = ModelBehaviour(reply="abcdef", chunk_size=2, first_token_delay=0.3)
    completion = Generation(OllamaProvider(server.url), request()).run()
    assert completion.ttft_ms >= 280 and completion.latency_ms >= completion.ttft_ms


def test_a_server_that_stops_answering_times_out(server):
    server.models[MODEL] = ModelBehaviour(reply="abcdef", chunk_size=2, hang_after_chunks=1)
    generation = Generation(OllamaProvider(server.url, read_timeout_s=0.5), request())
    started = time.monotonic()
    with pytest.raises((ProviderTimeout, StreamInterrupted)):
        generation.run()
    assert time.monotonic() - started < 5
    assert generation.completion.text == "ab"


def test_two_streams_at_once_one_failing(server):
    server.models[MODEL] = ModelBehaviour(reply="x" * 40, chunk_size=2, chunk_delay=0.01)
    provider = OllamaProvider(server.url)
    pair = PairedGenerations(
        {"a": Generation(provider, request()), "b": Generation(provider, request(model="missing:7b"))}
    ).start()
    list(pair.events())
    outcomes = pair.wait(10)
    assert outcomes["a"].ok and outcomes["a"].completion.text == "x" * 40
    assert isinstance(outcomes["b"].error, ModelNotFound)


def test_stopping_a_generation_closes_the_stream(server):
    server.models[MODEL] = ModelBehaviour(reply="y" * 400, chunk_size=1, chunk_delay=0.01)
    generation = Generation(OllamaProvider(server.url), request())
    for index, _ in enumerate(generation):
        if index == 5:
            generation.stop()
    assert generation.completion.finish_reason == "cancelled"
    assert len(generation.completion.text) < 50
    deadline = time.monotonic() + 3
    while not server.client_disconnects and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.client_disconnects, "the server should see the client hang up"
