"""Summaries of the sample-efficiency benchmark: per-task targets, tables and the report.

Split from :mod:`evals.efficiency` (which runs the benchmark): everything here reads the
records of ``runs.jsonl`` and nothing runs a search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

BENCHMARK_METHODS = ("mosaic", "shc", "hc", "random")


def _reach(curve: list[list[float]], target: float) -> int | None:
    """Evaluations after which a run's best return first reached ``target`` (its curve)."""
    return next((int(count) for count, best in curve if best >= target), None)


def task_targets(records: list[dict[str, Any]]) -> dict[str, float]:
    """Per task, the lowest target any of its runs was given (1.0 unless set with --target).

    A task whose best reachable return is below 1.0 (shown by an argument about one of its
    instances) is run with that return as the target; every method's runs of the task are
    then judged by it, read off their curves.
    """
    targets: dict[str, float] = {}
    for r in records:
        targets[r["task"]] = min(targets.get(r["task"], 1.0), r.get("target", 1.0))
    return targets


def _best_at(curve: list[list[float]], budget: int) -> float:
    best = float("-inf")
    for count, value in curve:
        if count > budget:
            break
        best = value
    return best


def _quantile(values: list[float], q: float) -> float:
    # An observed value (no interpolation), so unsolved runs (inf) stay inf, never nan; for
    # an even count the median is the lower of the two middle runs.
    return float(np.percentile(values, q, method="inverted_cdf"))


def summarise(records: list[dict[str, Any]], budgets: Sequence[int]) -> list[dict[str, Any]]:
    """Per (task, method, reporting budget): solved runs, evaluations to solve, final returns."""
    rows = []
    keys = sorted({(r["task"], r["method"], r["budget"]) for r in records})
    targets = task_targets(records)
    for task, method, run_budget in keys:
        target = targets[task]
        runs = [
            r
            for r in records
            if (r["task"], r["method"], r["budget"]) == (task, method, run_budget)
        ]
        reach = [_reach(r["curve"], target) for r in runs]
        # A run's wall time is its time to the target only if it stopped there.
        timed = all(r.get("target", 1.0) == target for r in runs)
        for budget in [b for b in budgets if b <= run_budget]:
            to_solve = [x if x is not None and x <= budget else math.inf for x in reach]
            finals = [_best_at(r["curve"], budget) for r in runs]
            # The held-out return is of the run's final program, so only at its own budget.
            held = [r.get("heldout_return") for r in runs]
            held = [h for h in held if h is not None] if budget == run_budget else []
            solved = [x for x in to_solve if x != math.inf]
            rows.append({
                "task": task, "method": method, "budget": budget, "runs": len(runs),
                "target": target,
                "solved": len(solved),
                "median_evals_to_solve": _quantile(to_solve, 50),
                "evals_to_solve_q25_q75": [_quantile(to_solve, 25), _quantile(to_solve, 75)],
                "median_final_return": _quantile(finals, 50),
                "final_return_min_max": [float(min(finals)), float(max(finals))],
                "median_heldout_return": _quantile(held, 50) if held else None,
                "heldout_return_min_max": [float(min(held)), float(max(held))] if held else None,
                "median_wall_s_per_run": float(np.median([r["wall_s"] for r in runs])),
                # A run stops when it solves, so its wall time is its time to solve; like the
                # evaluations, runs that did not solve within the budget count as infinite.
                "median_s_to_solve": _quantile([
                    r["wall_s"] if x != math.inf else math.inf
                    for r, x in zip(runs, to_solve, strict=True)
                ], 50) if timed else None,
                "evals_per_s": float(sum(r["evaluations"] for r in runs)
                                     / max(sum(r["wall_s"] for r in runs), 1e-9)),
            })  # fmt: skip
    return rows


def _fmt_evals(x: float) -> str:
    return ">budget" if math.isinf(x) else f"{x:,.0f}"


def _fmt_seconds(x: float | None) -> str:
    if x is None:  # summaries written before this column existed
        return "-"
    return ">budget" if math.isinf(x) else f"{x:.1f}"


def _fmt_heldout(row: dict[str, Any]) -> str:
    median, spread = row.get("median_heldout_return"), row.get("heldout_return_min_max")
    if median is None or spread is None:
        return "-"
    return f"{median:.3f} ({spread[0]:.3f}-{spread[1]:.3f})"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The summary as a markdown table."""
    lines = [
        "| task | method | budget | solved | median evals to 1.0 (q25-q75) | "
        "median s to solve | median final return (min-max) | median held-out return (min-max) | "
        "median s/run | evals/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q25, q75 = r["evals_to_solve_q25_q75"]
        lo, hi = r["final_return_min_max"]
        lines.append(
            f"| {r['task'].split('/')[-1]} | {r['method']} | {r['budget']:,} | "
            f"{r['solved']}/{r['runs']} | {_fmt_evals(r['median_evals_to_solve'])} "
            f"({_fmt_evals(q25)}-{_fmt_evals(q75)}) | {_fmt_seconds(r.get('median_s_to_solve'))} | "
            f"{r['median_final_return']:.3f} "
            f"({lo:.3f}-{hi:.3f}) | {_fmt_heldout(r)} | {r['median_wall_s_per_run']:.1f} | "
            f"{r['evals_per_s']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def by_task_markdown(rows: list[dict[str, Any]], budget: int) -> str:
    """One line per task at one reporting budget, methods side by side, easiest task first.

    Args:
        rows: Rows of :func:`summarise`.
        budget: The reporting budget to show (rows at other budgets are ignored).
    """
    at = [r for r in rows if r["budget"] == budget]
    seen = {r["method"] for r in at}
    methods = [m for m in BENCHMARK_METHODS if m in seen] + sorted(seen - set(BENCHMARK_METHODS))
    cell = {(r["task"], r["method"]): r for r in at}
    first = methods[0] if methods else ""

    def difficulty(task: str) -> tuple[float, float]:
        row = cell.get((task, first))
        if row is None:
            return math.inf, 0.0
        return row["median_evals_to_solve"], -row["median_final_return"]

    tasks = sorted(dict.fromkeys(r["task"] for r in at), key=difficulty)
    head = ["task"]
    for m in methods:
        head += [f"{m} solved", f"{m} evals to 1.0: median (q25-q75)", f"{m} s to solve"]
    head.append(f"median final return ({' / '.join(methods)})")
    head.append(f"median held-out return ({' / '.join(methods)})")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task in tasks:
        label = task.split("/")[-1]
        target = next(
            (cell[(task, m)].get("target", 1.0) for m in methods if (task, m) in cell), 1.0
        )
        if target != 1.0:
            label += f" (to {target:.4g}, the best reachable)"
        parts, finals, held = [label], [], []
        for m in methods:
            r = cell.get((task, m))
            if r is None:
                parts += ["-", "-", "-"]
                finals.append("-")
                held.append("-")
                continue
            q25, q75 = r["evals_to_solve_q25_q75"]
            parts += [
                f"{r['solved']}/{r['runs']}",
                _fmt_evals(r["median_evals_to_solve"])
                + ("" if math.isinf(q25) else f" ({_fmt_evals(q25)}-{_fmt_evals(q75)})"),
                _fmt_seconds(r.get("median_s_to_solve")),
            ]
            finals.append(f"{r['median_final_return']:.3f}")
            h = r.get("median_heldout_return")
            held.append("-" if h is None else f"{h:.3f}")
        parts.append(" / ".join(finals))
        parts.append(" / ".join(held))
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def report(rows: list[dict[str, Any]], budgets: Sequence[int]) -> str:
    """``summary.md``: a by-task table per reporting budget, then every row."""
    sections = []
    for budget in sorted({r["budget"] for r in rows} & set(budgets), reverse=True):
        sections.append(f"## At {budget:,} evaluations\n\n{by_task_markdown(rows, budget)}")
    sections.append(f"## Every row\n\n{markdown(rows)}")
    return "\n".join(sections)
