"""The search methods: hill climbing, Scheduled HC, the LLM-GS loop and random search.

Every method returns a frozen :class:`~search.results.SearchResult` and shares one engine
(:mod:`search.engine`), so budgets, caching, events, progress, checkpoints and Ctrl-C behave
the same everywhere. Programs may be given as DSL text or parsed ``Program`` objects, and the
task as a :class:`~envs.task.Task` or a registry id such as ``"karel/DoorKey"``.

Example:
    >>> import envs, search
    >>> task = envs.make("karel/StairClimberSparse")  # doctest: +SKIP
    >>> result = search.scheduled_hill_climbing(task, budget=10_000, seed=0)  # doctest: +SKIP
    >>> result.best_return, result.evaluations, result.unique_evaluations  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import ConfigError
from envs.task import Task
from search.budget import Evaluator
from search.config import METHODS, SearchConfig
from search.engine import SearchRun, execute
from search.pool import EvalPool
from search.progress import OnEvent
from search.results import SearchResult


def resolve_task(task: Task | str) -> Task:
    """A Task object for a Task or a registry id."""
    if isinstance(task, Task):
        return task
    import envs  # the registry is only needed when a task is named by id

    return envs.make(task)


def search(
    task: Task | str,
    method: str,
    *,
    init: Program | str | None = None,
    seed_programs: Sequence[Program | str] | None = None,
    library: Sequence[Program | str] | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
    ledger: Evaluator | None = None,
) -> SearchResult:
    """Run one search with any method (the entry point of the CLI and of :func:`run_many`).

    Args:
        task: The task, or its registry id.
        method: ``"mosaic"``, ``"shc"``, ``"hc"``, ``"random"`` or ``"llmgs"``.
        init: Start program of the first climb (hc, shc, random, mosaic); later climbs start
            from random programs.
        seed_programs: Seed programs of the LLM-GS loop (llmgs) or start programs of the
            first climbs (mosaic).
        library: Programs whose fragments (statements, blocks, conditions) mosaic's edits may
            splice in; ignored by the other methods.
        config: Settings (budget, seed, schedule, run folder, ...); defaults when None.
        on_event: Called with every event dict (run_started, best_updated, climb_started,
            checkpoint, run_finished, seed_skipped).
        ledger: An :class:`~search.budget.Evaluator` to continue instead of a new one (what
            ``solve()`` scored the model's proposals on): the search may count
            ``config.budget`` more evaluations on it; its events, k schedule and result
            (evaluations, unique, curve, budget) carry the ledger's counts; a seed program
            the ledger scored with ``Evaluator.score`` is taken at its recorded return and
            not counted again.

    Returns:
        The frozen result.

    Raises:
        ConfigError: Unknown method or invalid settings, a checkpoint of another run, or a
            ledger of another task.
        DSLSyntaxError: ``init`` does not parse.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown search method {method!r}; choose one of {', '.join(METHODS)}")
    task = resolve_task(task)
    config = config if config is not None else SearchConfig()
    run = SearchRun(task, method, config, on_event, ledger)
    if init is not None:
        run.init = str(ensure_program(init, task.domain))
    run.library = list(library or [])
    if config.workers > 1:
        run.pool = EvalPool(task, config.workers)
    return execute(run, list(seed_programs or []))


def mosaic_search(
    task: Task | str,
    seed_programs: Sequence[Program | str] = (),
    *,
    library: Sequence[Program | str] = (),
    init: Program | str | None = None,
    budget: int | None = None,
    seed: int | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
    ledger: Evaluator | None = None,
) -> SearchResult:
    """Mosaic search (:mod:`search.mosaic`): structural edits, fragments, lexicase restarts.

    Climbs first from ``init`` and the seed programs (in order), then from perturbed archive
    programs chosen by lexicase selection or from random programs. ``library`` programs (e.g.
    every accepted model answer) only supply fragments to splice in; seeds do both. Programs
    that do not parse are skipped and listed in ``result.skipped_seeds``. ``ledger``: see
    :func:`search` (a pre-scored seed's climb starts from its recorded returns).
    """
    cfg = _config(config, budget=budget, seed=seed)
    return search(
        task, "mosaic", init=init, seed_programs=seed_programs, library=library, config=cfg,
        on_event=on_event, ledger=ledger,
    )  # fmt: skip


def _config(config: SearchConfig | None, **overrides: object) -> SearchConfig:
    return (config if config is not None else SearchConfig()).with_overrides(**overrides)


def hill_climbing(
    task: Task | str,
    init: Program | str | None = None,
    *,
    k: int | None = None,
    budget: int | None = None,
    seed: int | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
) -> SearchResult:
    """Hill climbing with a fixed k (default 250) and random restarts until the budget is used.

    Each climb evaluates its start, then tries up to k neighbours, moving to the first one
    that is strictly better (first improvement), until none of k improves. ``k``, ``budget``
    and ``seed`` override the same fields of ``config``.
    """
    cfg = _config(config, k=k, budget=budget, seed=seed)
    return search(task, "hc", init=init, config=cfg, on_event=on_event)


def scheduled_hill_climbing(
    task: Task | str,
    init: Program | str | None = None,
    *,
    budget: int | None = None,
    seed: int | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
    ledger: Evaluator | None = None,
) -> SearchResult:
    """Scheduled HC: hill climbing whose k grows with the evaluations done (spec §6.5).

    k is fixed per climb from the global counter at its start (32 -> 2048 by default).
    Later climbs restart from random programs. ``ledger``: see :func:`search`.
    """
    cfg = _config(config, budget=budget, seed=seed)
    return search(task, "shc", init=init, config=cfg, on_event=on_event, ledger=ledger)


def llmgs_search(
    task: Task | str,
    seed_programs: Sequence[Program | str],
    *,
    budget: int | None = None,
    seed: int | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
    ledger: Evaluator | None = None,
) -> SearchResult:
    """The LLM-GS loop (spec §6.6): evaluate the seeds, then cycle Scheduled HC from them.

    The seed programs (e.g. an LLM's proposals) are evaluated in order, sorted by return
    (stable, best first), and Scheduled HC climbs from each in turn, cycling until the budget
    is used or a program reaches the target. Seeds that do not parse are skipped and listed
    in ``result.skipped_seeds``; with no usable seed it climbs from random programs. With a
    ``ledger`` (see :func:`search`), seeds it already scored are not evaluated again.
    """
    cfg = _config(config, budget=budget, seed=seed)
    return search(
        task, "llmgs", seed_programs=seed_programs, config=cfg, on_event=on_event, ledger=ledger
    )


def random_search(
    task: Task | str,
    *,
    budget: int | None = None,
    seed: int | None = None,
    config: SearchConfig | None = None,
    on_event: OnEvent | None = None,
) -> SearchResult:
    """Evaluate random programs until the budget is used: the floor every method must beat."""
    cfg = _config(config, budget=budget, seed=seed)
    return search(task, "random", config=cfg, on_event=on_event)
