"""A loopback server speaking Ollama's REST API (the JSON shapes of Ollama 0.12) for the real `ollama` client:
/, /api/version, /api/tags, /api/ps, /api/show, /api/pull, /api/delete, /api/chat, /api/generate, plus
Ollama's OpenAI-compatible /v1/models and /v1/chat/completions (the OpenAI server's routes)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from .base import BaseHandler, TestServer
from .openai_server import OpenAIRoutes, bearer_key, openai_error
from .scripts import ModelBehaviour, parameter_count, plan_reply

OLLAMA_ERRORS = {
    400: "invalid request",
    401: "unauthorized",
    403: "forbidden",
    429: "too many requests, please try again later",
    500: "llama runner process has terminated: exit status 2",
    503: "server busy, please try again.  maximum pending requests exceeded",
}
PULL_NOT_FOUND = "pull model manifest: file does not exist"
TEMPLATE = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
PARAMETERS = 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"'
DEFAULT_KEEP_ALIVE_S = 300.0


def canonical(name: str) -> str:
    """Ollama's full model name: a name without a tag means ':latest'."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def digest_of(name: str, layer: str = "manifest") -> str:
    return hashlib.sha256(f"{canonical(name)}/{layer}".encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def not_found(model: str) -> str:
    return f'model "{model}" not found, try pulling it first'


def keep_alive_seconds(value: Any) -> float | None:
    """Seconds a model stays loaded (None: forever), from keep_alive: a number of seconds or a Go duration."""
    if value is None:
        return DEFAULT_KEEP_ALIVE_S
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}
        parts = re.findall(r"(-?\d+(?:\.\d+)?)(ms|s|m|h|)", str(value).strip())
        if not parts:
            return DEFAULT_KEEP_ALIVE_S
        seconds = sum(float(n) * units[u] for n, u in parts)
    return None if seconds < 0 else seconds


class OllamaHandler(OpenAIRoutes, BaseHandler):
    routes: ClassVar[dict[tuple[str, str], str]] = {
        ("GET", "/"): "handle_root",
        ("GET", "/api/version"): "handle_version",
        ("GET", "/api/tags"): "handle_tags",
        ("GET", "/api/ps"): "handle_ps",
        ("POST", "/api/show"): "handle_show",
        ("POST", "/api/pull"): "handle_pull",
        ("DELETE", "/api/delete"): "handle_delete",
        ("POST", "/api/chat"): "handle_chat",
        ("POST", "/api/generate"): "handle_generate",
        **OpenAIRoutes.openai_routes,
    }
    server_version = "ollama-test"
    owner: OllamaTestServer  # type: ignore[assignment]

    def check_access(self, path: str) -> bool:
        """With an api_key (Ollama behind an auth proxy, or ollama.com), native routes need the bearer key."""
        if self.owner.api_key is None or path.startswith("/v1/") or path == "/":
            return True
        if bearer_key(self.headers) == self.owner.api_key:
            return True
        self.error(401, "unauthorized")
        return False

    # -- small helpers ----------------------------------------------------------------------------------

    def error(self, status: int, message: str, behaviour: ModelBehaviour | None = None) -> None:
        self.send_error_body(status, {"error": message}, behaviour)

    def request_json(self) -> dict | None:
        if not self.body_ok or not isinstance(self.body, dict):
            self.error(400, "invalid character in request body" if self.body is not None else "missing request body")
            return None
        return self.body

    def ndjson(self, payload: dict) -> None:
        self.write_chunk(json.dumps(payload).encode() + b"\n")

    def start_ndjson(self) -> None:
        self.start_stream("application/x-ndjson")

    def model_of(self, body: dict) -> str | None:
        model = body.get("model") or body.get("name")
        if not isinstance(model, str) or not model:
            self.error(400, "model is required")
            return None
        return model

    # -- listing -----------------------------------------------------------------------------------------

    def handle_root(self) -> None:
        self.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")

    def handle_version(self) -> None:
        self.send_json(200, {"version": self.owner.version})

    def handle_tags(self) -> None:
        models = []
        for name in self.owner.model_ids():
            b = self.owner.lookup(name)
            if b is None:  # removed meanwhile
                continue
            models.append(
                {
                    "name": name,
                    "model": name,
                    "modified_at": b.modified_at,
                    "size": b.size,
                    "digest": digest_of(name),
                    "details": self.owner.details(b),
                }
            )
        self.send_json(200, {"models": models})

    def handle_ps(self) -> None:
        models = []
        for name, expires in self.owner.loaded_models().items():
            b = self.owner.lookup(name)
            if b is None:
                continue
            models.append(
                {
                    "name": name,
                    "model": name,
                    "size": b.size,
                    "digest": digest_of(name),
                    "details": self.owner.details(b),
                    "expires_at": expires,
                    "size_vram": b.size,
                    "context_length": b.context_length,
                }
            )
        self.send_json(200, {"models": models})

    def handle_show(self) -> None:
        body = self.request_json()
        model = self.model_of(body) if body is not None else None
        if not model:
            return
        b = self.owner.lookup(model)
        if b is None:
            return self.error(404, f"model '{model}' not found")
        name = canonical(model)
        arch = b.family
        self.send_json(
            200,
            {
                "license": "Apache License 2.0 (test server)",
                "modelfile": (
                    '# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM '
                    f"with:\n# FROM {name}\n\nFROM /root/.ollama/models/blobs/sha256-{digest_of(name, 'model')}\n"
                    f'TEMPLATE """{TEMPLATE}"""\nPARAMETER stop <|im_start|>\nPARAMETER stop <|im_end|>\n'
                ),
                "parameters": PARAMETERS,
                "template": TEMPLATE,
                "details": self.owner.details(b),
                "model_info": {
                    "general.architecture": arch,
                    "general.basename": name.split(":")[0],
                    "general.file_type": 15,
                    "general.parameter_count": parameter_count(b.parameter_size),
                    "general.quantization_version": 2,
                    f"{arch}.context_length": b.context_length,
                    f"{arch}.block_count": 28,
                    f"{arch}.embedding_length": 1536,
                },
                "capabilities": list(b.capabilities),
                "modified_at": b.modified_at,
            },
        )

    def handle_delete(self) -> None:
        body = self.request_json()
        model = self.model_of(body) if body is not None else None
        if not model:
            return
        if not self.owner.remove(model):
            return self.error(404, f"model '{model}' not found")
        self.send_bytes(200, b"", "application/json; charset=utf-8")

    # -- pull --------------------------------------------------------------------------------------------

    def handle_pull(self) -> None:
        body = self.request_json()
        model = self.model_of(body) if body is not None else None
        if not model:
            return
        stream = body.get("stream", True) is not False
        key, behaviour = self.owner.find_pullable(model)
        if behaviour is None:
            if not stream:
                return self.error(500, PULL_NOT_FOUND)
            self.start_ndjson()
            self.ndjson({"status": "pulling manifest"})
            self.ndjson({"error": PULL_NOT_FOUND})
            return self.end_stream()
        if stream:
            self.start_ndjson()
            self.ndjson({"status": "pulling manifest"})
            for layer, total in (("model", behaviour.size), ("template", 1_482), ("license", 11_343), ("params", 148)):
                digest = "sha256:" + digest_of(model, layer)
                for completed in (0, total // 3, 2 * total // 3, total):
                    self.pause(behaviour.chunk_delay)
                    line = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total}
                    if completed:
                        line["completed"] = completed
                    self.ndjson(line)
            self.ndjson({"status": "verifying sha256 digest"})
            self.ndjson({"status": "writing manifest"})
        self.owner.install(key, behaviour)
        if not stream:
            return self.send_json(200, {"status": "success"})
        self.ndjson({"status": "success"})
        self.end_stream()

    # -- generation --------------------------------------------------------------------------------------

    def handle_chat(self) -> None:
        body = self.request_json()
        if body is not None:
            messages = body.get("messages") or []
            messages = messages if isinstance(messages, list) else []
            self.generate(
                body, messages, lambda text: {"message": {"role": "assistant", "content": text}}, load_only=not messages
            )

    def handle_generate(self) -> None:
        body = self.request_json()
        if body is None:
            return
        messages = [{"role": "system", "content": body["system"]}] if body.get("system") else []
        if body.get("prompt"):
            messages.append({"role": "user", "content": body["prompt"]})
        self.generate(body, messages, lambda text: {"response": text}, load_only=not body.get("prompt"))

    def generate(self, body: dict, messages: list, shape: Callable[[str], dict], *, load_only: bool) -> None:
        model = self.model_of(body)
        if not model:
            return
        behaviour = self.owner.lookup(model)
        if behaviour is None:
            return self.error(404, not_found(model))
        self.model_name = model
        started = time.monotonic_ns()
        stream = body.get("stream", True) is not False
        keep_alive = keep_alive_seconds(body.get("keep_alive"))

        def head() -> dict:
            return {"model": model, "created_at": now_iso()}

        if load_only:
            # An empty request loads (or, with keep_alive 0, unloads) the model, as in Ollama.
            reason = "unload" if keep_alive == 0 else "load"
            self.owner.mark_loaded(model, keep_alive)
            final = {**head(), **shape(""), "done_reason": reason, "done": True}
            return self._send_one(stream, final)

        if self.owner.fails_now(behaviour):
            status = behaviour.status
            message = not_found(model) if status == 404 else OLLAMA_ERRORS.get(status, f"HTTP {status}")
            return self.error(status, message, behaviour)
        if behaviour.hang:
            self.pause(None)
        options = body.get("options") or {}
        plan = plan_reply(behaviour, messages, body, max_tokens=options.get("num_predict"), stop=options.get("stop"))
        first_load = self.owner.mark_loaded(model, keep_alive)

        def final_stats() -> dict:
            elapsed = max(2, time.monotonic_ns() - started)
            load = 1_000_000 if first_load else 50_000  # nanoseconds, like all Ollama durations
            prompt = max(1, elapsed // 10)
            return {
                "done_reason": plan.finish_reason,
                "done": True,
                "total_duration": load + elapsed,
                "load_duration": load,
                "prompt_eval_count": plan.prompt_tokens,
                "prompt_eval_duration": prompt,
                "eval_count": plan.completion_tokens,
                "eval_duration": elapsed - prompt,
            }

        if not stream:
            error = self.wait_whole_reply(behaviour, plan)
            if error is not None:
                return self.error(500, error)
            return self.send_json(200, {**head(), **shape(plan.text), **final_stats()})

        self.start_ndjson()
        if self.stream_plan(
            behaviour,
            plan,
            lambda piece: self.ndjson({**head(), **shape(piece), "done": False}),
            lambda message: self.ndjson({"error": message}),
        ):
            self.ndjson({**head(), **shape(""), **final_stats()})
            self.end_stream()

    def _send_one(self, stream: bool, payload: dict) -> None:
        if not stream:
            return self.send_json(200, payload)
        self.start_ndjson()
        self.ndjson(payload)
        self.end_stream()


class OllamaTestServer(TestServer):
    """Ollama on http://127.0.0.1:PORT (pass `srv.url` as the ollama client's host).

    models:   installed models, {name: ModelBehaviour}; a name without a tag is listed as 'name:latest' and
              both spellings resolve, as in Ollama.
    pullable: models that /api/pull can fetch; once pulled they move into `models`.
    """

    handler_class = OllamaHandler
    default_model = "qwen2.5-coder:1.5b"

    def __init__(
        self,
        models: Mapping[str, ModelBehaviour] | None = None,
        *,
        pullable: Mapping[str, ModelBehaviour] | None = None,
        version: str = "0.12.0",
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(models, api_key=api_key, host=host, port=port)
        self.pullable: dict[str, ModelBehaviour] = dict(pullable or {})
        self.version = version
        self.loaded: dict[str, float | None] = {}  # canonical name -> unload time (monotonic), None: never

    # -- names -------------------------------------------------------------------------------------------

    def lookup(self, name: Any) -> ModelBehaviour | None:
        key = self._key(self.models, name)
        return self.models.get(key) if key is not None else None

    @staticmethod
    def _key(table: Mapping[str, ModelBehaviour], name: Any) -> str | None:
        if not isinstance(name, str) or not name:
            return None
        if name in table:
            return name
        wanted = canonical(name)
        return next((k for k in list(table) if canonical(k) == wanted), None)

    def model_ids(self) -> list[str]:
        return [canonical(name) for name in list(self.models)]

    def details(self, b: ModelBehaviour) -> dict:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": b.family,
            "families": [b.family],
            "parameter_size": b.parameter_size,
            "quantization_level": b.quantization_level,
        }

    # -- pull / delete / load state ----------------------------------------------------------------------

    def find_pullable(self, name: str) -> tuple[str, ModelBehaviour | None]:
        with self._lock:
            key = self._key(self.pullable, name)
            if key is not None:
                return key, self.pullable[key]
            key = self._key(self.models, name)  # pulling an installed model re-checks it and succeeds
            return (key, self.models[key]) if key is not None else (name, None)

    def install(self, key: str, behaviour: ModelBehaviour) -> None:
        with self._lock:
            self.models[key] = behaviour
            if self.pullable.get(key) is behaviour:
                del self.pullable[key]

    def remove(self, name: str) -> bool:
        with self._lock:
            key = self._key(self.models, name)
            if key is None:
                return False
            del self.models[key]
            self.loaded.pop(canonical(key), None)
            return True

    def mark_loaded(self, name: str, keep_alive_s: float | None) -> bool:
        """Record a model as loaded for keep_alive seconds (0 unloads it); True when it was not loaded before."""
        with self._lock:
            key = canonical(name)
            was_loaded = key in self.loaded_models()
            if keep_alive_s == 0:
                self.loaded.pop(key, None)
            else:
                self.loaded[key] = None if keep_alive_s is None else time.monotonic() + keep_alive_s
            return not was_loaded

    def loaded_models(self) -> dict[str, str]:
        """Loaded models and when they unload, as /api/ps reports them."""
        now, wall = time.monotonic(), datetime.now(UTC)
        with self._lock:
            for key, until in list(self.loaded.items()):
                if until is not None and until <= now:
                    del self.loaded[key]
            return {
                key: (
                    datetime(2318, 1, 1, tzinfo=UTC) if until is None else wall + timedelta(seconds=until - now)
                ).isoformat()
                for key, until in self.loaded.items()
            }

    # -- Ollama's OpenAI-compatible errors (openai.NewError in Ollama) -------------------------------------

    def openai_error_for(
        self, status: int, *, model: str | None = None, sent_key: str | None = None, message: str | None = None
    ) -> dict:
        type_ = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        if message is None:
            message = not_found(model or "") if status == 404 else OLLAMA_ERRORS.get(status, f"HTTP {status}")
        return openai_error(message, type_)
