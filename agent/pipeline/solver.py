"""``solve()``: a task in plain words in, a program and its true return out (LLM-GS).

The pipeline (spec/benchmark.md §6.6, §7): match the task, ask the model for programs, convert
and score them, run the chosen revision rounds (stopping when a round no longer improves), then
Scheduled HC from the ranked programs until a return of 1.0 or the budget. ``model=None`` is
pure search. The returned ``reward`` is always the best program re-evaluated on a freshly built
task, never a number carried over from the search.

Example:
    >>> from agent import solve
    >>> result = solve("pick up the key and open the door", model=None)  # doctest: +SKIP
    >>> result.task, result.reward, result.program  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any

from agent.events import Emitter, OnEvent
from agent.llm.types import LLM
from agent.pipeline.loop import search_with_loop
from agent.pipeline.matching import match_task
from agent.pipeline.results import LLMUsageSummary, MatchResult, RevisionRound, SolveResult
from agent.pipeline.revision import revision_messages
from agent.pipeline.rundir import RunDir
from agent.pipeline.sampling import (
    Batch,
    SamplingPlan,
    Scorer,
    plan_for,
    propose,
    uses_examples,
    uses_grammar,
)
from agent.pipeline.support import (
    DEFAULT_BUDGET_CAP,
    CancellableTask,
    MeteredLLM,
    SolveConfig,
    StageClock,
)
from envs.errors import CacheMiss, LLMError
from envs.task import Task

_UNSET: Any = object()


def _make_llm(cfg: SolveConfig) -> LLM | None:
    if cfg.model is None:
        return None
    from agent.llm.gateway import Gateway
    from agent.llm.types import LLMConfig

    llm_cfg = LLMConfig(
        model=cfg.model, api_base=cfg.api_base, cache=cfg.cache, cache_dir=cfg.cache_dir,
        n_threads=cfg.n_threads,
    )  # fmt: skip
    return Gateway(llm_cfg)


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
        self, description: str, cfg: SolveConfig, llm: LLM | None, emit: Emitter,
        should_stop: Callable[[], bool] | None,
    ) -> None:  # fmt: skip
        self.description, self.cfg, self.emit = description, cfg, emit
        self.llm = MeteredLLM(llm) if llm is not None else None
        self.model_name = getattr(llm, "model", None) if cfg.model is None else cfg.model
        if llm is not None and self.model_name is None:
            self.model_name = getattr(getattr(llm, "config", None), "model", "custom")
        self.should_stop = should_stop
        self.clock = StageClock(emit)
        self.rounds: list[RevisionRound] = []
        self.batches: list[Batch] = []
        self.search: dict[str, Any] | None = None
        self.search_evals = self.search_unique = 0
        self.stop_reason = "budget"
        self.best: tuple[str, float] | None = None
        # After a model failure: the run carries on without the model (see model_failed).
        self.llm_failed = False
        self.salvaged: list[tuple[str, float]] = []
        self.warnings: list[str] = []
        self.echo_warnings = True  # print them on stderr unless a progress printer does
        self.generation_deadline: float | None = None  # set when the first answer is asked for
        self.generation_spent = False

    def model_failed(self, exc: LLMError, scorer: Scorer | None) -> None:
        """Carry on without the model: keep the programs scored so far, warn, record why."""
        self.llm_failed = True
        recorded = {p for rec in self.rounds for p, _ in rec.programs}
        if scorer is not None:  # answers of the interrupted batch that were already scored
            self.salvaged = [(p, v) for p, v in scorer.values.items() if p not in recorded]
        for kv in self.salvaged:
            if self.best is None or kv[1] > self.best[1]:
                self.best = kv
        kept = len(recorded) + len(self.salvaged)
        then = f"search from the {kept} accepted programs" if kept else "pure search"
        message = f"the model failed; carrying on with {then}: {exc}"
        self.warnings.append(message)
        self.emit("warning", message=message, kind="llm_failed", model=self.model_name)
        if self.echo_warnings:
            print(f"warning: {message}", file=sys.stderr, flush=True)

    def side_file_failed(self, message: str) -> None:
        """A run-folder file could not be written (RunDir.warn): warn, the result goes on."""
        self.warnings.append(message)
        self.emit("warning", message=message, kind="run_dir")
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

    # -- proposals -----------------------------------------------------------------------------
    def _plan(self, round_no: int, domain: str) -> SamplingPlan:
        return plan_for(self.cfg, domain, round_no)  # n, seeds, max_tokens, grammar

    def _record(self, round_no: int, method: str, feedback: str, batch: Batch) -> bool:
        scored = batch.scored
        best = max(scored, key=lambda kv: kv[1], default=None)
        improved = best is not None and (self.best is None or best[1] > self.best[1])
        if improved:
            self.best = best
        rec = RevisionRound(
            round=round_no, method=method, feedback=feedback, answers=len(batch.proposals),
            accepted=batch.stats.accepted, programs=tuple(scored),
            best_program=best[0] if best else "", best_return=best[1] if best else float("-inf"),
            improved=improved,
        )  # fmt: skip
        self.rounds.append(rec)
        self.batches.append(batch)
        self.emit(
            "revision_round", round=round_no, method=method, programs=len(scored),
            best_program=rec.best_program, best_return=best[1] if best else None,
            improved=improved,
        )  # fmt: skip
        return improved

    def generate(self, prompt: Any, scorer: Scorer) -> None:
        from agent.prompting import render_prompt

        if self.llm is None or self.llm_failed:
            return
        with self.clock.stage("generate"):
            messages = render_prompt(
                prompt, self.cfg.strategy, examples=uses_examples(self.cfg),
                constrained=uses_grammar(self.cfg),
            )  # fmt: skip
            batch = propose(
                self.llm, messages, self._plan(0, scorer.task.domain), scorer, self.emit,
                round_no=0,
                should_stop=self.generation_over,
            )  # fmt: skip
            self._record(0, "initial", "", batch)

    def revise(self, prompt: Any, scorer: Scorer, task: Task) -> None:
        cfg = self.cfg
        if self.llm is None or self.llm_failed or cfg.revision == "none":
            return
        for r in range(1, cfg.rounds + 1):
            if self.generation_over() or (self.best is not None and self.best[1] >= 1.0):
                return
            previous = list(self.rounds[-1].programs) or [
                kv for rec in self.rounds for kv in rec.programs
            ]
            if not previous and self.best is None:
                self.emit("warning", message="no program was accepted: nothing to revise")
                return
            with self.clock.stage(f"revision_{r}"):
                fb = revision_messages(
                    cfg.revision, prompt, task, previous=previous, best=self.best,
                    strategy=cfg.strategy, examples=uses_examples(cfg),
                    constrained=uses_grammar(cfg),
                )  # fmt: skip
                self.emit(
                    "revision_feedback", round=r, method=cfg.revision, feedback=fb.text,
                    program=fb.program, **{"return": fb.value},
                )  # fmt: skip
                batch = propose(
                    self.llm, fb.messages, self._plan(r, scorer.task.domain), scorer, self.emit,
                    round_no=r,
                    should_stop=self.generation_over,
                )  # fmt: skip
                if not self._record(r, cfg.revision, fb.text, batch):
                    return  # a round that does not improve ends the revision (early stop)

    # -- search ----------------------------------------------------------------------------------
    def seeds(self) -> list[str]:
        """Distinct accepted programs, best first (stable: earlier answers win ties)."""
        first: dict[str, float] = {}
        for rec in self.rounds:
            for program, value in rec.programs:
                first.setdefault(program, value)
        for program, value in self.salvaged:
            first.setdefault(program, value)
        return [p for p, _ in sorted(first.items(), key=lambda kv: -kv[1])]

    def run_search(
        self, task: Task, budget: int, offset: int, seeds: list[str] | None = None
    ) -> None:
        from search import SearchConfig, llmgs_search, mosaic_search, scheduled_hill_climbing

        if self.best is not None and self.best[1] >= 1.0:
            self.stop_reason = "solved"
            return
        if budget <= 0 or self.stopped():
            self.stop_reason = "cancelled" if self.stopped() else "budget"
            return
        config = SearchConfig(budget=budget, seed=self.cfg.seed, progress=False)
        sink = _SearchEvents(self.emit, offset=offset)
        with self.clock.stage("search"):
            seeds = self.seeds() if seeds is None else seeds
            if self.cfg.search_method == "mosaic":
                # The accepted programs are climbed from first and lend their fragments.
                result = mosaic_search(task, seeds, config=config, on_event=sink)
            elif seeds:
                result = llmgs_search(task, seeds, config=config, on_event=sink)
            else:
                result = scheduled_hill_climbing(task, config=config, on_event=sink)
        self.search = {k: v for k, v in result.to_dict().items() if k not in ("stage_times",)}
        # Summed: with loop_rounds the search runs in slices (agent.pipeline.loop).
        self.search_evals += result.evaluations
        self.search_unique += result.unique_evaluations
        self.stop_reason = result.stop_reason
        if result.stop_reason == "interrupted":
            self.stop_reason = "cancelled"
        if result.best_program and (self.best is None or result.best_return > self.best[1]):
            self.best = (result.best_program, result.best_return)


class _SearchEvents:
    """Turns the search's events into solve events (progress at most twice a second)."""

    def __init__(self, emit: Emitter, offset: int) -> None:
        self.emit, self.offset = emit, offset
        self.best: float | None = None
        self.last = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "best_updated":
            self.best = event["best_return"]
            self.emit(
                "best_updated", evaluations=self.offset + event["evaluations"],
                best_return=event["best_return"], program=event["program"],
            )  # fmt: skip
        elif name == "climb_started" and time.monotonic() - self.last >= 0.5:
            self.last = time.monotonic()
            self.emit(
                "search_progress", evaluations=self.offset + event["evaluations"],
                best_return=self.best, climbs=event["climb"], k=event["k"],
            )  # fmt: skip
        elif name == "seed_skipped":
            self.emit("warning", message=f"seed program {event['index']} skipped: "
                      f"{event['reason']}")  # fmt: skip


def solve(
    description: str,
    *,
    task: str | None = None,
    model: str | None = _UNSET,
    budget: int | None = None,
    seed: int = 0,
    strategy: str = "pythonic_dsl",
    revision: str = "none",
    llm: LLM | None = None,
    on_event: OnEvent | None = None,
    should_stop: Callable[[], bool] | None = None,
    config: SolveConfig | None = None,
    progress: bool | None = None,
    **options: Any,
) -> SolveResult:
    """Solve a task described in plain words: LLM proposals, revision, then Scheduled HC.

    Args:
        description: The task in the user's words ("pick up the key and open the door").
        task: A registry id that overrides matching (``"karel/DoorKey"``); user tasks added
            with ``envs.register`` work the same way.
        model: litellm model string, ``local/qwen2.5-coder-1.5b`` (default) or ``-0.5b``, or
            None for pure search.
        budget: Evaluations in total; None for ``min(task default, 100,000)``.
        seed: Seed of the search and of the model's sampling.
        strategy: ``pythonic_dsl`` (paper), ``python`` or ``dsl``.
        revision: ``none`` (paper's LLM-GS), ``regeneration``, ``regeneration_with_reward``,
            ``execution_trace`` or ``program_execution_trace``.
        llm: A ready :class:`~agent.llm.LLM` (e.g. ``ScriptedLLM``) used instead of ``model``.
        on_event: Receives every event (see :mod:`agent.events`).
        should_stop: Polled between stages, between answers and before each computed
            evaluation; True stops the run, which then returns its best program so far.
        config: Base settings; the keyword arguments above and ``options`` override it.
        progress: Print progress lines on stderr (as ``llmgs solve`` does); None: only when
            no ``on_event`` is given and stderr is a terminal.
        **options: Any other :class:`SolveConfig` field (``rounds``, ``samples``, ``mode``,
            ``instances``, ``cache``, ``save``, ``runs_dir``, ...).

    Returns:
        The frozen :class:`SolveResult`.

    Raises:
        TaskNotFound: No task fits the description (the message lists them).
        ConfigError: Invalid settings.
        CacheMiss: Replay-only mode found an answer missing from the cache. Any other
            model failure (``LLMError``, e.g. a crash of the embedded model's runtime) does
            not raise: the run carries on without the model, warns on stderr and records the
            reason in ``SolveResult.warnings`` and the run folder.
    """
    base = config if config is not None else SolveConfig()
    changes: dict[str, Any] = dict(
        budget=budget, seed=seed, strategy=strategy, revision=revision, **options
    )
    if model is not _UNSET:
        changes["model"] = model
    elif llm is not None:  # an injected gateway tells its model (local or not); fakes do not
        changes["model"] = getattr(getattr(llm, "config", None), "model", None)
    cfg = dataclasses.replace(base, **changes)
    if llm is None:
        llm = _make_llm(cfg)
    rundir = RunDir(cfg.runs_dir) if cfg.save else None
    from agent.commands.solve import ProgressPrinter

    if progress is None:
        progress = on_event is None and sys.stderr.isatty()
    printer = ProgressPrinter(sys.stderr) if progress else None
    emit = Emitter([on_event, printer, rundir])
    # A model failure is always said on stderr, once: by a progress printer if there is one.
    echo = printer is None and not isinstance(on_event, ProgressPrinter)
    try:
        return _solve(description, task, cfg, llm, emit, rundir, should_stop, echo)
    finally:
        if rundir is not None:
            rundir.close()


def _solve(
    description: str, task_id: str | None, cfg: SolveConfig, llm: LLM | None, emit: Emitter,
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
            run.model_failed(exc, None)
            match = match_task(description, task=task_id, llm=None, confirm=False)
        emit("task_matched", **match.to_dict())
    if rundir is not None:
        rundir.open(match.task)
    info = envs.info(match.task)
    budget = cfg.budget if cfg.budget is not None else min(info.default_budget, DEFAULT_BUDGET_CAP)
    inner = envs.make(match.task, n=cfg.instances)
    # Only the search sees the cancellable wrapper: proposals are few and checked per answer.
    task = CancellableTask(inner, should_stop)
    scorer = Scorer(inner, budget)
    prompt = _task_prompt(match.task)
    if cfg.mode == "agent" and run.llm is not None:
        from agent.tool_agent import run_agent

        try:
            with run.clock.stage("agent"):
                outcome = run_agent(run.llm, task, prompt, budget, cfg, emit, should_stop)
        except CacheMiss:
            raise
        except LLMError as exc:
            run.model_failed(exc, scorer)
            run.run_search(task, budget - scorer.count, scorer.count)
        else:
            run.best, run.stop_reason = outcome.best, outcome.stop_reason
            run.search_evals, run.search_unique = outcome.evaluations, outcome.unique
            run.warnings.extend(outcome.warnings)  # the model failed mid-loop; tools' work kept
    else:
        try:
            run.generate(prompt, scorer)
            run.revise(prompt, scorer, inner)
        except CacheMiss:
            raise
        except LLMError as exc:  # e.g. the embedded model's runtime crashed: search on
            run.model_failed(exc, scorer)
        search_with_loop(run, task, inner, prompt, scorer, budget)
    if run.stopped():
        run.stop_reason = "cancelled"
    return _finish(run, match, budget, scorer, rundir)


def _finish(
    run: _Run, match: MatchResult, budget: int, scorer: Scorer, rundir: RunDir | None
) -> SolveResult:
    import envs
    from agent.conversion.acceptance import AcceptanceStats
    from agent.conversion.to_python import to_python
    from agent.tools.rollout import worst_instance
    from envs.task import mean_return

    cfg, emit = run.cfg, run.emit
    with run.clock.stage("verify"):
        program = run.best[0] if run.best is not None else ""
        fresh = envs.make(match.task, n=cfg.instances)  # independent of every cache
        returns = tuple(fresh.returns(program)) if program else ()
        reward = mean_return(returns, fresh.n) if program else float("-inf")
        if run.best is not None and reward != run.best[1]:
            emit("warning", message=f"search reported {run.best[1]!r}, re-evaluation {reward!r}")
        python = to_python(program, fresh.domain) if program else ""
        # Generalisation: the same program on 64 instances no search has seen.
        held = envs.make(match.task, n=64, seed=cfg.instances) if program else None
        heldout = held.evaluate(program) if held is not None else None
        if rundir is not None and program:
            rundir.save_gif(fresh, program, worst_instance(returns))
    stats = AcceptanceStats()
    for batch in run.batches:
        stats = stats.merge(batch.stats)
    usage = run.llm.usage if run.llm is not None else None
    llm = LLMUsageSummary(
        model=run.model_name if run.llm is not None else None,
        calls=usage.calls if usage else 0, cache_hits=usage.cache_hits if usage else 0,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        cost_usd=usage.cost_usd if usage else 0.0, latency_s=usage.latency_s if usage else 0.0,
    )  # fmt: skip
    reason = "solved" if reward >= 1.0 else run.stop_reason
    result = SolveResult(
        task=match.task, description=run.description, match=match, program=program,
        python=python, reward=reward, instance_returns=returns, solved=reward >= 1.0,
        evaluations=scorer.count + run.search_evals,
        unique_evaluations=_unique(run, scorer), stop_reason=reason, mode=cfg.mode,
        strategy=cfg.strategy, revision=cfg.revision, seed=cfg.seed, budget=budget,
        instances=cfg.instances, llm=llm, acceptance=stats.to_dict(), rounds=tuple(run.rounds),
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


def _unique(run: _Run, scorer: Scorer) -> int:
    """Distinct programs evaluated: the search's, plus proposals the search did not re-score."""
    if run.search is None:
        return scorer.unique + run.search_unique
    seeds = run.seeds()
    rescored = set(seeds[: len(run.search.get("seed_returns", ()))])
    return run.search_unique + len(set(scorer.values) - rescored)
