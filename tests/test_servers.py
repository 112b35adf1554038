"""The loopback test servers, driven by the real clients: `ollama.Client`, `litellm` and the `openai` SDK.

These also pin down which exception each client raises for each fault (the providers translate them):

fault                  ollama.Client                                litellm.completion("openai/...", stream=True)
connection refused     ConnectionError; stream=True: httpx.ConnectError  InternalServerError ("Connection error.")
401 / 404 / 429 / 500  ResponseError, .status_code = the HTTP status    AuthenticationError / NotFoundError /
                                                                         RateLimitError / InternalServerError
stream cut mid-way     httpx.RemoteProtocolError                         exceptions.MidStreamFallbackError (a
                                                                         ServiceUnavailableError, status_code 500,
                                                                         .original_exception APIConnectionError)
error line in stream   ResponseError, .status_code == -1                 exceptions.MidStreamFallbackError
read timeout           httpx.ReadTimeout                                 Timeout
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time

import httpx
import ollama
import openai
import pytest

try:
    from tests.servers import DEFAULT_REPLY, ModelBehaviour, OllamaTestServer, OpenAITestServer
except ModuleNotFoundError:  # the repository root is not on sys.path (no pytest pythonpath setting yet)
    from servers import DEFAULT_REPLY, ModelBehaviour, OllamaTestServer, OpenAITestServer

pytestmark = pytest.mark.timeout(20)

USER = [{"role": "user", "content": "Write hello world in Python."}]
QWEN = "qwen2.5-coder:1.5b"


@pytest.fixture(scope="module")
def litellm():
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no price-map download
    module = importlib.import_module("litellm")
    module.suppress_debug_info = True
    module.telemetry = False
    return module


@pytest.fixture
def connect():
    """Make a client (ollama.Client, openai.OpenAI...) that is closed after the test."""
    made = []

    def make(factory, *args, **kwargs):
        made.append(factory(*args, **kwargs))
        return made[-1]

    yield make
    for client in made:
        client.close()


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("test-server")]


@pytest.fixture(autouse=True)
def no_leaked_server_threads():
    yield
    assert server_threads() == []


def litellm_stream(litellm, srv, model, **kwargs):
    response = litellm.completion(
        model=f"openai/{model}",
        messages=USER,
        api_base=srv.url + "/v1",
        api_key=kwargs.pop("api_key", "k"),
        stream=True,
        num_retries=0,
        max_retries=0,
        **kwargs,
    )
    return list(response)


def text_of(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- Ollama ---------------------------------------------------------------------------------------------------


def test_ollama_root_version_list_and_show(connect):
    models = {QWEN: ModelBehaviour(), "tiny": ModelBehaviour(family="llama", parameter_size="135M", size=1234)}
    with OllamaTestServer(models) as srv:
        assert httpx.get(srv.url).text == "Ollama is running"
        assert httpx.get(srv.url + "/api/version").json() == {"version": "0.12.0"}
        client = connect(ollama.Client, host=srv.url)

        listed = {m.model: m for m in client.list().models}
        assert set(listed) == {QWEN, "tiny:latest"}  # an untagged name is listed as ':latest', as in Ollama
        tiny = listed["tiny:latest"]
        assert (tiny.size, tiny.details.family, tiny.details.parameter_size) == (1234, "llama", "135M")
        assert tiny.details.format == "gguf" and tiny.modified_at is not None and len(tiny.digest) == 64

        shown = client.show("tiny")  # both spellings resolve
        assert shown.details.quantization_level == "Q4_K_M" and shown.capabilities == ["completion"]
        assert shown.modelinfo["general.parameter_count"] == 135_000_000 and "FROM" in shown.modelfile
        with pytest.raises(ollama.ResponseError) as missing:
            client.show("absent")
        assert missing.value.status_code == 404


def test_ollama_pull_streams_progress_then_the_model_is_installed(connect):
    with OllamaTestServer({}, pullable={"llama3.2:1b": ModelBehaviour(size=9_000)}) as srv:
        client = connect(ollama.Client, host=srv.url)
        assert client.list().models == []
        progress = list(client.pull("llama3.2:1b", stream=True))
        statuses = [p.status for p in progress]
        assert statuses[0] == "pulling manifest" and statuses[-3:] == [
            "verifying sha256 digest",
            "writing manifest",
            "success",
        ]
        layer = [p for p in progress if p.total == 9_000]
        assert layer[0].digest.startswith("sha256:") and layer[-1].completed == 9_000
        assert [m.model for m in client.list().models] == ["llama3.2:1b"]
        assert srv.pullable == {}

        with pytest.raises(ollama.ResponseError, match="file does not exist") as streamed:
            list(client.pull("nonexistent", stream=True))
        assert streamed.value.status_code == -1  # the error arrives as a line inside a 200 stream
        with pytest.raises(ollama.ResponseError) as whole:
            client.pull("nonexistent")
        assert whole.value.status_code == 500


def test_ollama_chat_stream_reassembles_the_reply_and_reports_counts(connect):
    with OllamaTestServer() as srv:
        client = connect(ollama.Client, host=srv.url)
        parts = list(
            client.chat(
                model=QWEN,
                messages=USER,
                stream=True,
                options={"temperature": 0.2, "seed": 7, "num_predict": 500},
                keep_alive="10m",
            )
        )
        pieces = [p.message.content for p in parts if not p.done]
        assert "".join(pieces) == DEFAULT_REPLY and all(len(p) <= 4 for p in pieces)
        final = parts[-1]
        assert final.done and final.done_reason == "stop" and final.message.content == ""
        assert final.eval_count == len(pieces)
        assert final.prompt_eval_count == -(-len(USER[0]["content"]) // 4)
        assert final.total_duration > 0 and final.eval_duration > 0 and final.created_at

        body = srv.last_body("/api/chat")
        assert body["options"] == {"temperature": 0.2, "seed": 7, "num_predict": 500}
        assert body["keep_alive"] == "10m" and body["stream"] is True and body["messages"] == USER
        assert srv.requests_to("/api/chat")[-1].headers["user-agent"].startswith("ollama-python/")
        assert [m.model for m in client.ps().models] == [QWEN]


def test_ollama_honours_num_predict_stop_and_reply_fn(connect):
    behaviour = ModelBehaviour(reply_fn=lambda messages, body: f"echo: {messages[-1]['content']} END tail")
    with OllamaTestServer({"echo": behaviour}) as srv:
        client = connect(ollama.Client, host=srv.url)
        limited = list(client.chat(model="echo", messages=USER, stream=True, options={"num_predict": 3}))
        assert limited[-1].done_reason == "length" and limited[-1].eval_count == 3
        assert "".join(p.message.content for p in limited) == f"echo: {USER[0]['content']}"[:12]

        stopped = client.chat(model="echo", messages=USER, options={"stop": [" END"]})  # stream=False
        assert stopped.message.content == f"echo: {USER[0]['content']}" and stopped.done_reason == "stop"
        assert client.generate(model="echo", prompt="hi").response == "echo: hi END tail"


def test_ollama_unknown_model_and_http_faults(connect):
    models = {"busy": ModelBehaviour(status=429, fail_times=1), "broken": ModelBehaviour(status=500)}
    with OllamaTestServer(models) as srv:
        client = connect(ollama.Client, host=srv.url)
        with pytest.raises(ollama.ResponseError) as missing:
            list(client.chat(model="nope", messages=USER, stream=True))
        assert missing.value.status_code == 404
        assert missing.value.error == 'model "nope" not found, try pulling it first'

        with pytest.raises(ollama.ResponseError) as busy:
            client.chat(model="busy", messages=USER)
        assert busy.value.status_code == 429
        assert client.chat(model="busy", messages=USER).message.content == DEFAULT_REPLY  # only the first failed

        with pytest.raises(ollama.ResponseError) as broken:
            list(client.chat(model="broken", messages=USER, stream=True))
        assert broken.value.status_code == 500 and "llama runner" in broken.value.error


def test_ollama_stream_cut_and_in_stream_error(connect):
    models = {"cut": ModelBehaviour(cut_after_chunks=2), "err": ModelBehaviour(cut_after_chunks=1, stream_error="oom")}
    with OllamaTestServer(models) as srv:
        client = connect(ollama.Client, host=srv.url)
        received = []
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            for part in client.chat(model="cut", messages=USER, stream=True):
                received.append(part.message.content)
        assert received == [DEFAULT_REPLY[:4], DEFAULT_REPLY[4:8]]

        with pytest.raises(ollama.ResponseError, match="oom") as in_stream:
            list(client.chat(model="err", messages=USER, stream=True))
        assert in_stream.value.status_code == -1


def test_ollama_refused_and_timeout(connect):
    with OllamaTestServer({"slow": ModelBehaviour(hang_after_chunks=1)}) as srv:
        client = connect(ollama.Client, host=srv.url, timeout=0.15)
        received = []
        with pytest.raises(httpx.ReadTimeout):
            for part in client.chat(model="slow", messages=USER, stream=True):
                received.append(part.message.content)
        assert received == [DEFAULT_REPLY[:4]]
    stopped = connect(ollama.Client, host=srv.url)  # the server is gone: its port refuses
    with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
        stopped.list()
    with pytest.raises(httpx.ConnectError):  # the streaming path does not wrap it
        list(stopped.chat(model=QWEN, messages=USER, stream=True))


def test_ollama_openai_compatible_routes(connect):
    with OllamaTestServer({"tiny": ModelBehaviour(reply="ok then")}) as srv:
        client = connect(openai.OpenAI, base_url=srv.url + "/v1", api_key="ollama", max_retries=0)
        assert [m.id for m in client.models.list()] == ["tiny:latest"]
        stream = client.chat.completions.create(
            model="tiny", messages=USER, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        assert text_of(chunks) == "ok then" and chunks[-1].usage.completion_tokens == 2
        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(model="absent", messages=USER)
        assert missing.value.body["message"] == 'model "absent" not found, try pulling it first'
        assert missing.value.body["type"] == "not_found_error"


# -- OpenAI ---------------------------------------------------------------------------------------------------


def test_openai_sdk_models_whole_answer_and_api_key(connect):
    with OpenAITestServer(api_key="sk-right") as srv:
        client = connect(openai.OpenAI, base_url=srv.url + "/v1", api_key="sk-right", max_retries=0)
        assert [(m.id, m.object) for m in client.models.list()] == [("gpt-4o-mini", "model")]
        whole = client.chat.completions.create(model="gpt-4o-mini", messages=USER, max_tokens=2, seed=3)
        assert whole.object == "chat.completion" and whole.choices[0].finish_reason == "length"
        assert whole.choices[0].message.content == DEFAULT_REPLY[:8]
        assert (whole.usage.completion_tokens, whole.usage.total_tokens) == (2, 2 + whole.usage.prompt_tokens)

        wrong = connect(openai.OpenAI, base_url=srv.url + "/v1", api_key="sk-wrong-123", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as refused:
            wrong.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert "Incorrect API key provided: sk-wrong-123" in str(refused.value)  # echoed, as some servers do
        assert refused.value.code == "invalid_api_key"
        assert httpx.get(srv.url + "/v1/models").status_code == 401


def test_openai_retry_after_zero_lets_the_sdk_retry_at_once(connect):
    with OpenAITestServer({"m": ModelBehaviour(status=429, fail_times=1)}) as srv:
        raw = httpx.post(srv.url + "/v1/chat/completions", json={"model": "m", "messages": USER})
        assert raw.status_code == 429 and raw.headers["retry-after"] == "0" and raw.headers["retry-after-ms"] == "1"
        assert raw.json()["error"]["code"] == "rate_limit_exceeded"
        srv.models["m"] = ModelBehaviour(status=429, fail_times=1)  # a fresh script: fail once more
        client = connect(openai.OpenAI, base_url=srv.url + "/v1", api_key="k", max_retries=1)
        started = time.monotonic()
        assert client.chat.completions.create(model="m", messages=USER).choices[0].message.content == DEFAULT_REPLY
        assert time.monotonic() - started < 0.3 and len(srv.requests_to("/v1/chat/completions")) == 3


def test_litellm_stream_reassembles_with_usage_and_sends_parameters(litellm):
    with OpenAITestServer({"coder": ModelBehaviour(chunk_size=3)}, api_key="sk-test") as srv:
        chunks = litellm_stream(
            litellm,
            srv,
            "coder",
            api_key="sk-test",
            stream_options={"include_usage": True},
            temperature=0.3,
            max_tokens=400,
            seed=5,
            stop=["NEVER"],
        )
        assert text_of(chunks) == DEFAULT_REPLY
        assert chunks[-1].usage.completion_tokens == -(-len(DEFAULT_REPLY) // 3)
        assert chunks[-1].usage.prompt_tokens == -(-len(USER[0]["content"]) // 3)
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]

        request = srv.requests_to("/v1/chat/completions")[-1]
        assert request.headers["authorization"] == "Bearer sk-test"
        body = request.body
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"]) == (0.3, 400, 5, ["NEVER"])

        limited = litellm_stream(litellm, srv, "coder", api_key="sk-test", max_completion_tokens=2)
        assert text_of(limited) == DEFAULT_REPLY[:6]
        assert [c.choices[0].finish_reason for c in limited if c.choices and c.choices[0].finish_reason] == ["length"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, "AuthenticationError"), (404, "NotFoundError"), (429, "RateLimitError"), (500, "InternalServerError")],
)
def test_litellm_maps_http_faults(litellm, status, expected):
    with OpenAITestServer({"m": ModelBehaviour(status=status)}) as srv:
        with pytest.raises(getattr(litellm, expected)) as caught:
            litellm_stream(litellm, srv, "m")
        assert type(caught.value) is getattr(litellm.exceptions, expected)
        assert caught.value.status_code == status


def test_litellm_unknown_model_429_then_success_and_cut_stream(litellm):
    models = {
        "busy": ModelBehaviour(status=429, fail_times=1),
        "cut": ModelBehaviour(cut_after_chunks=2),
        "err": ModelBehaviour(cut_after_chunks=1, stream_error="overloaded"),
    }
    with OpenAITestServer(models) as srv:
        with pytest.raises(litellm.NotFoundError, match="The model `ghost` does not exist"):
            litellm_stream(litellm, srv, "ghost")
        with pytest.raises(litellm.RateLimitError):
            litellm_stream(litellm, srv, "busy")
        assert text_of(litellm_stream(litellm, srv, "busy")) == DEFAULT_REPLY

        with pytest.raises(litellm.exceptions.MidStreamFallbackError) as cut:
            litellm_stream(litellm, srv, "cut")
        assert isinstance(cut.value, litellm.ServiceUnavailableError) and cut.value.status_code == 500
        assert isinstance(cut.value.original_exception, litellm.APIConnectionError)
        with pytest.raises(litellm.exceptions.MidStreamFallbackError, match="overloaded"):
            litellm_stream(litellm, srv, "err")


def test_litellm_timeout_refused_and_a_hanging_model_can_be_stopped(litellm):
    srv = OpenAITestServer({"hang": ModelBehaviour(hang=True)}).start()
    with pytest.raises(litellm.Timeout):
        litellm_stream(litellm, srv, "hang", timeout=0.15)

    outcome = {}

    def wait_forever():
        try:
            litellm_stream(litellm, srv, "hang", timeout=30)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
            outcome["error"] = exc

    waiter = threading.Thread(target=wait_forever)
    waiter.start()
    while len(srv.requests) < 2:
        time.sleep(0.01)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 1.0
    waiter.join(5)
    assert not waiter.is_alive() and isinstance(outcome["error"], litellm.InternalServerError)

    with pytest.raises(litellm.InternalServerError, match="Connection error"):  # refused: the port is closed
        litellm_stream(litellm, srv, "hang")


# -- both -----------------------------------------------------------------------------------------------------


def test_client_disconnect_is_recorded_and_stop_closes_everything():
    before = {t.ident for t in threading.enumerate()}
    srv = OllamaTestServer({"slow": ModelBehaviour(chunk_delay=0.01)}).start()
    with httpx.Client() as client:
        with client.stream("POST", srv.url + "/api/chat", json={"model": "slow", "messages": USER}) as response:
            first = json.loads(next(response.iter_lines()))
        assert first["message"]["content"] == DEFAULT_REPLY[:4] and first["done"] is False
        client.get(srv.url + "/api/tags")  # an idle keep-alive connection stays open until stop()
        deadline = time.monotonic() + 2
        while not srv.client_disconnects and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.client_disconnects == ["slow"]
        srv.stop()
        srv.stop()  # idempotent
    assert {t.ident for t in threading.enumerate()} <= before
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/api/tags")


def test_error_body_override_and_first_token_delay(connect):
    models = {
        "proxy": ModelBehaviour(status=502, error_body="<html>Bad Gateway</html>"),
        "slow": ModelBehaviour(first_token_delay=0.1, reply="hi"),
    }
    with OpenAITestServer(models) as srv:
        raw = httpx.post(srv.url + "/v1/chat/completions", json={"model": "proxy", "messages": USER})
        assert (raw.status_code, raw.text) == (502, "<html>Bad Gateway</html>")
        client = connect(openai.OpenAI, base_url=srv.url + "/v1", api_key="k", max_retries=0)
        started = time.monotonic()
        stream = client.chat.completions.create(model="slow", messages=USER, stream=True)
        assert text_of(stream) == "hi" and time.monotonic() - started >= 0.1


def test_ollama_api_key_and_a_failing_reply_fn(connect):
    def broken(messages, body):
        raise ValueError("bad script")

    with OllamaTestServer({"x": ModelBehaviour(reply_fn=broken)}, api_key="secret") as srv:
        assert httpx.get(srv.url).status_code == 200
        with pytest.raises(ollama.ResponseError) as refused:
            connect(ollama.Client, host=srv.url).list()
        assert refused.value.status_code == 401
        client = connect(ollama.Client, host=srv.url, headers={"Authorization": "Bearer secret"})
        with pytest.raises(ollama.ResponseError, match="ValueError: bad script") as failed:
            client.chat(model="x", messages=USER)
        assert failed.value.status_code == 500 and [str(e) for e in srv.errors] == ["bad script"]
