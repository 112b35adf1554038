"""Providers behind one streaming interface (see `base`). `generation_for` is the one way to start an answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.providers.base import (
    AuthenticationFailed,
    BadRequest,
    ChatRequest,
    Chunk,
    Completion,
    Generation,
    Message,
    ModelNotFound,
    NotInstalled,
    Provider,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

if TYPE_CHECKING:  # the registry imports providers; only the type is needed here
    from core.registry import ModelEntry

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ChatRequest",
    "Chunk",
    "Completion",
    "Generation",
    "Message",
    "ModelNotFound",
    "NotInstalled",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "ServerError",
    "StreamInterrupted",
    "generation_for",
    "provider_for",
    "request_for",
]

_REQUEST_FIELDS = ("temperature", "max_tokens", "seed", "stop")


def provider_for(entry: ModelEntry, ollama_host: str | None = None) -> Provider:
    if entry.provider == "ollama":
        from core.providers.ollama_provider import OllamaProvider

        return OllamaProvider(entry.api_base or ollama_host)
    if entry.provider == "litellm":
        from core.providers.litellm_provider import LiteLLMProvider

        return LiteLLMProvider()
    if entry.provider == "local":
        from core.providers.local_provider import LocalModelProvider

        return LocalModelProvider()
    if entry.provider == "manual":
        from core.providers.manual_provider import ManualProvider

        return ManualProvider()
    raise ValueError(f"Unknown provider '{entry.provider}' for model '{entry.name}'.")


def request_for(entry: ModelEntry, messages: list[Message], **overrides) -> ChatRequest:
    """The entry's parameters, overridden per call (e.g. temperature from the page); the system prompt goes first."""
    params = {**entry.params, **{k: v for k, v in overrides.items() if v is not None}}
    system_prompt = params.pop("system_prompt", None)
    if system_prompt and not (messages and messages[0].role == "system"):
        messages = [Message("system", system_prompt), *messages]
    options = {k: v for k, v in params.items() if k not in _REQUEST_FIELDS}
    if entry.api_base:
        options["api_base"] = entry.api_base
    if entry.api_key_env:
        options["api_key_env"] = entry.api_key_env
    return ChatRequest(model=entry.model, messages=list(messages), options=options,
                       **{k: params[k] for k in _REQUEST_FIELDS if k in params})


def generation_for(
    entry: ModelEntry, messages: list[Message], ollama_host: str | None = None, **overrides
) -> Generation:
    return Generation(provider_for(entry, ollama_host), request_for(entry, messages, **overrides))
