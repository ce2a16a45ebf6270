"""A litellm custom provider that runs the embedded model in-process with llama-cpp-python.

Registered under the provider name ``local``, so ``litellm.completion(model="local/...")``
reaches it like any other backend. It loops for ``n > 1`` with seed ``seed + i`` for sample
``i``; the shared prompt prefix stays in llama.cpp's KV cache, so the prompt is processed once.
Importing this module imports litellm: only the gateway imports it, lazily.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse

from agent.llm import local_model
from agent.llm.local_model import PARAM_GGUF, PARAM_N_CTX, PARAM_N_THREADS, PARAM_PROGRESS

PROVIDER = "local"


def _sample(
    llama: Any, messages: list[dict[str, str]], params: dict[str, Any], seed: int | None
) -> Any:
    kwargs: dict[str, Any] = {
        "messages": messages,
        "temperature": float(params.get("temperature", 1.0)),
        "top_p": float(params.get("top_p", 1.0)),
        "max_tokens": int(params.get("max_tokens", 1024)),
    }
    if seed is not None:
        kwargs["seed"] = seed
    stop = params.get("stop")
    if stop:
        kwargs["stop"] = list(stop) if not isinstance(stop, str) else [stop]
    try:
        return llama.create_chat_completion(**kwargs)
    except ValueError as exc:
        # llama-cpp-python reports a prompt longer than n_ctx as a ValueError.
        if "context window" in str(exc) or "exceed" in str(exc):
            raise litellm.ContextWindowExceededError(
                message=str(exc), model=str(params.get("model", "")), llm_provider=PROVIDER
            ) from exc
        raise


class LocalLlamaProvider(CustomLLM):
    """litellm handler for ``local/<model>`` backed by an in-process ``llama_cpp.Llama``."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        """Sample ``n`` chat completions (litellm's CustomLLM entry point)."""
        params: dict[str, Any] = dict(kwargs.get("optional_params") or {})
        gguf = params.get(PARAM_GGUF)
        loaded = local_model.load(
            model,
            gguf=Path(gguf) if gguf else None,
            n_ctx=int(params.get(PARAM_N_CTX, 4096)),
            n_threads=params.get(PARAM_N_THREADS),
            show_progress=bool(params.get(PARAM_PROGRESS, True)),
        )
        n = int(params.get("n") or 1)
        seed = params.get("seed")
        chat = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        choices = []
        prompt_tokens = 0
        completion_tokens = 0
        with loaded.lock:  # a llama.cpp context serves one request at a time
            for i in range(n):
                out = _sample(loaded.llama, chat, params, None if seed is None else int(seed) + i)
                choice = out["choices"][0]
                choices.append(
                    litellm.Choices(
                        index=i,
                        finish_reason=choice.get("finish_reason") or "stop",
                        message=litellm.Message(
                            role="assistant", content=choice["message"]["content"] or ""
                        ),
                    )
                )
                usage = out.get("usage") or {}
                # The prompt is the same for every sample and is held in the KV cache.
                prompt_tokens = int(usage.get("prompt_tokens", 0))
                completion_tokens += int(usage.get("completion_tokens", 0))
        return ModelResponse(
            id=f"local-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=f"{PROVIDER}/{model}",
            choices=choices,
            usage=litellm.Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
        )


_HANDLER = LocalLlamaProvider()


def register() -> None:
    """Add the ``local`` provider to litellm's custom provider map (idempotent)."""
    entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
    entries.append({"provider": PROVIDER, "custom_handler": _HANDLER})
    litellm.custom_provider_map = entries
