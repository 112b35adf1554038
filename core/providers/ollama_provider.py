"""Local models served by Ollama, through the official `ollama` client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import ollama

from core import config
from core.providers.base import (
    BadRequest,
    ChatRequest,
    Chunk,
    ModelNotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    ServerError,
    StreamInterrupted,
)

DEFAULT_KEEP_ALIVE = "10m"
# Connecting must be quick (a dead server should fail at once), but a big model may take minutes to load.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class InstalledModel:
    name: str
    size: int | None
    family: str | None
    parameter_size: str | None
    quantization: str | None


@dataclass(frozen=True)
class PullProgress:
    status: str
    completed: int | None
    total: int | None

    @property
    def fraction(self) -> float | None:
        return self.completed / self.total if self.total and self.completed is not None else None


class OllamaProvider:
    name = "ollama"

    def __init__(self, host: str | None = None, read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self.host = (host or config.ollama_host()).rstrip("/")
        timeout = httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S)
        self.client = ollama.Client(host=self.host, timeout=timeout)

    def unreachable_message(self) -> str:
        return f"Ollama is not reachable at {self.host}: start it with `ollama serve` (or set OLLAMA_HOST)."

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        options = {
            "temperature": request.temperature,
            "num_predict": request.max_tokens,
            "seed": request.seed,
            "stop": request.stop,
        }
        received_text = False
        with self._translated_errors(request.model, lambda: received_text):
            parts = self.client.chat(
                model=request.model,
                messages=request.message_dicts(),
                stream=True,
                options={k: v for k, v in options.items() if v is not None},
                keep_alive=request.options.get("keep_alive", DEFAULT_KEEP_ALIVE),
            )
            for part in parts:
                text = part.message.content or ""
                received_text = received_text or bool(text)
                if part.done:
                    yield Chunk(
                        text=text,
                        input_tokens=part.prompt_eval_count,
                        output_tokens=part.eval_count,
                        finish_reason=part.done_reason or "stop",
                        cost_usd=0.0,  # a local model costs nothing per token
                    )
                elif text:
                    yield Chunk(text=text)

    def list_models(self) -> list[InstalledModel]:
        with self._translated_errors(""):
            listed = self.client.list()
        return [
            InstalledModel(
                name=m.model or "",
                size=m.size,
                family=m.details.family if m.details else None,
                parameter_size=m.details.parameter_size if m.details else None,
                quantization=m.details.quantization_level if m.details else None,
            )
            for m in listed.models
        ]

    def is_reachable(self) -> bool:
        try:
            self.client.list()
        except Exception:  # noqa: BLE001 - any failure means "not usable now"; the caller reports it
            return False
        return True

    def pull(self, model: str) -> Iterator[PullProgress]:
        try:
            with self._translated_errors(model):
                for progress in self.client.pull(model, stream=True):
                    yield PullProgress(progress.status or "", progress.completed, progress.total)
        except ProviderError as error:
            if "file does not exist" in error.message or "manifest" in error.message:
                raise ModelNotFound(
                    f"Ollama's library has no model '{model}': check the name and tag (e.g. qwen2.5-coder:1.5b).",
                    provider="ollama",
                    model=model,
                ) from error
            raise

    def show(self, model: str) -> dict:
        with self._translated_errors(model):
            return self.client.show(model).model_dump(exclude_none=True, mode="json")

    def _translated_errors(self, model: str, received_text=lambda: False):
        return _OllamaErrors(self, model, received_text)


class _OllamaErrors:
    """Turns the client's exceptions into ProviderErrors that say what to do."""

    def __init__(self, provider: OllamaProvider, model: str, received_text) -> None:
        self.provider, self.model, self.received_text = provider, model, received_text

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, (ProviderError, GeneratorExit)):
            return False
        context = {"provider": "ollama", "model": self.model}
        if isinstance(exc, (ConnectionError, httpx.ConnectError)):
            raise ProviderUnavailable(self.provider.unreachable_message(), **context) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise ProviderTimeout(f"Ollama at {self.provider.host} did not answer in time ({exc}).", **context) from exc
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404 or "not found" in str(exc.error).lower():
                raise ModelNotFound(
                    f"Model '{self.model}' is not pulled in Ollama: run `ollama pull {self.model}`, "
                    "or pull it from Settings.",
                    **context,
                ) from exc
            if self.received_text():
                raise StreamInterrupted(f"Ollama stopped mid-answer: {exc.error}", **context) from exc
            # -1: an error line inside a 200 stream, i.e. the server failed after accepting the request.
            if exc.status_code >= 500 or exc.status_code == -1:
                raise ServerError(f"Ollama failed: {exc.error}", **context) from exc
            raise BadRequest(f"Ollama rejected the request: {exc.error}", **context) from exc
        if isinstance(exc, (httpx.HTTPError, ValueError)):
            raise StreamInterrupted(
                f"The answer from Ollama at {self.provider.host} was cut off ({type(exc).__name__}: {exc}).", **context
            ) from exc
        return False
