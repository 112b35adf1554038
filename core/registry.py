"""The model registry: which models can enter the arena, under which names and parameters.

Sources, in order of precedence: the user's `models.toml` (readable, editable, later written by the Settings page),
the built-in contestants, and models discovered on a running Ollama server. The file never holds a key: an entry
names the environment variable that holds its key (`api_key_env`).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from core import config
from core.providers.local_provider import BUILTIN_MODEL_ID

PROVIDERS = ("ollama", "litellm", "local", "manual")
# Parameters an entry may set; anything else in [models.params] is rejected so typos do not pass silently.
PARAM_NAMES = ("temperature", "max_tokens", "seed", "stop", "system_prompt", "keep_alive", "timeout_s", "max_retries")


class RegistryError(ValueError):
    """The registry file is unreadable or an entry is invalid; the message names the entry and the fix."""


@dataclass
class ModelEntry:
    name: str
    provider: str
    model: str
    display_name: str = ""
    enabled: bool = True
    weight: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    api_base: str | None = None
    api_key_env: str | None = None
    source: str = "config"  # builtin | config | discovered

    def __post_init__(self) -> None:
        if not self.display_name:
            self.display_name = self.name

    def to_toml(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v not in (None, {}) and k != "source"}
        return data


BUILTIN_ENTRIES = (
    ModelEntry(
        name="smollm2-precise",
        display_name="SmolLM2-135M · precise (t=0.2)",
        provider="local",
        model=BUILTIN_MODEL_ID,
        params={"temperature": 0.2, "max_tokens": 768},
        source="builtin",
    ),
    ModelEntry(
        name="smollm2-creative",
        display_name="SmolLM2-135M · creative (t=0.9)",
        provider="local",
        model=BUILTIN_MODEL_ID,
        params={"temperature": 0.9, "max_tokens": 768},
        source="builtin",
    ),
    # Never drawn into a battle by chance (disabled); chosen by hand in side-by-side mode.
    ModelEntry(
        name="manual", display_name="Pasted answer", provider="manual", model="manual", enabled=False, source="builtin"
    ),
)


@dataclass
class Registry:
    entries: dict[str, ModelEntry]
    ollama_host: str
    discover_ollama: bool = True
    path: Path | None = None

    def enabled(self) -> list[ModelEntry]:
        return [e for e in self.entries.values() if e.enabled]

    def get(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise RegistryError(f"No model named '{name}' in the registry (known: {known}).") from None

    def add_discovered(self, ollama_models: list[str]) -> list[ModelEntry]:
        """Add installed Ollama models not already configured under another name."""
        configured = {e.model for e in self.entries.values() if e.provider == "ollama"}
        added = []
        for model in ollama_models:
            name = f"ollama/{model}"
            if model in configured or name in self.entries:
                continue
            entry = ModelEntry(name=name, provider="ollama", model=model, display_name=model, source="discovered")
            self.entries[name] = entry
            added.append(entry)
        return added


def load(path: Path | None = None) -> Registry:
    path = path or config.models_path()
    entries = {e.name: _copy(e) for e in BUILTIN_ENTRIES}
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path} is not valid TOML: {exc}") from exc
    for raw in data.get("models", []):
        entry = parse_entry(raw, path)
        entries[entry.name] = entry
    ollama = data.get("ollama", {})
    return Registry(
        entries=entries,
        ollama_host=ollama.get("host") or config.ollama_host(),
        discover_ollama=bool(ollama.get("discover", True)),
        path=path,
    )


def save(registry: Registry, path: Path | None = None) -> Path:
    """Write the user's entries (built-ins only where changed; discovered ones are found again next time)."""
    path = path or registry.path or config.models_path()
    builtins = {e.name: e for e in BUILTIN_ENTRIES}
    models = [
        e.to_toml()
        for e in registry.entries.values()
        if e.source == "config" or (e.source == "builtin" and e != builtins.get(e.name))
    ]
    document = {"ollama": {"host": registry.ollama_host, "discover": registry.discover_ollama}, "models": models}
    path.write_text(_HEADER + tomli_w.dumps(document), encoding="utf-8")
    return path


def parse_entry(raw: Any, path: Path | None = None) -> ModelEntry:
    where = f"{path}: " if path else ""
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}each [[models]] entry must be a table.")
    name = raw.get("name")
    known = {f.name for f in fields(ModelEntry)} - {"source"}
    unknown = set(raw) - known
    if unknown:
        raise RegistryError(f"{where}model '{name}': unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}.")
    for required in ("name", "provider", "model"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise RegistryError(f"{where}model '{name}': '{required}' is required and must be text.")
    if raw["provider"] not in PROVIDERS:
        raise RegistryError(f"{where}model '{name}': provider must be one of {', '.join(PROVIDERS)}.")
    params = raw.get("params", {})
    bad_params = set(params) - set(PARAM_NAMES)
    if bad_params:
        raise RegistryError(f"{where}model '{name}': unknown param(s) {sorted(bad_params)}; allowed: {PARAM_NAMES}.")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or weight < 0:
        raise RegistryError(f"{where}model '{name}': weight must be a number ≥ 0.")
    return ModelEntry(**{**raw, "weight": float(weight), "params": dict(params)}, source="config")


def _copy(entry: ModelEntry) -> ModelEntry:
    return ModelEntry(**{**asdict(entry), "params": dict(entry.params)})


_HEADER = """\
# Code Arena model registry. Edit freely; the Settings page writes it too.
# Keys never go here: name the environment variable (or .env entry) that holds one with api_key_env.
# provider: ollama | litellm | local | manual.  litellm models use litellm's "provider/model" ids,
# e.g. "openai/gpt-4o-mini", "anthropic/claude-3-5-sonnet-latest", or "openai/<name>" with api_base for an
# OpenAI-compatible server (llama.cpp, vLLM, LM Studio).

"""
