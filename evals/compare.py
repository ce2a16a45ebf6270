"""Each model against no model in a suite's report: fewer evaluations to 1.0, never worse.

Issue 15's test of LLM-GS: with the same seeds and the same search, does a model's cells need
fewer evaluations to reach 1.0 than the ``none`` backend's (pure search), and is its final
return never worse? :func:`versus_table` answers it per model from the stored rows: per task,
the median over the seeds both ran of the evaluations to 1.0 (a seed that did not reach 1.0
counts as infinitely many), and whether the model's final return is >= none's, read two
ways: on every one of those seeds (the strict reading), and by the median over the seeds
(the same aggregate as "fewer"). Two stochastic searches started differently end apart on
a task neither solves every time, so the strict reading can fail on noise alone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from evals.suite import NO_MODEL

Row = dict[str, Any]


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
        never_worse: The model's final return is >= none's on every seed.
        never_worse_median: The model's median final return is >= none's.
    """

    fewer: bool
    never_worse: bool
    never_worse_median: bool


def judge(pairs: list[tuple[Row, Row]]) -> Judgement:
    """Judge one task's (model row, no-model row) pairs, one pair per seed."""
    model = statistics.median(_to_solve(m) for m, _ in pairs)
    none = statistics.median(_to_solve(n) for _, n in pairs)
    return Judgement(
        fewer=model < none,
        never_worse=all(_final(m) >= _final(n) for m, n in pairs),
        never_worse_median=statistics.median(_final(m) for m, _ in pairs)
        >= statistics.median(_final(n) for _, n in pairs),
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
            "fewer on", "worse on (some seed)"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (method, backend), group in models.items():
        per_task: dict[str, list[tuple[Row, Row]]] = defaultdict(list)
        for row in group:
            other = base.get((row["task"], row["budget"], row["seed"]))
            if other is not None:
                per_task[row["task"]].append((row, other))
        fewer, worse, median_ok = [], [], 0
        for task, pairs in sorted(per_task.items()):
            verdict = judge(pairs)
            if verdict.fewer:
                fewer.append(task.split("/")[-1])
            if not verdict.never_worse:
                worse.append(task.split("/")[-1])
            median_ok += verdict.never_worse_median
        if not per_task:
            continue
        n = len(per_task)
        cells = [
            method, backend, str(n), f"{len(fewer)} of {n}", f"{n - len(worse)} of {n}",
            f"{median_ok} of {n}", ", ".join(fewer) or "—", ", ".join(worse) or "—",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else []
