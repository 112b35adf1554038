"""API models (OpenAI, Anthropic, Gemini, …) and OpenAI-compatible servers, through `litellm`.

litellm is imported lazily: it takes seconds to import and the app must start fast.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from core import secrets
from core.providers.base import (
    AuthenticationFailed,
    BadRequest,
    ChatRequest,
    Chunk,
    ModelNotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

# Which variable holds the key of each litellm provider prefix.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "fireworks_ai": "FIREWORKS_API_KEY",
    "cohere": "COHERE_API_KEY",
    "xai": "XAI_API_KEY",
}
# Local OpenAI-compatible servers (llama.cpp, vLLM, LM Studio) accept any key, but the client insists on one.
PLACEHOLDER_KEY = "no-key-needed"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
DEFAULT_TIMEOUT_S = 120.0


def import_litellm():
    # Never fetch the price map from the network: the bundled copy is enough and the machine may be offline.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    _tame_logging()
    return litellm


def _tame_logging() -> None:
    """litellm logs INFO lines to stdout, which would corrupt `--json` output, and may log request details: route
    its logs to stderr and scrub secrets from them."""
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if not isinstance(handler, logging.StreamHandler) or getattr(handler, "arena_tamed", False):
                continue
            replacement = logging.StreamHandler(sys.stderr)
            replacement.setLevel(handler.level)
            replacement.setFormatter(handler.formatter)
            replacement.addFilter(secrets.RedactingFilter())
            replacement.arena_tamed = True  # type: ignore[attr-defined]
            logger.removeHandler(handler)
            logger.addHandler(replacement)


def provider_prefix(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def key_variable(model: str, api_key_env: str | None = None) -> str | None:
    return api_key_env or KEY_VARIABLES.get(provider_prefix(model))


class LiteLLMProvider:
    name = "litellm"

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        litellm = import_litellm()
        opts = request.options
        retries = int(opts.get("max_retries", DEFAULT_RETRIES))
        backoff = float(opts.get("backoff_s", DEFAULT_BACKOFF_S))
        api_key = self._api_key(request)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.message_dicts(),
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            "stop": request.stop,
            "api_base": opts.get("api_base"),
            "api_key": api_key,
            "timeout": float(opts.get("timeout_s", DEFAULT_TIMEOUT_S)),
            "num_retries": 0,  # retries are ours, so they are visible and bounded
        }
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        errors = _ErrorTranslator(request, api_key)
        usage = Chunk()
        received_text = False
        for attempt in range(retries + 1):
            try:
                response = litellm.completion(**kwargs)
                for part in response:
                    text, finish = _delta(part)
                    _read_usage(part, usage)
                    if text:
                        received_text = True
                        yield Chunk(text=text)
                    if finish:
                        usage.finish_reason = finish
                break
            except GeneratorExit:
                raise
            except Exception as exc:  # translated into a typed ProviderError below
                error = errors.translate(exc, received_text)
                # Only a failure before any text can be retried: a retry after text would duplicate the answer.
                if not error.retryable or received_text or attempt == retries:
                    raise error from exc
                self._sleep(_retry_delay(exc, backoff, attempt))
        usage.cost_usd = _cost(litellm, request.model, usage, opts.get("api_base"))
        yield Chunk(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            finish_reason=usage.finish_reason or "stop",
            cost_usd=usage.cost_usd,
        )

    def _api_key(self, request: ChatRequest) -> str | None:
        variable = key_variable(request.model, request.options.get("api_key_env"))
        key = secrets.get_secret(variable) if variable else None
        if key is None and request.options.get("api_base"):
            return PLACEHOLDER_KEY
        return key


def _delta(part: Any) -> tuple[str, str | None]:
    choices = getattr(part, "choices", None) or []
    if not choices:
        return "", None
    choice = choices[0]
    delta = getattr(choice, "delta", None)
    return (getattr(delta, "content", None) or ""), getattr(choice, "finish_reason", None)


def _read_usage(part: Any, into: Chunk) -> None:
    usage = getattr(part, "usage", None)
    if usage:
        into.input_tokens = getattr(usage, "prompt_tokens", None) or into.input_tokens
        into.output_tokens = getattr(usage, "completion_tokens", None) or into.output_tokens


def _cost(litellm, model: str, usage: Chunk, api_base: str | None) -> float | None:
    """Cost from litellm's bundled price map; None when the model is not priced (e.g. a self-hosted server)."""
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=usage.input_tokens or 0, completion_tokens=usage.output_tokens or 0
        )
    except Exception:  # noqa: BLE001 - litellm raises several types for unmapped models
        return None
    return round(prompt_cost + completion_cost, 8)


def _retry_delay(exc: Exception, backoff: float, attempt: int) -> float:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    retry_after = headers.get("retry-after") if hasattr(headers, "get") else None
    if retry_after is not None:
        try:
            return min(float(retry_after), MAX_BACKOFF_S)
        except ValueError:
            pass
    return min(backoff * (2**attempt), MAX_BACKOFF_S)


class _ErrorTranslator:
    def __init__(self, request: ChatRequest, api_key: str | None) -> None:
        self.request = request
        self.api_key = api_key
        self.where = request.options.get("api_base") or provider_prefix(request.model)

    def translate(self, exc: Exception, received_text: bool) -> ProviderError:
        litellm = import_litellm()
        model = self.request.model
        context = {"provider": "litellm", "model": model}
        detail = secrets.redact(_short(exc), [self.api_key] if self.api_key else None) or ""
        variable = key_variable(model, self.request.options.get("api_key_env"))
        if isinstance(exc, ProviderError):
            return exc
        if received_text and not isinstance(exc, litellm.RateLimitError):
            return StreamInterrupted(f"The answer from {self.where} was cut off: {detail}", **context)
        if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
            hint = f"check {variable} in your environment or .env" if variable else "check the model's API key"
            return AuthenticationFailed(f"{self.where} refused the key for {model}: {hint}. ({detail})", **context)
        if isinstance(exc, litellm.NotFoundError):
            return ModelNotFound(f"{self.where} does not know the model '{model}'. ({detail})", **context)
        if isinstance(exc, litellm.RateLimitError):
            return RateLimited(f"{self.where} is rate-limiting requests; try again later. ({detail})", **context)
        if isinstance(exc, litellm.Timeout):
            return ProviderTimeout(f"{self.where} did not answer in time. ({detail})", **context)
        if isinstance(exc, litellm.APIConnectionError) or _is_connection_failure(exc):
            return ProviderUnavailable(f"{self.where} is not reachable: is the server running? ({detail})", **context)
        if isinstance(exc, (litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)):
            return ServerError(f"{self.where} failed with a server error. ({detail})", **context)
        if isinstance(exc, (litellm.BadRequestError, litellm.UnprocessableEntityError)):
            return BadRequest(f"{self.where} rejected the request for {model}. ({detail})", **context)
        return ProviderError(f"{self.where} failed: {detail}", **context)


def _is_connection_failure(exc: BaseException) -> bool:
    """litellm reports a refused connection as an InternalServerError; the cause chain tells the truth."""
    import httpx

    seen = exc
    for _ in range(10):
        if isinstance(seen, (httpx.ConnectError, ConnectionRefusedError)):
            return True
        if type(seen).__name__ == "APIConnectionError" and "timed out" not in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
        if seen is None:
            return False
    return False


def _short(exc: Exception, limit: int = 500) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[:limit] + "…"
