"""A loopback server speaking OpenAI's Chat Completions protocol (what litellm's `openai/...` models and the
`openai` SDK talk to): GET /v1/models and POST /v1/chat/completions, streamed as SSE or whole, with OpenAI's
error shapes. The OllamaTestServer mounts the same routes for Ollama's OpenAI-compatible API."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, ClassVar

from .base import BaseHandler, TestServer
from .scripts import ModelBehaviour, plan_reply

_ids = itertools.count(1)

OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
}


def openai_error(message: str, type_: str = "invalid_request_error", code: str | None = None, param=None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIRoutes:
    """The /v1 routes, mixed into a BaseHandler. Errors come from `self.owner.openai_error_for(...)`."""

    openai_routes: ClassVar[dict[tuple[str, str], str]] = {
        ("GET", "/v1/models"): "handle_v1_models",
        ("POST", "/v1/chat/completions"): "handle_v1_chat",
    }

    def openai_fail(self: Any, status: int, behaviour: ModelBehaviour | None = None, **context: Any) -> None:
        default = self.owner.openai_error_for(status, **context)
        self.send_error_body(status, default, behaviour, {"x-request-id": f"req_{next(_ids):08x}"})

    def authorised(self: Any) -> bool:
        """Check `Authorization: Bearer <key>` when the server has an api_key; answer 401 otherwise."""
        if self.owner.api_key is None:
            return True
        key = bearer_key(self.headers)
        if key == self.owner.api_key:
            return True
        self.openai_fail(401, sent_key=key)
        return False

    def handle_v1_models(self: Any) -> None:
        if not self.authorised():
            return
        data = []
        for name in self.owner.model_ids():
            behaviour = self.owner.lookup(name)
            if behaviour is None:  # removed meanwhile
                continue
            data.append({"id": name, "object": "model", "created": behaviour.created, "owned_by": behaviour.owned_by})
        self.send_json(200, {"object": "list", "data": data})

    def handle_v1_chat(self: Any) -> None:
        if not self.authorised():
            return
        if not self.body_ok or not isinstance(self.body, dict):
            return self.send_json(400, openai_error("We could not parse the JSON body of your request."))
        body = self.body
        model = body.get("model")
        if not model:
            return self.send_json(400, openai_error("you must provide a model parameter", param="model"))
        behaviour = self.owner.lookup(model)
        if behaviour is None:
            return self.openai_fail(404, model=model)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.send_json(
                400,
                openai_error(
                    "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
                ),
            )
        self.model_name = model
        if self.owner.fails_now(behaviour):
            return self.openai_fail(behaviour.status, behaviour, model=model, sent_key=bearer_key(self.headers))
        if behaviour.hang:
            self.pause(None)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        plan = plan_reply(behaviour, messages, body, max_tokens=max_tokens, stop=body.get("stop"))
        usage = {
            "prompt_tokens": plan.prompt_tokens,
            "completion_tokens": plan.completion_tokens,
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        }
        ident, created = f"chatcmpl-test{next(_ids):08x}", int(time.time())
        base = {"id": ident, "created": created, "model": model, "system_fingerprint": "fp_test"}
        if not body.get("stream"):
            error = self.wait_whole_reply(behaviour, plan)
            if error is not None:
                return self.openai_fail(500, None, message=error)
            message = {"role": "assistant", "content": plan.text, "refusal": None}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish_reason}
            return self.send_json(
                200,
                {**base, "object": "chat.completion", "choices": [choice], "usage": usage},
                {"x-request-id": f"req_{ident}"},
            )

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def event(payload: dict) -> None:
            self.write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def chunk(delta: dict, finish_reason: str | None = None) -> None:
            payload = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                payload["usage"] = None
            event(payload)

        def emit(piece: str) -> None:
            if not sent_role:
                sent_role.append(True)
                chunk({"role": "assistant", "content": "", "refusal": None})
            chunk({"content": piece})

        def emit_error(message: str) -> None:
            event(self.owner.openai_error_for(500, message=message))

        sent_role: list[bool] = []
        self.start_stream("text/event-stream; charset=utf-8", {"x-request-id": f"req_{ident}"})
        if not self.stream_plan(behaviour, plan, emit, emit_error):
            return None
        if not sent_role:
            chunk({"role": "assistant", "content": "", "refusal": None})
        chunk({}, plan.finish_reason)
        if include_usage:
            event({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        self.write_chunk(b"data: [DONE]\n\n")
        self.end_stream()
        return None


def bearer_key(headers: Any) -> str | None:
    sent = headers.get("Authorization", "")
    return sent[7:] if sent.lower().startswith("bearer ") else None


class OpenAIHandler(OpenAIRoutes, BaseHandler):
    routes = OpenAIRoutes.openai_routes
    server_version = "openai-test"

    def unknown_route(self, method: str, path: str) -> None:
        self.send_json(404, openai_error(f"Invalid URL ({method} {path})"))


class OpenAITestServer(TestServer):
    """OpenAI Chat Completions on http://127.0.0.1:PORT/v1 (pass `srv.url + "/v1"` as api_base / base_url).

    With `api_key`, requests need `Authorization: Bearer <api_key>`; a wrong key gets a 401 whose message echoes
    the key sent (as some servers do), to test secret redaction."""

    handler_class = OpenAIHandler
    default_model = "gpt-4o-mini"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL: `srv.url + "/v1"` (litellm's api_base, the SDK's base_url)."""
        return self.v1_url

    def openai_error_for(
        self, status: int, *, model: str | None = None, sent_key: str | None = None, message: str | None = None
    ) -> dict:
        type_ = OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        if message is not None:
            return openai_error(message, type_)
        if status == 401:
            if not sent_key:
                return openai_error(
                    "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                )
            return openai_error(
                f"Incorrect API key provided: {sent_key}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        if status == 403:
            return openai_error("You are not allowed to sample from this model", code="permission_denied")
        if status == 404:
            return openai_error(
                f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
            )
        if status == 429:
            return openai_error(
                f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1. "
                "Please try again in 0s.",
                type_,
                code="rate_limit_exceeded",
            )
        if status == 503:
            return openai_error("The engine is currently overloaded, please try again later.", type_)
        if status >= 500:
            return openai_error("The server had an error while processing your request. Sorry about that!", type_)
        return openai_error(f"Request failed with status {status}.", type_)
