"""Loopback servers speaking the real Ollama and OpenAI wire protocols, for tests that drive the real clients:

with OllamaTestServer({"qwen2.5-coder:1.5b": ModelBehaviour(reply="hi")}) as srv:
    ollama.Client(host=srv.url).chat(...)
with OpenAITestServer({"gpt-4o-mini": ModelBehaviour(status=429, fail_times=1)}, api_key="k") as srv:
    litellm.completion(model="openai/gpt-4o-mini", api_base=srv.base_url, api_key="k", ...)
"""

from .base import TestServer
from .ollama_server import OllamaTestServer
from .openai_server import OpenAITestServer
from .scripts import DEFAULT_REPLY, ModelBehaviour, RecordedRequest, ReplyPlan, count_tokens, plan_reply

__all__ = [
    "DEFAULT_REPLY",
    "ModelBehaviour",
    "OllamaTestServer",
    "OpenAITestServer",
    "RecordedRequest",
    "ReplyPlan",
    "TestServer",
    "count_tokens",
    "plan_reply",
]
