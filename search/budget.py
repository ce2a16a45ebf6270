"""Honest evaluation counting: the paper's counter, an exact budget and a cache.

The paper counts every evaluation of a program on all instances as 1, duplicates included
(spec §6.8). :class:`Evaluator` keeps that count, refuses any evaluation beyond the budget
(raising :class:`~envs.errors.BudgetExceeded` *before* evaluating, so the budget is never
overshot), and serves duplicates from a cache so they cost no compute although they still
count. It also tracks the best program and the improvement curve.

The cache is keyed by a 64-bit BLAKE2b digest of the canonical program text: 16 bytes per
entry instead of the text, so it can be checkpointed cheaply. Two different programs would
share a key with probability about n^2 / 2^65 (1e-8 at half a million programs).

It is the one ledger of a ``solve()`` run: the model's proposals are scored with
:meth:`Evaluator.score` (counted like any evaluation, their per-instance returns kept), and the
same evaluator is then handed to the search (``search(..., ledger=...)``), which continues its
count and budget and takes a pre-scored seed program at its recorded returns instead of
scoring it again (:meth:`Evaluator.prescored`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from envs.dsl.ast import Program
from envs.errors import BudgetExceeded, ConfigError
from envs.task import Task, mean_return

BatchEvaluate = Callable[[Sequence[Program]], list[float]]


def program_key(text: str) -> int:
    """Cache key of a canonical program text (64-bit BLAKE2b digest)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class Solved(Exception):  # noqa: N818 - control flow, not an error
    """Raised inside a search when a program reaches the target return."""


class Evaluator:
    """Counts, caches and budgets the evaluations of one run (the evaluation ledger).

    Args:
        task: The task whose ``evaluate`` scores programs.
        budget: Evaluations allowed (paper counting).
        target: Return at which the search stops (:class:`Solved` is raised after recording).
        use_cache: Serve repeated programs from the cache (they still count).
        on_best: Called as ``on_best(count, best_return, program_text)`` on each improvement.
        on_count: Called after each counted evaluation with the new count (progress bars).
    """

    def __init__(
        self,
        task: Task,
        budget: int,
        target: float = 1.0,
        use_cache: bool = True,
        on_best: Callable[[int, float, str], None] | None = None,
        on_count: Callable[[int], None] | None = None,
    ) -> None:
        self.task = task
        self.budget = budget
        self.target = target
        self.use_cache = use_cache
        self.on_best = on_best
        self.on_count = on_count
        self.count = 0
        self.cache: dict[int, float] = {}
        self.computed = 0
        self.best_return = float("-inf")
        self.best_program = ""
        self.curve: list[tuple[int, float]] = []
        # Per-instance returns of the programs scored with score(), by canonical text.
        self.scored: dict[str, tuple[float, ...]] = {}

    @property
    def unique(self) -> int:
        """Distinct programs counted so far."""
        return len(self.cache)

    @property
    def remaining(self) -> int:
        """Evaluations left in the budget."""
        return self.budget - self.count

    def lookup(self, text: str) -> float | None:
        """The cached return of a program text, if it was evaluated and caching is on."""
        if not self.use_cache:
            return None
        return self.cache.get(program_key(text))

    def evaluate(
        self, program: Program, precomputed: float | None = None, text: str | None = None
    ) -> float:
        """Count one evaluation of ``program`` and return its return.

        Args:
            program: The program to score.
            precomputed: Its return when already computed elsewhere (a worker process).
            text: Its canonical text when the caller already has it (saves printing it).

        Raises:
            BudgetExceeded: The budget is used up; nothing was evaluated or counted.
            Solved: The program reached the target (it was counted and recorded first).
        """
        if self.count >= self.budget:
            raise BudgetExceeded(f"evaluation budget of {self.budget} used up")
        if text is None:
            text = str(program)
        key = program_key(text)
        score = self.cache.get(key) if self.use_cache else None
        if score is None:
            score = precomputed if precomputed is not None else self.task.evaluate(program)
            self.computed += 1
        self._count(key, text, score)
        if score >= self.target:
            raise Solved(text)
        return score

    def score(self, text: str) -> float | None:
        """Count one evaluation of a program proposed outside the search (a model's answer).

        Counted and cached like :meth:`evaluate` (a repeated program still counts 1), but it
        returns None instead of raising once the budget is used up and never raises
        :class:`Solved`: the caller decides what a program at the target means. The
        per-instance returns are kept, so that a search handed this ledger starts from the
        program without scoring it again (:meth:`prescored`).

        Args:
            text: Canonical DSL text of the program.

        Returns:
            Its mean return, or None when the budget is used up (nothing was counted).
        """
        if self.count >= self.budget:
            return None
        returns = self.scored.get(text)
        if returns is None:
            returns = tuple(self.task.returns(text))
            self.computed += 1
            self.scored[text] = returns
        value = mean_return(returns, self.task.n)
        self._count(program_key(text), text, value)
        return value

    def prescored(self, text: str) -> tuple[float, tuple[float, ...]] | None:
        """Mean and per-instance returns of a program scored with :meth:`score`, or None.

        Taking them counts nothing: the program was counted when it was scored.

        Raises:
            Solved: The program had reached the target return.
        """
        returns = self.scored.get(text)
        if returns is None:
            return None
        value = mean_return(returns, self.task.n)
        if value >= self.target:
            raise Solved(text)
        return value, returns

    def _count(self, key: int, text: str, score: float) -> None:
        self.cache[key] = score
        self.count += 1
        if self.on_count is not None:
            self.on_count(self.count)
        if score > self.best_return:
            self.best_return = score
            self.best_program = text
            self.curve.append((self.count, score))
            if self.on_best is not None:
                self.on_best(self.count, score, text)

    # -- handing the ledger to a search ------------------------------------------------------
    def lend(
        self,
        task: Task,
        budget: int,
        target: float,
        on_best: Callable[[int, float, str], None] | None,
    ) -> dict[str, Any]:
        """Let a search continue this ledger; returns what :meth:`give_back` restores.

        The search evaluates on ``task`` (the same task, possibly wrapped, e.g. to be
        cancelled), may count ``budget`` more evaluations (never beyond this ledger's own
        budget), stops at ``target`` and reports improvements to ``on_best``.

        Raises:
            ConfigError: ``task`` is another task (other id, instances or seed) than the
                ledger's, whose cached returns would then be wrong.
        """
        mine = (self.task.id, self.task.n, self.task.seed)
        if (task.id, task.n, task.seed) != mine:
            raise ConfigError(
                f"the ledger scores {mine}, the search was given {(task.id, task.n, task.seed)}"
            )
        lent = {
            "task": self.task, "budget": self.budget, "target": self.target,
            "on_best": self.on_best, "on_count": self.on_count,
        }  # fmt: skip
        self.task, self.target, self.on_best = task, target, on_best
        self.budget = min(self.budget, self.count + budget)
        return lent

    def give_back(self, lent: dict[str, Any]) -> None:
        """Restore the settings :meth:`lend` changed (the counts, cache and best stay)."""
        for name, value in lent.items():
            setattr(self, name, value)

    # -- checkpoint support -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Counters and best (JSON-ready); the cache is saved separately by :meth:`cache_arrays`."""
        return {
            "count": self.count,
            "budget": self.budget,
            "best_return": self.best_return,
            "best_program": self.best_program,
            "curve": [list(p) for p in self.curve],
        }

    def cache_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The cache as (uint64 keys, float64 returns) arrays."""
        keys = np.fromiter(self.cache.keys(), dtype=np.uint64, count=len(self.cache))
        values = np.fromiter(self.cache.values(), dtype=np.float64, count=len(self.cache))
        return keys, values

    def restore(self, state: dict[str, Any], keys: np.ndarray, values: np.ndarray) -> None:
        """Inverse of :meth:`state` and :meth:`cache_arrays`."""
        self.count = int(state["count"])
        self.budget = int(state.get("budget", self.budget))  # older checkpoints lack it
        self.best_return = float(state["best_return"])
        self.best_program = str(state["best_program"])
        self.curve = [(int(c), float(b)) for c, b in state["curve"]]
        self.cache = dict(zip(keys.tolist(), values.tolist(), strict=True))
