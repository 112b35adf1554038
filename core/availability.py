"""Can each registered model answer right now? Used by `python -m core models`, `doctor` and the Settings page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import httpx

from core import secrets
from core.providers import ProviderError
from core.providers import local_provider as local
from core.providers.litellm_provider import key_variable
from core.providers.ollama_provider import InstalledModel, OllamaProvider
from core.registry import ModelEntry, Registry

PROBE_TIMEOUT_S = 2.0


@dataclass
class ModelStatus:
    name: str
    display_name: str
    provider: str
    model: str
    enabled: bool
    source: str
    reachable: bool | None  # None: not checked (a cloud API is not called just to look)
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class OllamaStatus:
    host: str
    reachable: bool
    message: str
    models: list[InstalledModel]


def ollama_status(host: str) -> OllamaStatus:
    provider = OllamaProvider(host, read_timeout_s=PROBE_TIMEOUT_S)
    try:
        models = provider.list_models()
    except ProviderError as error:
        return OllamaStatus(provider.host, False, error.message, [])
    return OllamaStatus(provider.host, True, f"Ollama is running at {provider.host}", models)


def discover(registry: Registry) -> OllamaStatus:
    """Add installed Ollama models to the registry (when discovery is on) and report the server's state."""
    status = ollama_status(registry.ollama_host)
    if registry.discover_ollama and status.reachable:
        registry.add_discovered([m.name for m in status.models])
    return status


def model_statuses(registry: Registry, ollama: OllamaStatus | None = None) -> list[ModelStatus]:
    installed = {m.name for m in ollama.models} if ollama else set()
    entries = list(registry.entries.values())
    with ThreadPoolExecutor(max_workers=8) as pool:
        checks = list(pool.map(lambda e: _check(e, registry, ollama, installed), entries))
    return [
        ModelStatus(e.name, e.display_name, e.provider, e.model, e.enabled, e.source, reachable, detail)
        for e, (reachable, detail) in zip(entries, checks, strict=True)
    ]


def _check(entry: ModelEntry, registry: Registry, ollama: OllamaStatus | None, installed: set[str]):
    if entry.provider == "local":
        return local.status()
    if entry.provider == "manual":
        return True, "answers are pasted by you"
    if entry.provider == "ollama":
        return _check_ollama(entry, registry, ollama, installed)
    return _check_litellm(entry)


def _check_ollama(entry: ModelEntry, registry: Registry, ollama: OllamaStatus | None, installed: set[str]):
    if entry.api_base and (ollama is None or entry.api_base.rstrip("/") != ollama.host):
        ollama = ollama_status(entry.api_base)
        installed = {m.name for m in ollama.models}
    if ollama is None:
        ollama = ollama_status(registry.ollama_host)
        installed = {m.name for m in ollama.models}
    if not ollama.reachable:
        return False, ollama.message
    if entry.model in installed or f"{entry.model}:latest" in installed:
        return True, f"installed in Ollama at {ollama.host}"
    return False, f"not pulled: run `ollama pull {entry.model}`, or pull it from Settings"


def _check_litellm(entry: ModelEntry):
    variable = key_variable(entry.model, entry.api_key_env)
    has_key = bool(variable and secrets.get_secret(variable))
    if entry.api_base:
        headers = {"Authorization": f"Bearer {secrets.get_secret(variable)}"} if has_key and variable else {}
        try:
            response = httpx.get(entry.api_base.rstrip("/") + "/models", headers=headers, timeout=PROBE_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return False, f"{entry.api_base} is not reachable ({type(exc).__name__})"
        if response.status_code in (401, 403):
            return False, f"{entry.api_base} refused the key" + (f": check {variable}" if variable else "")
        return response.status_code < 400, f"{entry.api_base} answered HTTP {response.status_code}"
    if variable is None:
        return None, "no key variable known for this provider: set api_key_env in models.toml"
    if has_key:
        return None, f"{variable} is set (not called: no request is spent on a check)"
    return False, f"missing key: set {variable} in your environment or .env"
