"""Value types of the LLM gateway: messages, settings, completions and the ``LLM`` seam.

Everything here is a frozen dataclass or a protocol with no dependency on litellm, so that
code which only passes model answers around (search, evals, tests) never imports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypedDict, runtime_checkable

from agent.llm.usage import Usage
from envs.errors import ConfigError

DEFAULT_MODEL = "local/qwen2.5-coder-1.5b"
"""The model used when none is given: embedded, no key and no network needed."""

CacheMode = Literal["on", "off", "replay"]
"""``on``: read and write the disk cache; ``off``: neither; ``replay``: read only, a miss fails."""


class Message(TypedDict):
    """One chat message in the OpenAI format."""

    role: str
    content: str


@dataclass(frozen=True)
class SamplingSettings:
    """How to sample: every field is part of the cache key.

    Attributes:
        n: Number of completions wanted.
        temperature: Sampling temperature (0 is greedy).
        top_p: Nucleus sampling mass.
        max_tokens: Upper bound on tokens generated per completion.
        seed: Base seed; sample ``i`` of a request is drawn with ``seed + i`` where the backend
            supports seeds. ``None`` leaves the backend unseeded (and is still cached as ``None``).
        stop: Strings that end a completion.
        grammar: A GBNF grammar that constrains decoding (embedded models and llama.cpp
            servers; ``agent.conversion.grammar``); other backends are not sent it.
    """

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int | None = None
    stop: tuple[str, ...] = ()
    grammar: str | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"n must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}")


@dataclass(frozen=True)
class LLMConfig:
    """Which model to call and how the gateway around it behaves.

    API keys are never part of the config: they are read from the environment at call time.

    Attributes:
        model: A litellm model string (``openai/gpt-4o-mini``, ``ollama/qwen2.5-coder:7b``,
            ``openai/<name>`` with ``api_base``) or an embedded ``local/...`` model.
        api_base: URL of an OpenAI-compatible server (``http://127.0.0.1:8080/v1``).
        cache: Disk cache mode, see :data:`CacheMode`.
        cache_dir: Cache directory; ``None`` uses ``$LLMGS_CACHE_DIR`` or
            ``~/.cache/llmgs/completions``.
        num_retries: Retries after the first attempt, for transient failures only.
        timeout_s: Per-request timeout of remote calls; None for 120 s hosted and 600 s for a
            server on this machine or network (a CPU answer can take minutes, and a request
            that times out is retried from the start).
        gguf_path: A GGUF file of the user's own to run for ``local/...`` models instead of the
            packaged weights; ``None`` uses ``$LLMGS_GGUF`` when set.
        n_ctx: Context length of the embedded model.
        n_threads: Threads of the embedded model; ``None`` picks a count that stays fast on a
            shared CPU (see ``local_model.default_threads``).
    """

    # The metadata's help texts are the command-line help (agent.commands.options).
    model: str = field(
        default=DEFAULT_MODEL,
        metadata={"help": "litellm model string (openai/gpt-4o-mini, ollama/NAME) or an "
                  "embedded local/qwen2.5-coder-0.5b|1.5b"},
    )  # fmt: skip
    api_base: str | None = field(
        default=None,
        metadata={"help": "server URL: an OpenAI-compatible server (http://127.0.0.1:8080/v1, "
                  "with --model openai/NAME) or Ollama's (http://127.0.0.1:11434, with --model "
                  "ollama/NAME); key from LLMGS_API_KEY if it needs one"},
    )  # fmt: skip
    cache: CacheMode = field(
        default="on",
        metadata={"help": "completion cache: on reads and writes it, off neither, replay "
                  "answers only from it and fails on a miss (offline replay)"},
    )  # fmt: skip
    cache_dir: Path | None = field(
        default=None,
        metadata={"help": "completion cache folder (default $LLMGS_CACHE_DIR or "
                  "~/.cache/llmgs/completions)"},
    )  # fmt: skip
    num_retries: int = field(
        default=4, metadata={"help": "retries of a request after a transient failure"}
    )
    timeout_s: float | None = field(
        default=None,
        metadata={"help": "seconds per request (default 600 for a server on this machine or "
                  "network, 120 hosted)"},
    )  # fmt: skip
    gguf_path: Path | None = field(
        default=None,
        metadata={"help": "your own GGUF file for local/ models (default $LLMGS_GGUF)",
                  "flag": "--gguf"},
    )  # fmt: skip
    n_ctx: int = field(default=4096, metadata={"help": "context length of an embedded model"})
    n_threads: int | None = field(
        default=None, metadata={"help": "threads of an embedded model", "flag": "--threads"}
    )

    def __post_init__(self) -> None:
        if "/" not in self.model:
            raise ConfigError(
                f"model {self.model!r} needs a provider prefix, e.g. 'openai/gpt-4o-mini', "
                f"'ollama/qwen2.5-coder:7b' or '{DEFAULT_MODEL}'"
            )
        if self.cache not in ("on", "off", "replay"):
            raise ConfigError(f"cache must be 'on', 'off' or 'replay', got {self.cache!r}")
        if self.num_retries < 0:
            raise ConfigError(f"num_retries must be >= 0, got {self.num_retries}")
        if self.n_ctx < 1 or (self.n_threads is not None and self.n_threads < 1):
            raise ConfigError(f"n_ctx and n_threads must be >= 1, got {self.n_ctx}, "
                              f"{self.n_threads}")  # fmt: skip
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigError(f"timeout_s must be > 0 seconds, got {self.timeout_s}")

    def resolved_timeout_s(self) -> float:
        """The per-request timeout this config uses (see ``timeout_s``)."""
        from agent.llm.backends import backend_defaults

        if self.timeout_s is not None:
            return self.timeout_s
        return backend_defaults(self.model, self.api_base).timeout_s

    @property
    def is_local(self) -> bool:
        """Whether the model runs embedded in this process."""
        return self.model.startswith("local/")

    def resolved_cache_dir(self) -> Path:
        """The completion cache directory this config uses."""
        if self.cache_dir is not None:
            return Path(self.cache_dir).expanduser()
        env = os.environ.get("LLMGS_CACHE_DIR")
        if env:
            return Path(env).expanduser()
        return Path.home() / ".cache" / "llmgs" / "completions"

    def resolved_gguf(self) -> Path | None:
        """The user's own GGUF file, if one is configured."""
        if self.gguf_path is not None:
            return Path(self.gguf_path).expanduser()
        env = os.environ.get("LLMGS_GGUF")
        return Path(env).expanduser() if env else None


@dataclass(frozen=True)
class Completion:
    """One sampled answer.

    Attributes:
        text: The model's answer.
        index: Sample index within the request (0-based).
        cached: Whether it came from the disk cache.
        finish_reason: ``stop``, ``length``, ... as the backend said.
        completion_tokens: Tokens generated for this answer (a request's total is split
            evenly over its samples when the backend reports only the total).
        prompt_tokens: Prompt tokens of the request that produced it (also when cached).
    """

    text: str
    index: int
    cached: bool = False
    finish_reason: str = "stop"
    completion_tokens: int = 0
    prompt_tokens: int = 0


@dataclass(frozen=True)
class Completions:
    """The answers to one request, with the usage it cost.

    Attributes:
        model: The model string that answered.
        items: The completions, ``items[i].index == i``.
        usage: What this request cost (cache hits cost no tokens).
    """

    model: str
    items: tuple[Completion, ...]
    usage: Usage = field(default_factory=Usage)

    @property
    def texts(self) -> list[str]:
        """The answer texts in sample order."""
        return [c.text for c in self.items]


@runtime_checkable
class LLM(Protocol):
    """The one seam every model call goes through (the gateway, fakes, user adapters)."""

    def complete(
        self, messages: Sequence[Mapping[str, str]], settings: SamplingSettings
    ) -> Completions:
        """Return ``settings.n`` completions of ``messages``."""
        ...
