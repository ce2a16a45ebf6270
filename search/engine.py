"""The one search loop behind every method: a sequence of hill climbs over an exact budget.

Hill climbing (spec §6.4), Scheduled HC (§6.5), the LLM-GS loop (§6.6) and random search differ
only in where each climb starts and how many neighbours it may try (k); :class:`SearchRun`
runs the climbs, counts and caches evaluations (:class:`~search.budget.Evaluator`), emits
events, draws the progress bar, checkpoints at climb boundaries and stops on the budget, on
the target return or on Ctrl-C (keeping the best program found).

Determinism: the search RNG is ``RandomState(seed)``, which first draws one ``randint(1e6)``
as the reference does (it seeds torch with it). Each improvement step of a climb draws one
seed from it for a private neighbour stream, so how many neighbours were generated ahead (one
at a time in-process, in batches with worker processes) never changes the main stream: the
result depends only on the seed, not on timing or the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import BudgetExceeded, ConfigError, LlmgsError
from envs.task import Task
from search import checkpoint
from search.budget import Evaluator, Solved
from search.config import SearchConfig
from search.progress import EVENTS_FILE, EventEmitter, EventLog, OnEvent, Progress
from search.results import SearchResult, SkippedSeed
from search.space import neighbours, random_program

# Config fields that cannot change the outcome, so a run may be resumed with other values.
_RUNTIME_FIELDS = ("workers", "progress", "run_dir", "checkpoint_every_s", "resume", "heldout")
_BATCH_PER_WORKER = 4


class SearchRun:
    """State and machinery of one search run (see the module docstring).

    Args:
        task: Task to search.
        method: ``"hc"``, ``"shc"``, ``"random"`` or ``"llmgs"``.
        config: Settings.
        on_event: Optional callback receiving every event dict.
        ledger: An evaluator to continue (``solve()`` scores the model's proposals on it):
            the search counts ``config.budget`` more evaluations on it, its events and result
            carry the ledger's count, and seed programs scored on it before are taken at
            their recorded returns, not scored again. None: a new one.
    """

    def __init__(
        self,
        task: Task,
        method: str,
        config: SearchConfig,
        on_event: OnEvent | None,
        ledger: Evaluator | None = None,
    ) -> None:
        self.task, self.method, self.config = task, method, config
        self.domain = task.domain
        self.rng = np.random.RandomState(config.seed)
        self.rng.randint(1_000_000)  # the reference's torch-seed draw (spec §8)
        self.run_dir = Path(config.run_dir) if config.run_dir is not None else None
        self._log = EventLog(self.run_dir / EVENTS_FILE) if self.run_dir else None
        sinks = [s for s in (self._log, on_event) if s is not None]
        self.emit = EventEmitter(sinks, method=method, task=task.id, seed=config.seed)
        self.progress: Progress | None = None
        self._lent: dict[str, Any] | None = None
        # The k schedule counts this search's own evaluations plus the pre-scored seeds it
        # took (as if it had scored them itself), so a handed ledger changes no climb.
        self.base = ledger.count if ledger is not None else 0
        self.taken = 0
        if ledger is None:
            self.ev = Evaluator(task, config.budget, config.target, config.use_cache, self._on_best)
        else:
            self.ev = ledger
            self._lent = ledger.lend(task, config.budget, config.target, self._on_best)
        self.climbs = 0
        self.init: str | None = None
        self.queue: list[str] = []
        self.library: list[Program | str] = []
        self.seeds_done = False
        self.seed_returns: list[float] = []
        self.skipped: list[SkippedSeed] = []
        self.stage_times = {"seeds": 0.0, "search": 0.0}
        self.pool: Any = None
        self._snapshot: dict[str, Any] | None = None
        self._last_save = time.monotonic()
        self._save_failed = False

    def schedule_count(self) -> int:
        """The count Scheduled HC's k follows: this search's evaluations and taken seeds."""
        return self.ev.count - self.base + self.taken

    def take_prescored(self, text: str) -> tuple[float, tuple[float, ...]] | None:
        """A seed's recorded (mean, per-instance returns) on a handed ledger, or None.

        Raises:
            Solved: The seed had reached the target return.
        """
        known = self.ev.prescored(text) if self._lent is not None else None
        if known is not None:
            self.taken += 1
        return known

    # -- events ------------------------------------------------------------------------------
    def _on_best(self, count: int, best: float, text: str) -> None:
        self.emit("best_updated", evaluations=count, best_return=best, program=text)
        if self.progress is not None:
            self.progress.note(best=best)

    # -- one climb ---------------------------------------------------------------------------
    def climb(self, start: Program, k: int) -> None:
        """Hill-climb from ``start`` with first improvement among at most k neighbours."""
        self.climbs += 1
        self.emit("climb_started", climb=self.climbs, k=k, evaluations=self.ev.count)
        if self.progress is not None:
            self.progress.note(k=k)
        current, score = start, self.ev.evaluate(start)
        if k == 0:
            return
        for _ in range(self.config.max_climb_steps):
            stream = np.random.RandomState(self.rng.randint(2**31 - 1))
            step = self._first_improvement(current, score, k, stream)
            if step is None:
                return
            current, score = step

    def _first_improvement(
        self, current: Program, score: float, k: int, stream: np.random.RandomState
    ) -> tuple[Program, float] | None:
        gen = neighbours(current, stream, self.domain)
        if self.pool is None:
            for _ in range(k):
                candidate = next(gen)
                value = self.ev.evaluate(candidate)
                if value > score:
                    return candidate, value
            return None
        tried = 0
        while tried < k:
            size = max(1, min(k - tried, self.ev.remaining, self.pool.workers * _BATCH_PER_WORKER))
            batch = [next(gen) for _ in range(size)]
            scores = self.pool.evaluate_missing(batch, self.ev.lookup)
            for candidate in batch:
                value = self.ev.evaluate(candidate, precomputed=scores.get(str(candidate)))
                if value > score:
                    return candidate, value
            tried += size
        return None

    # -- LLM-GS seed phase -------------------------------------------------------------------
    def evaluate_seeds(self, seeds: list[Program | str]) -> None:
        """Evaluate the seed programs in order, then sort them (stable) by return."""
        usable: list[Program] = []
        for index, seed in enumerate(seeds):
            try:
                usable.append(ensure_program(seed, self.domain))
            except ValueError as exc:  # DSLSyntaxError and ConfigError are ValueErrors
                self.skipped.append(SkippedSeed(index, str(seed)[:200], str(exc)))
                self.emit("seed_skipped", index=index, reason=str(exc))
        for program in usable:
            known = self.take_prescored(str(program))  # a proposal scored on a handed ledger
            value = known[0] if known is not None else self.ev.evaluate(program)
            self.seed_returns.append(value)
        order = sorted(range(len(usable)), key=lambda i: -self.seed_returns[i])
        self.queue = [str(usable[i]) for i in order]
        self.seeds_done = True

    # -- where each climb starts -------------------------------------------------------------
    def next_climb(self) -> tuple[Program, int]:
        """Start program and k of the next climb, for this run's method."""
        config = self.config
        if self.method == "llmgs" and self.queue:
            start = self.queue[self.climbs % len(self.queue)]
            return ensure_program(start, self.domain), config.scheduled_k(self.schedule_count())
        if self.climbs == 0 and self.init is not None:
            start = ensure_program(self.init, self.domain)
        else:
            start = random_program(self.domain, self.rng)
        if self.method == "hc":
            return start, config.k
        if self.method == "random":
            return start, 0
        return start, config.scheduled_k(self.schedule_count())

    # -- checkpoints -------------------------------------------------------------------------
    def snapshot(self) -> None:
        """Remember the state at this climb boundary (written on the next save)."""
        self._snapshot = {
            "method": self.method,
            "task_id": self.task.id,
            "task_n": self.task.n,
            "task_seed": self.task.seed,
            "config": _outcome_config(self.config),
            "rng": checkpoint.rng_state(self.rng),
            "evaluator": self.ev.state(),
            "cache_len": len(self.ev.cache),
            "climbs": self.climbs,
            "base": self.base,
            "taken": self.taken,
            "init": self.init,
            "queue": list(self.queue),
            "seeds_done": self.seeds_done,
            "seed_returns": list(self.seed_returns),
            "skipped": [vars(s) for s in self.skipped],
            "stage_times": dict(self.stage_times),
        }

    def save(self, force: bool = False) -> None:
        """Write the last snapshot when a run folder is set and it is time (or ``force``)."""
        if self.run_dir is None or self._snapshot is None:
            return
        now = time.monotonic()
        if not force and now - self._last_save < self.config.checkpoint_every_s:
            return
        keys, values = self.ev.cache_arrays()
        n = self._snapshot["cache_len"]
        self._last_save = now
        try:
            checkpoint.save(self.run_dir, self._snapshot, keys[:n], values[:n])
        except OSError as err:  # a full disk costs the checkpoint, never the search
            if not self._save_failed:
                self._save_failed = True
                checkpoint.warn_unwritten(self.run_dir / checkpoint.STATE_FILE, err)
            return
        self.emit("checkpoint", evaluations=self._snapshot["evaluator"]["count"])

    def restore(self) -> bool:
        """Load the checkpoint of ``run_dir``; False when there is none."""
        if self.run_dir is None:
            return False
        loaded = checkpoint.load(self.run_dir)
        if loaded is None:
            return False
        state, keys, values = loaded
        _check_compatible(state, self)
        checkpoint.set_rng_state(self.rng, state["rng"])
        self.ev.restore(state["evaluator"], keys, values)
        self.climbs, self.init = state["climbs"], state["init"]
        self.base, self.taken = state.get("base", 0), state.get("taken", 0)  # older: no ledger
        self.queue, self.seeds_done = state["queue"], state["seeds_done"]
        self.seed_returns = state["seed_returns"]
        self.skipped = [SkippedSeed(**s) for s in state["skipped"]]
        self.stage_times = state["stage_times"]
        self._snapshot = state
        return True

    def close(self) -> None:
        """Release the pool, progress bar and event log; give a handed ledger back."""
        if self._lent is not None:
            self.ev.give_back(self._lent)
            self._lent = None
        if self.pool is not None:
            self.pool.close()
        if self.progress is not None:
            self.progress.close(self.ev.count)
        if self._log is not None:
            self._log.close()


def _outcome_config(config: SearchConfig) -> dict[str, Any]:
    data = config.to_dict()
    for name in _RUNTIME_FIELDS:
        data.pop(name)
    return data


def _check_compatible(state: dict[str, Any], run: SearchRun) -> None:
    mine = {
        "method": run.method,
        "task_id": run.task.id,
        "task_n": run.task.n,
        "task_seed": run.task.seed,
        "config": _outcome_config(run.config),
    }
    for key, value in mine.items():
        if state.get(key) != value:
            raise ConfigError(
                f"cannot resume: the checkpoint's {key} is {state.get(key)!r}, this run's is "
                f"{value!r}; resume with the same task, method and settings"
            )


def timed(run: SearchRun, stage: str, work: Callable[[], None]) -> None:
    """Run ``work`` and add its wall time to ``stage`` (also when it raises)."""
    started = time.perf_counter()
    try:
        work()
    finally:
        run.stage_times[stage] += time.perf_counter() - started


def _climb_forever(run: SearchRun) -> None:
    while True:
        run.snapshot()
        run.save()
        if run.ev.remaining <= 0:
            raise BudgetExceeded(f"evaluation budget of {run.config.budget} used up")
        start, k = run.next_climb()
        run.climb(start, k)


def execute(run: SearchRun, seeds: list[Program | str] | None) -> SearchResult:
    """Run the search to its end and return the result (see the module docstring)."""
    resumed = run.config.resume and run.restore()
    if resumed and run.run_dir is not None and (run.run_dir / checkpoint.RESULT_FILE).exists():
        finished = (run.run_dir / checkpoint.RESULT_FILE).read_text(encoding="utf-8")
        run.close()
        return SearchResult.from_json(finished)
    run.emit("run_started", budget=run.ev.budget, resumed=resumed, evaluations=run.ev.count)
    run.progress = Progress(run.ev.budget, run.ev.count, run.config.progress, run.task.id)
    run.ev.on_count = run.progress.count
    try:
        if run.method == "mosaic":
            from search import mosaic  # only this method needs its edits and library

            timed(run, "search", lambda: mosaic.run(run, list(seeds or []), run.library))
        if run.method == "llmgs" and not run.seeds_done:
            timed(run, "seeds", lambda: run.evaluate_seeds(list(seeds or [])))
        timed(run, "search", lambda: _climb_forever(run))
        reason = "budget"  # unreachable: the loop only ends by an exception
    except BudgetExceeded:
        reason = "budget"
    except Solved:
        reason = "solved"
    except KeyboardInterrupt:
        reason = "interrupted"
    result = _result(run, reason)
    run.save(force=True)
    if run.run_dir is not None and reason != "interrupted":
        path = run.run_dir / checkpoint.RESULT_FILE
        try:
            path.write_text(result.to_json(), encoding="utf-8")
        except OSError as err:
            checkpoint.warn_unwritten(path, err)
    run.emit("run_finished", **{k: v for k, v in result.to_dict().items() if k != "curve"})
    run.close()
    return result


def _result(run: SearchRun, reason: str) -> SearchResult:
    ev = run.ev
    return SearchResult(
        method=run.method,
        task_id=run.task.id,
        seed=run.config.seed,
        budget=ev.budget,
        best_program=ev.best_program,
        best_return=ev.best_return,
        evaluations=ev.count,
        unique_evaluations=ev.unique,
        curve=tuple(ev.curve),
        stage_times=dict(run.stage_times),
        stop_reason=reason,
        climbs=run.climbs,
        seed_returns=tuple(run.seed_returns),
        skipped_seeds=tuple(run.skipped),
        heldout_return=heldout_return(run.task, ev.best_program, run.config.heldout),
    )


def heldout_return(task: Task, program: str, n: int) -> float | None:
    """Mean return of ``program`` on ``n`` instances the search never saw, or None.

    The held-out instances are the task's next seeds (``task.seed + task.n`` onwards), rebuilt
    through the registry with the task's id; None when ``n`` is 0, there is no program, or the
    registry does not know the task (a Task object built by hand).
    """
    if n <= 0 or not program:
        return None
    import envs  # the registry, only needed here

    try:
        held = envs.make(task.id, n=n, seed=task.seed + task.n)
    except LlmgsError:
        return None
    if type(held) is not type(task):
        return None
    return held.evaluate(program)
