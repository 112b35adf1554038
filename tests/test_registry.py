from pathlib import Path

import pytest

from core import registry
from core.providers import Message, request_for
from core.registry import ModelEntry, RegistryError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_fresh_machine_offers_two_builtin_contestants(tmp_path):
    reg = registry.load(tmp_path / "missing.toml")
    enabled = reg.enabled()
    assert {e.name for e in enabled} == {"smollm2-precise", "smollm2-creative"}
    assert all(e.provider == "local" for e in enabled)
    assert enabled[0].params["temperature"] != enabled[1].params["temperature"]
    assert reg.get("manual").enabled is False


def test_file_adds_models_and_overrides_builtins(tmp_path):
    path = write(
        tmp_path,
        """
[ollama]
host = "http://127.0.0.1:9999"
discover = false

[[models]]
name = "gpt-mini"
provider = "litellm"
model = "openai/gpt-4o-mini"
weight = 2
api_key_env = "MY_OPENAI_KEY"
[models.params]
temperature = 0.3

[[models]]
name = "smollm2-creative"
provider = "local"
model = "smollm2-135m"
enabled = false
""",
    )
    reg = registry.load(path)
    assert reg.ollama_host == "http://127.0.0.1:9999"
    assert reg.discover_ollama is False
    assert reg.get("gpt-mini").weight == 2.0
    assert reg.get("gpt-mini").api_key_env == "MY_OPENAI_KEY"
    assert reg.get("smollm2-creative").enabled is False
    assert {e.name for e in reg.enabled()} == {"smollm2-precise", "gpt-mini"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[models]]\nname='x'\nprovider='nope'\nmodel='m'\n", "provider must be one of"),
        ("[[models]]\nname='x'\nprovider='ollama'\n", "'model' is required"),
        ("[[models]]\nname='x'\nprovider='ollama'\nmodel='m'\ncolour='red'\n", "unknown field"),
        ("[[models]]\nname='x'\nprovider='ollama'\nmodel='m'\n[models.params]\ntemprature=1\n", "unknown param"),
        ("[[models]]\nname='x'\nprovider='ollama'\nmodel='m'\nweight=-1\n", "weight must be"),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_invalid_files_say_what_is_wrong(tmp_path, text, fragment):
    with pytest.raises(RegistryError, match=fragment):
        registry.load(write(tmp_path, text))


def test_unknown_name_lists_known_ones(tmp_path):
    reg = registry.load(tmp_path / "none.toml")
    with pytest.raises(RegistryError, match="smollm2-precise"):
        reg.get("gpt-17")


def test_save_then_load_keeps_user_entries_and_changed_builtins(tmp_path):
    reg = registry.load(tmp_path / "models.toml")
    reg.entries["coder"] = ModelEntry(name="coder", provider="ollama", model="qwen2.5-coder:1.5b", weight=0.5)
    reg.entries["smollm2-creative"].enabled = False
    reg.add_discovered(["llama3.2:1b"])
    path = registry.save(reg)
    text = path.read_text()
    assert "coder" in text and "llama3.2" not in text  # discovered models are found again, not frozen
    again = registry.load(path)
    assert again.get("coder").weight == 0.5
    assert again.get("smollm2-creative").enabled is False
    assert again.get("smollm2-precise").enabled is True


def test_discovery_skips_models_configured_under_another_name(tmp_path):
    reg = registry.load(tmp_path / "none.toml")
    reg.entries["coder"] = ModelEntry(name="coder", provider="ollama", model="qwen2.5-coder:1.5b")
    added = reg.add_discovered(["qwen2.5-coder:1.5b", "llama3.2:1b"])
    assert [e.name for e in added] == ["ollama/llama3.2:1b"]
    assert reg.get("ollama/llama3.2:1b").source == "discovered"


def test_request_carries_parameters_and_system_prompt():
    entry = ModelEntry(
        name="x",
        provider="litellm",
        model="openai/m",
        params={"temperature": 0.1, "system_prompt": "Be brief.", "keep_alive": "1m", "stop": ["END"]},
        api_base="http://127.0.0.1:1/v1",
    )
    request = request_for(entry, [Message("user", "hi")], temperature=0.7, max_tokens=50)
    assert request.temperature == 0.7 and request.max_tokens == 50 and request.stop == ["END"]
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.options == {"keep_alive": "1m", "api_base": "http://127.0.0.1:1/v1"}


def test_the_example_registry_shipped_with_the_repo_is_valid():
    reg = registry.load(registry.config.REPO_ROOT / "models.example.toml")
    assert reg.get("gpt-4o-mini").api_key_env == "OPENAI_API_KEY"
    assert reg.get("llama-cpp-server").api_base == "http://127.0.0.1:8080/v1"
    assert reg.get("claude-haiku").enabled is False
