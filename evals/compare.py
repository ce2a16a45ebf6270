"""Each model against no model in a suite's report: fewer evaluations to 1.0, never worse.

Issue 15's test of LLM-GS: with the same seeds and the same search, does a model's cells need
fewer evaluations to reach 1.0 than the ``none`` backend's (pure search), and is its final
return never worse? :func:`versus_table` answers it per model from the stored rows: per task,
the median over the seeds both ran of the evaluations to 1.0 (a seed that did not reach 1.0
counts as infinitely many), and whether the model's final return is >= none's, read three
ways: on every one of those seeds (the strict reading), by the median over the seeds (the
same aggregate as "fewer"), and by a paired one-sided sign test (is the model lower on more
seeds than chance allows?). Two stochastic searches started differently end apart on a task
neither solves every time, so the strict reading can fail on noise alone, and the median of
a few seeds moves with one seed; the sign test says whether a loss is more than noise, but
it needs enough seeds: with 3 its smallest p is 0.125, so it can never call a loss real.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from evals.suite import NO_MODEL

Row = dict[str, Any]

ALPHA = 0.05
"""Significance level of the sign test (one-sided)."""


def _to_solve(row: Row) -> float:
    value = row.get("evals_to_solve")
    return float("inf") if value is None else float(value)


def _final(row: Row) -> float:
    value = row.get("final_return")
    return float("-inf") if value is None else float(value)


@dataclass(frozen=True)
class Judgement:
    """Issue 15's questions for one task, over the seeds both the model and none ran.

    Attributes:
        fewer: The model's median evaluations to 1.0 is below none's (a seed that did not
            reach 1.0 counts as infinitely many).
        never_worse_median: The model's median final return is >= none's.
        lower: Seeds where the model's final return is below none's.
        higher: Seeds where it is above.
    """

    fewer: bool
    never_worse_median: bool
    lower: int
    higher: int

    @property
    def never_worse(self) -> bool:
        """The model's final return is >= none's on every seed."""
        return self.lower == 0

    @property
    def worse_p(self) -> float:
        """One-sided exact sign test of "the model ends lower" (:func:`sign_test`): the
        probability of at least ``lower`` of the seeds that differ being lower if lower and
        higher were equally likely; 1.0 when no seed differs."""
        return sign_test(self.lower, self.higher)

    @property
    def significantly_worse(self) -> bool:
        """The sign test calls the model's lower final returns more than noise (``ALPHA``)."""
        return self.worse_p < ALPHA


def sign_test(lower: int, higher: int) -> float:
    """One-sided exact sign test: P(at least ``lower`` of ``lower + higher`` fair coin flips).

    Ties are dropped before the test, as in the classical sign test (Conover, *Practical
    Nonparametric Statistics*, 3rd ed., 3.4).

    Args:
        lower: Pairs where the first member is lower.
        higher: Pairs where it is higher.

    Returns:
        The p-value in (0, 1]; 1.0 when there are no untied pairs.

    Raises:
        ValueError: A count is negative.
    """
    if lower < 0 or higher < 0:
        raise ValueError(f"counts must be >= 0, got {lower} and {higher}")
    n = lower + higher
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(lower, n + 1)) / 2**n


def judge(pairs: list[tuple[Row, Row]]) -> Judgement:
    """Judge one task's (model row, no-model row) pairs, one pair per seed."""
    model = statistics.median(_to_solve(m) for m, _ in pairs)
    none = statistics.median(_to_solve(n) for _, n in pairs)
    return Judgement(
        fewer=model < none,
        never_worse_median=statistics.median(_final(m) for m, _ in pairs)
        >= statistics.median(_final(n) for _, n in pairs),
        lower=sum(_final(m) < _final(n) for m, n in pairs),
        higher=sum(_final(m) > _final(n) for m, n in pairs),
    )


def versus_table(rows: list[Row]) -> list[str]:
    """Markdown lines: one per model (method and backend) compared with the no-model cells of
    the same tasks, seeds and budgets; empty when the rows have no such pair."""
    solve = [r for r in rows if r.get("kind") == "solve"]
    base: dict[tuple[str, int, int], Row] = {}
    for row in solve:
        if row.get("backend") == NO_MODEL:
            base.setdefault((row["task"], row["budget"], row["seed"]), row)
    models: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in solve:
        if row.get("backend") != NO_MODEL:
            models[(row["method"], row["backend"])].append(row)
    head = ["method", "backend", "tasks compared", "fewer evals to 1.0 (median over seeds)",
            "final return never worse (every seed)", "never worse (median over seeds)",
            "not significantly worse (sign test)", "fewer on", "worse on (some seed)"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (method, backend), group in models.items():
        per_task: dict[str, list[tuple[Row, Row]]] = defaultdict(list)
        for row in group:
            other = base.get((row["task"], row["budget"], row["seed"]))
            if other is not None:
                per_task[row["task"]].append((row, other))
        fewer, worse, median_ok, not_significant = [], [], 0, 0
        for task, pairs in sorted(per_task.items()):
            verdict = judge(pairs)
            if verdict.fewer:
                fewer.append(task.split("/")[-1])
            if not verdict.never_worse:
                worse.append(task.split("/")[-1])
            median_ok += verdict.never_worse_median
            not_significant += not verdict.significantly_worse
        if not per_task:
            continue
        n = len(per_task)
        cells = [
            method, backend, str(n), f"{len(fewer)} of {n}", f"{n - len(worse)} of {n}",
            f"{median_ok} of {n}", f"{not_significant} of {n}", ", ".join(fewer) or "—",
            ", ".join(worse) or "—",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else []
