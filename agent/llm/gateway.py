"""The gateway every model call in llmgs goes through: litellm + disk cache + retries + usage.

``Gateway(LLMConfig(model=...)).complete(messages, SamplingSettings(n=4, seed=0))`` returns
four completions. Each sample is looked up in the disk cache first; only the missing ones are
requested, in contiguous runs whose first sample index fixes the seed (sample ``i`` uses
``seed + i``), and a server that ignores ``n`` is simply asked again for the rest. Each request
carries only the parameters litellm lists for the provider (:mod:`agent.llm.backends`): no
``n`` for Ollama or Anthropic (one request per sample instead), no ``seed`` where it is not
accepted (it stays in the cache key). litellm is imported on the first real call, never on
``import agent``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.llm.backends import import_litellm, supported_params
from agent.llm.cache import CachedSample, CompletionCache, cache_key
from agent.llm.retry import call_with_retries, to_llm_error
from agent.llm.types import Completion, Completions, LLMConfig, SamplingSettings
from agent.llm.usage import Usage, UsageMeter
from envs.errors import CacheMiss, ConfigError, LLMError, LlmgsError

Transport = Callable[..., Any]
"""Something called like ``litellm.completion(**kwargs)`` that returns a ModelResponse."""

_KEY_ENVS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
}
_KEYLESS = frozenset({"local", "ollama", "ollama_chat", "hosted_vllm", "lm_studio", "llamafile"})
SERVER_KEY_ENV = "LLMGS_API_KEY"
"""Key sent to an ``api_base`` server; never the provider's own key, which stays with it."""


def litellm_transport(**kwargs: Any) -> Any:
    """The default transport: ``litellm.completion``; ``local/...`` goes to its own server."""
    litellm = import_litellm()
    model = str(kwargs.get("model", ""))
    if model.startswith("local/"):
        from agent.llm import local_server

        # The embedded model runs in a llama.cpp server child process, reached as
        # openai/<alias> + api_base; a crash there becomes a RuntimeCrashed (an LLMError).
        return local_server.completion(litellm, kwargs)
    return litellm.completion(**kwargs)


def provider_of(model: str) -> str:
    """The provider prefix of a litellm model string (``openai/gpt-4o`` -> ``openai``)."""
    return model.split("/", 1)[0]


def key_env_of(config: LLMConfig) -> str | None:
    """The environment variable that must hold this config's API key, or None if keyless."""
    if config.api_base is not None:
        return None
    provider = provider_of(config.model)
    if provider in _KEYLESS:
        return None
    return _KEY_ENVS.get(provider, f"{provider.upper()}_API_KEY")


def missing_key(config: LLMConfig) -> str | None:
    """The environment variable this config's API key must be in, if it is not set; else None
    (set, or no key needed)."""
    env = key_env_of(config)
    return env if env is not None and not os.environ.get(env) else None


class Gateway:
    """The :class:`~agent.llm.types.LLM` used in production: cached, retried and metered.

    Args:
        config: Model and gateway settings.
        transport: Replaces ``litellm.completion`` (tests pass a scripted function).
        sleep: How retries wait (tests pass a recorder).
        show_progress: Report embedded-model assembly and loading on stderr.

    Raises:
        ConfigError: ``config`` names an embedded model that does not exist.
    """

    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        show_progress: bool = True,
    ) -> None:
        self.config = config if config is not None else LLMConfig()
        self._transport = transport if transport is not None else litellm_transport
        self._sleep = sleep
        self._show_progress = show_progress
        self._meter = UsageMeter()
        if self.config.is_local and self.config.resolved_gguf() is None:
            from agent.llm.local_model import get_spec

            get_spec(self.config.model)  # an unknown local/ name fails now, not at first call
        self._cache: CompletionCache | None = None
        if self.config.cache != "off":
            self._cache = CompletionCache(self.config.resolved_cache_dir())

    @property
    def usage(self) -> Usage:
        """Usage summed over every request this gateway served."""
        return self._meter.total

    @property
    def model_id(self) -> str:
        """The model identity in cache keys: the model string plus server or GGUF file."""
        ident = self.config.model
        if self.config.api_base is not None:
            ident += f"@{self.config.api_base.rstrip('/')}"
        gguf = self.config.resolved_gguf() if self.config.is_local else None
        if gguf is not None:
            size = gguf.stat().st_size if gguf.is_file() else -1
            ident += f"@gguf:{gguf.resolve()}:{size}"
        return ident

    def complete(
        self, messages: Sequence[Mapping[str, str]], settings: SamplingSettings
    ) -> Completions:
        """Return ``settings.n`` completions of ``messages``, from the cache where possible.

        Raises:
            CacheMiss: In replay mode, a sample is not in the cache.
            LLMError: The backend failed (after retries, for transient failures).
        """
        chat = _normalise(messages)
        keys = [cache_key(self.model_id, chat, settings, i) for i in range(settings.n)]
        found = self._lookup(keys)
        usage = Usage(cache_hits=len(found))
        self._meter.add(usage)
        missing = [i for i in range(settings.n) if i not in found]
        if missing and self.config.cache == "replay":
            raise CacheMiss(
                f"replay-only mode: {len(missing)} of {settings.n} samples of {self.config.model} "
                f"are not in the cache at {self.config.resolved_cache_dir()}; record the run "
                "once without replay (same model, messages, settings and seed)",
                model=self.config.model,
            )
        if missing:
            self._check_key()
        while missing:
            run = _contiguous_prefix(missing)
            if len(run) > 1 and not self._accepts("n"):
                run = run[:1]  # one request per sample, seeded seed + i
            items, call_usage = self._request(chat, settings, first=run[0], count=len(run))
            # Metered per call, so a later failure does not hide what was already spent.
            self._meter.add(call_usage)
            usage = usage + call_usage
            for item in items:
                found[item.index] = item
                if self._cache is not None:
                    sample = CachedSample(
                        item.text, item.finish_reason, item.completion_tokens, item.prompt_tokens
                    )
                    self._cache.put(keys[item.index], sample)
            missing = [i for i in missing if i not in found]
        ordered = tuple(found[i] for i in range(settings.n))
        return Completions(model=self.config.model, items=ordered, usage=usage)

    def _lookup(self, keys: list[str]) -> dict[int, Completion]:
        """The cached samples among ``keys``, by sample index."""
        found: dict[int, Completion] = {}
        if self._cache is None:
            return found
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            if hit is not None:
                found[i] = Completion(
                    text=hit.text,
                    index=i,
                    cached=True,
                    finish_reason=hit.finish_reason,
                    completion_tokens=hit.completion_tokens,
                    prompt_tokens=hit.prompt_tokens,
                )
        return found

    def _accepts(self, param: str) -> bool:
        """Whether the provider takes ``param`` (litellm's list; the embedded model takes all).

        Raises:
            LLMError: litellm does not know the provider.
        """
        params = supported_params(self.config.model)
        return params is None or param in params

    def _check_key(self) -> None:
        env = missing_key(self.config)
        if env is not None:
            raise LLMError(
                f"{self.config.model} needs an API key: set the environment variable {env} "
                "(or use a local model, e.g. --model local/qwen2.5-coder-0.5b)",
                model=self.config.model,
            )

    def _request(
        self, chat: list[dict[str, str]], settings: SamplingSettings, *, first: int, count: int
    ) -> tuple[list[Completion], Usage]:
        """One backend request for samples ``first .. first+count-1`` (it may return fewer)."""
        kwargs = self._kwargs(chat, settings, first=first, count=count)
        start = time.perf_counter()
        try:
            response = call_with_retries(
                lambda: self._transport(**kwargs),
                num_retries=self.config.num_retries,
                sleep=self._sleep,
            )
        except LlmgsError:
            raise
        except Exception as exc:  # every backend failure is re-raised as a typed LLMError
            raise to_llm_error(
                exc,
                model=self.config.model,
                api_base=self.config.api_base,
                key_env=key_env_of(self.config),
            ) from exc
        latency = time.perf_counter() - start
        choices = list(getattr(response, "choices", None) or [])[:count]
        if not choices:
            raise LLMError(f"{self.config.model} returned no completions", model=self.config.model)
        prompt_tokens, completion_tokens = _usage_tokens(response)
        shares = _split(completion_tokens, len(choices))
        items = [
            Completion(
                text=_choice_text(choice),
                index=first + k,
                cached=False,
                finish_reason=str(getattr(choice, "finish_reason", None) or "stop"),
                completion_tokens=shares[k],
                prompt_tokens=prompt_tokens,
            )
            for k, choice in enumerate(choices)
        ]
        usage = Usage(
            calls=1,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            cost_usd=self._cost(prompt_tokens, completion_tokens),
        )
        return items, usage

    def _kwargs(
        self, chat: list[dict[str, str]], settings: SamplingSettings, *, first: int, count: int
    ) -> dict[str, Any]:
        cfg = self.config
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "messages": chat,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        # Only what the provider accepts: litellm rejects the rest (UnsupportedParamsError).
        if count > 1:
            kwargs["n"] = count  # _accepts("n") was checked by the caller
        if settings.top_p < 1.0 and self._accepts("top_p"):
            kwargs["top_p"] = settings.top_p  # 1.0 is everyone's default: not sent
        if settings.seed is not None and self._accepts("seed"):
            kwargs["seed"] = settings.seed + first
        if settings.stop and self._accepts("stop"):
            kwargs["stop"] = list(settings.stop)
        if settings.grammar is not None and (cfg.is_local or cfg.api_base is not None):
            # llama.cpp servers (the embedded model's, or a user's) take GBNF as a request-body
            # field; a hosted API has no such field, so it is never sent one.
            kwargs["extra_body"] = {"grammar": settings.grammar}
        if cfg.is_local:
            from agent.llm.local_model import (
                PARAM_GGUF,
                PARAM_N_CTX,
                PARAM_N_THREADS,
                PARAM_PROGRESS,
            )

            gguf = cfg.resolved_gguf()
            kwargs[PARAM_GGUF] = str(gguf) if gguf is not None else None
            kwargs[PARAM_N_CTX] = cfg.n_ctx
            kwargs[PARAM_N_THREADS] = cfg.n_threads
            kwargs[PARAM_PROGRESS] = self._show_progress
            return kwargs
        kwargs["timeout"] = cfg.resolved_timeout_s()
        # Our tenacity loop is the only retry layer (the OpenAI SDK would retry on its own).
        kwargs["max_retries"] = 0
        if cfg.api_base is not None:
            kwargs["api_base"] = cfg.api_base
            kwargs["api_key"] = os.environ.get(SERVER_KEY_ENV) or "sk-no-key-required"
        return kwargs

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        if self.config.is_local or self.config.api_base is not None:
            return 0.0
        litellm = import_litellm()
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=self.config.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        except litellm.exceptions.ModelNotMappedError:
            return 0.0  # not in the offline price map: unpriced rather than guessed
        return float(prompt_cost) + float(completion_cost)


def _normalise(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    if not messages:
        raise ConfigError("messages must not be empty")
    chat = []
    for m in messages:
        if "role" not in m or "content" not in m:
            raise ConfigError(f"each message needs 'role' and 'content', got {sorted(m)}")
        chat.append({"role": str(m["role"]), "content": str(m["content"])})
    return chat


def _contiguous_prefix(indices: list[int]) -> list[int]:
    run = [indices[0]]
    for i in indices[1:]:
        if i != run[-1] + 1:
            break
        run.append(i)
    return run


def _split(total: int, parts: int) -> list[int]:
    """Split a token total over samples when the backend reports only the total."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def _usage_tokens(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(
        getattr(usage, "completion_tokens", 0) or 0
    )


def _choice_text(choice: Any) -> str:
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None) if message is not None else None
    return str(content) if content is not None else ""
