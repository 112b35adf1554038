"""API models through the real `litellm`, against a loopback server speaking OpenAI's Chat Completions protocol."""

import socket

import pytest

from core.pairing import PairedGenerations
from core.providers import (
    AuthenticationFailed,
    ChatRequest,
    Generation,
    Message,
    ModelNotFound,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from core.providers.litellm_provider import LiteLLMProvider
from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import ModelBehaviour

KEY = "sk-test-0123456789abcdefghijklmnop"
PRICED_MODEL = "gpt-4o-mini"  # in litellm's bundled price map


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with OpenAITestServer({PRICED_MODEL: ModelBehaviour(reply="print('hello')", chunk_size=3),
                           "local-coder": ModelBehaviour(reply="fn main() {}", chunk_size=4)},
                          api_key=KEY) as srv:
        yield srv


def request(server, model=PRICED_MODEL, **options):
    return ChatRequest(
        model=f"openai/{model}",
        messages=[Message("user", "hello")],
        options={"api_base": server.base_url, "max_retries": 0, "backoff_s": 0.01, **options},
    )


def no_sleep(_seconds):
    return None


def test_streams_with_usage_and_cost_from_the_bundled_price_map(server):
    req = request(server)
    req.temperature, req.max_tokens, req.seed, req.stop = 0.2, 300, 7, ["END"]
    generation = Generation(LiteLLMProvider(), req)
    deltas = list(generation)
    completion = generation.completion
    assert "".join(deltas) == "print('hello')" and len(deltas) >= 3
    assert completion.output_tokens == 5 and completion.input_tokens > 0
    expected = completion.input_tokens * 0.15e-6 + completion.output_tokens * 0.6e-6
    assert completion.cost_usd == pytest.approx(expected, rel=1e-6)
    body = server.last_body("/v1/chat/completions")
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"]) == (0.2, 300, 7, ["END"])
    headers = server.requests_to("/v1/chat/completions")[-1].headers
    assert headers["authorization"] == f"Bearer {KEY}"


def test_self_hosted_model_has_no_price_and_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAITestServer({"local-coder": ModelBehaviour(reply="fn main() {}")}) as srv:
        completion = Generation(LiteLLMProvider(), request(srv, "local-coder")).run()
    assert completion.text == "fn main() {}" and completion.cost_usd is None


def test_wrong_key_is_an_authentication_error_that_never_shows_the_key(server, monkeypatch):
    wrong = "sk-wrong-9876543210zyxwvutsrqponm"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    with pytest.raises(AuthenticationFailed) as caught:
        Generation(LiteLLMProvider(), request(server)).run()
    assert "OPENAI_API_KEY" in caught.value.message
    assert wrong not in caught.value.message and wrong[:12] not in str(caught.value)


def test_unknown_model(server):
    with pytest.raises(ModelNotFound, match="gpt-17"):
        Generation(LiteLLMProvider(), request(server, "gpt-17")).run()


def test_rate_limit_then_success_is_retried_with_backoff(server):
    server.models[PRICED_MODEL] = ModelBehaviour(reply="ok now", status=429, fail_times=2, retry_after=None)
    delays = []
    provider = LiteLLMProvider(sleep=delays.append)
    completion = Generation(provider, request(server, max_retries=3, backoff_s=0.5)).run()
    assert completion.text == "ok now"
    assert delays == [0.5, 1.0]
    assert server.models[PRICED_MODEL].calls == 3


def test_retry_after_header_is_honoured(server):
    server.models[PRICED_MODEL] = ModelBehaviour(reply="ok", status=429, fail_times=1, retry_after="2")
    delays = []
    Generation(LiteLLMProvider(sleep=delays.append), request(server, max_retries=2)).run()
    assert delays == [2.0]


def test_rate_limit_that_persists_is_reported(server):
    server.models[PRICED_MODEL] = ModelBehaviour(status=429)
    with pytest.raises(RateLimited):
        Generation(LiteLLMProvider(sleep=no_sleep), request(server, max_retries=2)).run()
    assert server.models[PRICED_MODEL].calls == 3


def test_server_errors_are_retried(server):
    server.models[PRICED_MODEL] = ModelBehaviour(reply="fine", status=503, fail_times=1)
    assert Generation(LiteLLMProvider(sleep=no_sleep), request(server, max_retries=1)).run().text == "fine"


def test_stream_cut_midway_is_not_retried_and_keeps_the_text(server):
    server.models[PRICED_MODEL] = ModelBehaviour(reply="abcdefghijklmnop", chunk_size=2, cut_after_chunks=3)
    generation = Generation(LiteLLMProvider(sleep=no_sleep), request(server, max_retries=3))
    with pytest.raises(StreamInterrupted):
        generation.run()
    assert generation.completion.text == "abcdef"
    assert server.models[PRICED_MODEL].calls == 1


def test_slow_first_token_is_measured(server):
    server.models[PRICED_MODEL] = ModelBehaviour(reply="abcd", chunk_size=2, first_token_delay=0.3)
    completion = Generation(LiteLLMProvider(), request(server)).run()
    assert completion.ttft_ms >= 280


def test_timeout(server):
    server.models[PRICED_MODEL] = ModelBehaviour(hang=True)
    with pytest.raises(ProviderTimeout):
        Generation(LiteLLMProvider(), request(server, timeout_s=0.5)).run()


def test_server_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    req = ChatRequest(model="openai/x", messages=[Message("user", "hi")],
                      options={"api_base": f"http://127.0.0.1:{port}/v1", "max_retries": 0})
    with pytest.raises(ProviderUnavailable, match="not reachable"):
        Generation(LiteLLMProvider(), req).run()


def test_two_streams_at_once_one_failing(server):
    server.models["local-coder"] = ModelBehaviour(reply="z" * 60, chunk_size=3, chunk_delay=0.01)
    server.models["broken"] = ModelBehaviour(status=500)
    pair = PairedGenerations(
        {
            "a": Generation(LiteLLMProvider(), request(server, "local-coder")),
            "b": Generation(LiteLLMProvider(sleep=no_sleep), request(server, "broken")),
        }
    ).start()
    events = list(pair.events())
    outcomes = pair.wait(10)
    assert outcomes["a"].ok and outcomes["a"].completion.text == "z" * 60
    assert outcomes["b"].error is not None and outcomes["b"].completion.text == ""
    assert [e.kind for e in events if e.side == "b"] == ["error"]
