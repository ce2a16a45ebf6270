"""Honest evaluation counting: the paper's counter, an exact budget and a cache.

The paper counts every evaluation of a program on all instances as 1, duplicates included
(spec §6.8). :class:`Evaluator` keeps that count, refuses any evaluation beyond the budget
(raising :class:`~envs.errors.BudgetExceeded` *before* evaluating, so the budget is never
overshot), and serves duplicates from a cache so they cost no compute although they still
count. It also tracks the best program and the improvement curve.

The cache is keyed by a 64-bit BLAKE2b digest of the canonical program text: 16 bytes per
entry instead of the text, so it can be checkpointed cheaply. Two different programs would
share a key with probability about n^2 / 2^65 (1e-8 at half a million programs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from envs.dsl.ast import Program
from envs.errors import BudgetExceeded
from envs.task import Task

BatchEvaluate = Callable[[Sequence[Program]], list[float]]


def program_key(text: str) -> int:
    """Cache key of a canonical program text (64-bit BLAKE2b digest)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class Solved(Exception):  # noqa: N818 - control flow, not an error
    """Raised inside a search when a program reaches the target return."""


class Evaluator:
    """Counts, caches and budgets the evaluations of one search run.

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
        if score >= self.target:
            raise Solved(text)
        return score

    # -- checkpoint support -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Counters and best (JSON-ready); the cache is saved separately by :meth:`cache_arrays`."""
        return {
            "count": self.count,
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
        self.best_return = float(state["best_return"])
        self.best_program = str(state["best_program"])
        self.curve = [(int(c), float(b)) for c, b in state["curve"]]
        self.cache = dict(zip(keys.tolist(), values.tolist(), strict=True))
