"""``solve()``: a task in plain words in, a program and its true return out (LLM-GS).

The pipeline (spec/benchmark.md §6.6, §7): match the task, run the proposal rounds (ask the
model for programs, convert and score them, revise: :class:`~agent.pipeline.rounds.Rounds`),
then search from the ranked programs until a return of 1.0 or the budget. ``model=None`` is
pure search. One evaluation ledger (:class:`search.Evaluator`) counts the whole run: the
proposals are scored on it and the search continues it, never scoring a proposal again. The
returned ``reward`` is always the best program re-evaluated on a freshly built task, never a
number carried over from the search.

Example:
    >>> from agent import solve
    >>> result = solve("pick up the key and open the door", model=None)  # doctest: +SKIP
    >>> result.task, result.reward, result.program  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from agent.events import OnEvent, StageEmitter
from agent.llm.types import LLM
from agent.llm.usage import MeteredLLM, Usage
from agent.pipeline.config import SolveConfig, default_budget
from agent.pipeline.loop import search_with_loop
from agent.pipeline.matching import match_task
from agent.pipeline.results import MatchResult, SolveResult
from agent.pipeline.rounds import Rounds
from agent.pipeline.rundir import RunDir
from agent.pipeline.support import CancellableTask, StageClock
from envs.errors import CacheMiss, ConfigError, LLMError
from envs.task import Task, mean_return
from search.budget import Evaluator


def _make_llm(cfg: SolveConfig, show_progress: bool) -> LLM | None:
    if cfg.llm is None:
        return None
    from agent.llm.gateway import Gateway

    # show_progress: the embedded model's loading and per-request speed lines on stderr.
    return Gateway(cfg.llm, show_progress=show_progress)


def _task_prompt(task_id: str) -> Any:
    from agent.prompting import TaskPrompt, task_ids

    if task_id in task_ids():
        return task_id
    import envs

    info = envs.info(task_id)  # a user's task: its registry description is the prompt
    return TaskPrompt(info.name, info.description, info.domain)


class _Run:
    """State of one solve run (the function below is its only user)."""

    def __init__(
        self, description: str, cfg: SolveConfig, llm: LLM | None, emit: StageEmitter,
        should_stop: Callable[[], bool] | None,
    ) -> None:  # fmt: skip
        self.description, self.cfg, self.emit = description, cfg, emit
        self.llm = MeteredLLM(llm) if llm is not None else None
        self.model_name = getattr(llm, "model", None) if cfg.model is None else cfg.model
        if llm is not None and self.model_name is None:
            self.model_name = getattr(getattr(llm, "config", None), "model", "custom")
        self.should_stop = should_stop
        self.clock = StageClock(emit)
        self.ledger: Evaluator | None = None  # set once the task is known
        self.proposals: Rounds | None = None  # the proposal rounds (pipeline mode, a model)
        self.search: dict[str, Any] | None = None
        self.stop_reason = "budget"
        # Agent mode keeps its own best and counts (agent.tool_agent); pipeline mode reads both
        # from the ledger.
        self.agent_best: tuple[str, float] | None = None
        self.agent_evals = self.agent_unique = 0
        # After a model failure: the run carries on without the model (see model_failed).
        self.llm_failed = False
        self.salvaged: list[tuple[str, float]] = []
        self.warnings: list[str] = []
        self.echo_warnings = True  # print them on stderr unless a progress printer does
        self.generation_deadline: float | None = None  # set when the first answer is asked for
        self.generation_spent = False

    @property
    def best(self) -> tuple[str, float] | None:
        """The best program of the run so far and its return (None before any)."""
        if self.agent_best is not None:
            return self.agent_best
        if self.ledger is None or not self.ledger.best_program:
            return None
        return self.ledger.best_program, self.ledger.best_return

    def model_failed(self, exc: LLMError) -> None:
        """Carry on without the model: keep the programs scored so far, warn, record why."""
        self.llm_failed = True
        rounds = self.proposals.rounds if self.proposals is not None else []
        recorded = {p for rec in rounds for p, _ in rec.programs}
        if self.ledger is not None:  # answers of the interrupted batch that were already scored
            n = self.ledger.task.n
            self.salvaged = [
                (p, mean_return(r, n)) for p, r in self.ledger.scored.items() if p not in recorded
            ]
        kept = len(recorded) + len(self.salvaged)
        then = f"search from the {kept} accepted programs" if kept else "pure search"
        message = f"the model failed; carrying on with {then}: {exc}"
        self.warn(message, "llm_failed", model=self.model_name)

    def side_file_failed(self, message: str) -> None:
        """A run-folder file could not be written (RunDir.warn): warn, the result goes on."""
        self.warn(message, "run_dir")

    def warn(self, message: str, kind: str, **fields: Any) -> None:
        """Record a warning in the result, emit it, and say it on stderr unless a progress
        printer does."""
        self.warnings.append(message)
        self.emit("warning", message=message, kind=kind, **fields)
        if self.echo_warnings:
            print(f"warning: {message}", file=sys.stderr, flush=True)

    def stopped(self) -> bool:
        return self.should_stop is not None and bool(self.should_stop())

    def generation_over(self) -> bool:
        """Stop asking the model: the run is stopped or the generation time budget is spent."""
        if self.stopped() or self.generation_spent:
            return True
        now, limit = time.monotonic(), self.cfg.resolved_generation_s()
        if self.generation_deadline is None:
            self.generation_deadline = now + limit
        if now < self.generation_deadline:
            return False
        self.generation_spent = True  # revision rounds ask nothing more either
        self.emit("warning", message=f"the generation time budget of {limit:g} s is spent: no "
                  "more answers are asked for and the search starts with the evaluations left "
                  "(raise it with --generation-s)", kind="generation_time")  # fmt: skip
        return True

    # -- search ----------------------------------------------------------------------------------
    def seeds(self) -> list[str]:
        """Distinct accepted programs, best first (stable: earlier answers win ties)."""
        first = dict(self.proposals.programs()) if self.proposals is not None else {}
        for program, value in self.salvaged:
            first.setdefault(program, value)
        return [p for p, _ in sorted(first.items(), key=lambda kv: -kv[1])]

    def run_search(self, task: Task, budget: int, seeds: list[str] | None = None) -> None:
        """Search on the run's ledger, counting at most ``budget`` more evaluations.

        The proposals were scored on the same ledger: the search takes them at their recorded
        returns instead of scoring them again, and its counts, curve and events continue the
        ledger's (its k schedule counts its own evaluations and the seeds it took, over
        ``budget``, as when it scored them itself).
        """
        from search import llmgs_search, mosaic_search, scheduled_hill_climbing

        best = self.best
        if best is not None and best[1] >= 1.0:
            self.stop_reason = "solved"
            return
        if self.cfg.search_method == "none":
            self.stop_reason = "rounds"
            return
        if budget <= 0 or self.stopped():
            self.stop_reason = "cancelled" if self.stopped() else "budget"
            return
        config = self.cfg.search_config(budget)
        sink = _SearchEvents(self.emit)
        ledger = self.ledger
        with self.clock.stage("search"):
            if best is not None and self.search is None:
                # The search starts from the proposals' best (it does not score it again).
                sink({"event": "best_updated", "evaluations": ledger.curve[-1][0],
                      "best_return": best[1], "program": best[0]})  # fmt: skip
            seeds = self.seeds() if seeds is None else seeds
            if self.cfg.search_method == "mosaic":
                # The accepted programs are climbed from first and lend their fragments.
                result = mosaic_search(task, seeds, config=config, on_event=sink, ledger=ledger)
            elif seeds:
                result = llmgs_search(task, seeds, config=config, on_event=sink, ledger=ledger)
            else:
                result = scheduled_hill_climbing(task, config=config, on_event=sink, ledger=ledger)
        self.search = {k: v for k, v in result.to_dict().items() if k not in ("stage_times",)}
        self.stop_reason = result.stop_reason
        if result.stop_reason == "interrupted":
            self.stop_reason = "cancelled"


class _SearchEvents:
    """Turns the search's events into solve events (progress at most twice a second).

    The search continues the run's ledger, so its counts are already the run's.
    """

    def __init__(self, emit: StageEmitter) -> None:
        self.emit = emit
        self.best: float | None = None
        self.last = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "best_updated":
            self.best = event["best_return"]
            self.emit(
                "best_updated", evaluations=event["evaluations"],
                best_return=event["best_return"], program=event["program"],
            )  # fmt: skip
        elif name == "climb_started" and time.monotonic() - self.last >= 0.5:
            self.last = time.monotonic()
            self.emit(
                "search_progress", evaluations=event["evaluations"], best_return=self.best,
                climbs=event["climb"], k=event["k"],
            )  # fmt: skip
        elif name == "seed_skipped":
            self.emit("warning", message=f"seed program {event['index']} skipped: "
                      f"{event['reason']}")  # fmt: skip


def solve(
    description: str,
    *,
    task: str | None = None,
    llm: LLM | None = None,
    on_event: OnEvent | None = None,
    should_stop: Callable[[], bool] | None = None,
    config: SolveConfig | None = None,
    progress: bool | None = None,
    **options: Any,
) -> SolveResult:
    """Solve a task described in plain words: LLM proposals, revision, then Scheduled HC.

    Every setting is a :class:`SolveConfig` field, given by its own name in ``options``
    (nested ones too: ``cache`` and ``api_base`` set ``config.llm``, ``workers`` sets
    ``config.search``; :meth:`SolveConfig.with_options`); the defaults are the dataclasses'.

    Args:
        description: The task in the user's words ("pick up the key and open the door").
        task: A registry id that overrides matching (``"karel/DoorKey"``); user tasks added
            with ``envs.register`` work the same way.
        llm: A ready :class:`~agent.llm.LLM` (e.g. ``ScriptedLLM``) used instead of ``model``.
        on_event: Receives every event (see :mod:`agent.events`).
        should_stop: Polled between stages, between answers and before each computed
            evaluation; True stops the run, which then returns its best program so far.
        config: Base settings; ``options`` override it.
        progress: Print progress lines on stderr (as ``llmgs solve`` does); None: only when
            no ``on_event`` is given and stderr is a terminal. The embedded model's loading
            and speed lines follow it; with None they appear whenever stderr is a terminal.
        **options: Settings by name, the common ones being ``model`` (litellm model string,
            ``local/qwen2.5-coder-1.5b`` (default) or ``-0.5b``, or None for pure search),
            ``budget`` (evaluations in total; None for ``min(task default, 100,000)``),
            ``seed``, ``strategy`` (``pythonic_dsl``, ``python``, ``dsl``), ``revision``
            (``none``, ``regeneration``, ``regeneration_with_reward``, ``execution_trace``,
            ``program_execution_trace``), ``rounds``, ``samples``, ``mode``, ``instances``,
            ``cache``, ``save``, ``runs_dir``, ``search_method``.

    Returns:
        The frozen :class:`SolveResult`.

    Raises:
        TaskNotFound: No task fits the description (the message lists them).
        ConfigError: An unknown setting or an invalid value (the message names it).
        CacheMiss: Replay-only mode found an answer missing from the cache. Any other
            model failure (``LLMError``, e.g. a crash of the embedded model's runtime) does
            not raise: the run carries on without the model, warns on stderr and records the
            reason in ``SolveResult.warnings`` and the run folder.
    """
    base = config if config is not None else SolveConfig()
    if llm is not None and "model" not in options:
        # An injected gateway tells its model (local or not); fakes do not.
        options["model"] = getattr(getattr(llm, "config", None), "model", None)
    cfg = base.with_options(**options)
    from agent.commands.solve import ProgressPrinter

    # The embedded runtime's loading and speed lines: with any progress printer, else when
    # asked for, else on a terminal (an eval run or a service worker in a terminal shows them;
    # ``llmgs solve --quiet`` passes progress=False).
    runtime_lines = isinstance(on_event, ProgressPrinter) or (
        progress if progress is not None else sys.stderr.isatty()
    )
    if progress is None:
        progress = on_event is None and sys.stderr.isatty()
    printer = ProgressPrinter(sys.stderr) if progress else None
    if llm is None and cfg.llm is not None and cfg.llm.cache != "replay":
        from agent.llm.gateway import missing_key

        # Refused before anything runs (as the service does): a run that would only find out
        # at its first request carries on as pure search, which is not what was asked for.
        env = missing_key(cfg.llm)
        if env is not None:
            raise ConfigError(
                f"{cfg.llm.model} needs an API key: set the environment variable {env}, or use "
                "the embedded model (--model local/qwen2.5-coder-1.5b, no key) or --model none "
                "(pure search)"
            )
    if llm is None:
        llm = _make_llm(cfg, show_progress=runtime_lines)
    rundir = RunDir(cfg.runs_dir) if cfg.save else None
    emit = StageEmitter([on_event, printer, rundir])
    # A model failure is always said on stderr, once: by a progress printer if there is one.
    echo = printer is None and not isinstance(on_event, ProgressPrinter)
    try:
        return _solve(description, task, cfg, llm, emit, rundir, should_stop, echo)
    finally:
        if rundir is not None:
            rundir.close()


def _solve(
    description: str, task_id: str | None, cfg: SolveConfig, llm: LLM | None, emit: StageEmitter,
    rundir: RunDir | None, should_stop: Callable[[], bool] | None, echo_warnings: bool = True,
) -> SolveResult:  # fmt: skip
    import envs

    run = _Run(description, cfg, llm, emit, should_stop)
    emit(
        "solve_started", description=description, task=task_id, model=run.model_name,
        budget=cfg.budget, seed=cfg.seed, samples=cfg.resolved_samples() if llm else 0,
        revision=cfg.revision, rounds=cfg.rounds, mode=cfg.mode,
    )  # fmt: skip
    run.echo_warnings = echo_warnings
    if rundir is not None:  # a full disk costs run-folder files, never the result
        rundir.warn = run.side_file_failed
    with run.clock.stage("match"):
        try:
            match = match_task(description, task=task_id, llm=run.llm, confirm=cfg.confirm_match)
        except CacheMiss:
            raise  # replay-only mode promises the recorded run or an error, never a different run
        except LLMError as exc:
            run.model_failed(exc)
            match = match_task(description, task=task_id, llm=None, confirm=False)
        emit("task_matched", **match.to_dict())
    if rundir is not None:
        rundir.open(match.task)
    budget = cfg.budget if cfg.budget is not None else default_budget(match.task)
    inner = envs.make(match.task, n=cfg.instances)
    # The run's one ledger: proposals are scored on it, the search continues it.
    ledger = run.ledger = Evaluator(inner, budget)
    # Only the search sees the cancellable wrapper: proposals are few and checked per answer.
    task = CancellableTask(inner, should_stop)
    prompt = _task_prompt(match.task)
    if cfg.mode == "agent" and run.llm is None:
        run.warn("the agent mode needs a model and none was given: running the pipeline "
                 "(pure search) instead", "agent_without_model")  # fmt: skip
    if cfg.mode == "agent" and run.llm is not None:
        from agent.tool_agent import run_agent

        try:
            with run.clock.stage("agent"):
                outcome = run_agent(run.llm, task, prompt, budget, cfg, emit, should_stop)
        except CacheMiss:
            raise
        except LLMError as exc:
            run.model_failed(exc)
            run.run_search(task, budget - ledger.count)
        else:
            run.agent_best, run.stop_reason = outcome.best, outcome.stop_reason
            run.agent_evals, run.agent_unique = outcome.evaluations, outcome.unique
            run.warnings.extend(outcome.warnings)  # the model failed mid-loop; tools' work kept
    else:
        if run.llm is not None and not run.llm_failed:
            run.proposals = Rounds(
                run.llm, cfg, prompt, inner, ledger, emit, run.clock, run.generation_over
            )
            try:
                run.proposals.run()
            except CacheMiss:
                raise
            except LLMError as exc:  # e.g. the embedded model's runtime crashed: search on
                run.model_failed(exc)
        search_with_loop(run, task, inner, prompt, ledger, budget)
    if run.stopped():
        run.stop_reason = "cancelled"
    return _finish(run, match, budget, ledger, rundir)


def _finish(
    run: _Run, match: MatchResult, budget: int, ledger: Evaluator, rundir: RunDir | None
) -> SolveResult:
    import envs
    from agent.conversion.acceptance import AcceptanceStats
    from agent.conversion.to_python import to_python
    from agent.tools.rollout import worst_instance

    cfg, emit = run.cfg, run.emit
    best = run.best
    with run.clock.stage("verify"):
        program = best[0] if best is not None else ""
        fresh = envs.make(match.task, n=cfg.instances)  # independent of every cache
        returns = tuple(fresh.returns(program)) if program else ()
        reward = mean_return(returns, fresh.n) if program else float("-inf")
        if best is not None and reward != best[1]:
            emit("warning", message=f"search reported {best[1]!r}, re-evaluation {reward!r}")
        python = to_python(program, fresh.domain) if program else ""
        # Generalisation: the same program on 64 instances no search has seen.
        held = envs.make(match.task, n=64, seed=cfg.instances) if program else None
        heldout = held.evaluate(program) if held is not None else None
        if rundir is not None and program:
            rundir.save_gif(fresh, program, worst_instance(returns))
    stats = AcceptanceStats()
    rounds = run.proposals.rounds if run.proposals is not None else []
    for batch in run.proposals.batches if run.proposals is not None else []:
        stats = stats.merge(batch.stats)
    llm = run.llm.usage.named(run.model_name) if run.llm is not None else Usage()
    reason = "solved" if reward >= 1.0 else run.stop_reason
    result = SolveResult(
        task=match.task, description=run.description, match=match, program=program,
        python=python, reward=reward, instance_returns=returns, solved=reward >= 1.0,
        # One ledger counts proposals and search alike (agent mode adds its tools' own).
        evaluations=ledger.count + run.agent_evals,
        unique_evaluations=ledger.unique + run.agent_unique, stop_reason=reason, mode=cfg.mode,
        strategy=cfg.strategy, revision=cfg.revision, seed=cfg.seed, budget=budget,
        instances=cfg.instances, llm=llm, acceptance=stats.to_dict(), rounds=tuple(rounds),
        search=run.search, timings=tuple(run.clock.timings),
        run_dir=str(rundir.path) if rundir is not None and rundir.path else None,
        warnings=tuple(run.warnings), heldout_return=heldout,
    )  # fmt: skip
    emit(
        "solve_finished", task=result.task, reward=reward, program=program,
        evaluations=result.evaluations, unique_evaluations=result.unique_evaluations,
        stop_reason=reason, llm=llm.to_dict(),
    )  # fmt: skip
    if rundir is not None:
        rundir.save(result.to_json(), program, python)
    return result
