"""The LLM gateway: one entry point for every model call in llmgs.

Public API::

    from agent.llm import Gateway, LLMConfig, SamplingSettings

    llm = Gateway(LLMConfig(model="local/qwen2.5-coder-0.5b"))
    out = llm.complete([{"role": "user", "content": "Say hi"}], SamplingSettings(n=2, seed=0))
    out.texts, out.usage, llm.usage

Anything with ``complete(messages, settings) -> Completions`` is an :class:`LLM`;
:class:`ScriptedLLM` is a deterministic fake for tests. Importing this package does not import
litellm or llama.cpp. :func:`local_model_path` is the verified GGUF file of an embedded model
(``local_model_path("qwen2.5-coder-0.5b", None)``) and :func:`local_model_threads` the threads
the embedded runtime gives llama.cpp, for code that loads a model in its own process.
"""

from __future__ import annotations

from agent.llm.gateway import Gateway
from agent.llm.local_model import default_threads as local_model_threads
from agent.llm.local_model import resolve_path as local_model_path
from agent.llm.scripted import ScriptedCall, ScriptedLLM
from agent.llm.types import (
    DEFAULT_MODEL,
    LLM,
    CacheMode,
    Completion,
    Completions,
    LLMConfig,
    Message,
    SamplingSettings,
)
from agent.llm.usage import MeteredLLM, Usage, UsageMeter

__all__ = [
    "DEFAULT_MODEL",
    "LLM",
    "CacheMode",
    "Completion",
    "Completions",
    "Gateway",
    "LLMConfig",
    "Message",
    "MeteredLLM",
    "SamplingSettings",
    "ScriptedCall",
    "ScriptedLLM",
    "Usage",
    "UsageMeter",
    "local_model_path",
    "local_model_threads",
]
