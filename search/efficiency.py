"""Sample-efficiency benchmark of pure search (no model) on the Karel and Minigrid tasks.

Runs mosaic, Scheduled HC and HC (k=250) from random programs on each task for several seeds,
records
every run as one JSON line (so an interrupted benchmark resumes where it stopped), and
summarises per task and method: runs solved, the median and spread of evaluations needed to
reach a return of 1.0, the final best return at each reporting budget (read off the
improvement curve, so one run at the largest budget also answers the smaller ones) and the
final program's return on held-out instances never searched on.

Usage::

    python -m search.efficiency --budget 100000 --seeds 8 \\
        --out evals/results/search_efficiency
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from envs.errors import ConfigError, LlmgsError
from search.config import SearchConfig
from search.parallel import SearchJob, run_as_completed
from search.results import SearchResult

RUNS_FILE = "runs.jsonl"
BENCHMARK_METHODS = ("mosaic", "shc", "hc", "random")
HELDOUT_N = 64  # held-out instances: seeds 32..95 for the benchmark's 32 instances


def karel_tasks() -> list[str]:
    """Ids of the 12 Karel benchmark tasks."""
    import envs

    return [t.id for t in envs.tasks("karel", benchmark_only=True)]


def run_record(result: SearchResult, target: float = 1.0) -> dict[str, Any]:
    """One benchmark row from a search result (``target``: the return the run stopped at)."""
    row = {
        "task": result.task_id,
        "method": result.method,
        "seed": result.seed,
        "budget": result.budget,
        "evaluations_to_solve": result.evaluations_to_reach(1.0),
        "best_return": result.best_return,
        "evaluations": result.evaluations,
        "unique_evaluations": result.unique_evaluations,
        "wall_s": sum(result.stage_times.values()),
        "curve": [list(p) for p in result.curve],
        "best_program": result.best_program,
        "heldout_return": result.heldout_return,
    }
    if target != 1.0:
        row["target"] = target
        row["evaluations_to_target"] = result.evaluations_to_reach(target)
    return row


def _key(row: dict[str, Any]) -> tuple[str, str, int, int, float]:
    return row["task"], row["method"], row["seed"], row["budget"], row.get("target", 1.0)


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


def backfill_heldout(records: list[dict[str, Any]], path: Path) -> int:
    """Add the held-out return to rows written before it was recorded; returns how many.

    The held-out return depends only on the row's best program, so it is computed from it (no
    search is re-run) and ``runs.jsonl`` is rewritten atomically.
    """
    from search.engine import heldout_return
    from search.methods import resolve_task

    missing = [r for r in records if "heldout_return" not in r]
    for row in missing:
        row["heldout_return"] = heldout_return(resolve_task(row["task"]), row["best_program"],
                                               HELDOUT_N)  # fmt: skip
    if missing:
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        os.replace(tmp, path)
    return len(missing)


def _read_runs(path: Path) -> list[dict[str, Any]]:
    """Read ``runs.jsonl``, dropping a last line cut short by a killed run (it is re-run)."""
    if not path.exists():
        return []
    records = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number != len(lines):
                raise
            print(f"{path}: dropping a truncated last line (that run will be re-run)", flush=True)
            # Rewrite without the fragment so that the next append starts a line of its own.
            tmp = path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            os.replace(tmp, path)
    return records


def _jobs(
    tasks: Sequence[str],
    methods: Sequence[str],
    seeds: Iterable[int],
    budget: int,
    done: set[tuple[str, str, int, int, float]],
    target: float = 1.0,
) -> list[SearchJob]:
    config = SearchConfig(budget=budget, k=250, progress=False, target=target)
    return [
        SearchJob(task=task, method=method, config=replace(config, seed=seed))
        # Seed-major order: a benchmark stopped part-way has every task at the same seed count.
        for seed in seeds
        for task in tasks
        for method in methods
        if (task, method, seed, budget, target) not in done
    ]


def run_benchmark(
    tasks: Sequence[str],
    methods: Sequence[str],
    seeds: Iterable[int],
    budget: int,
    out: Path,
    workers: int = 1,
    target: float = 1.0,
) -> list[dict[str, Any]]:
    """Run every (task, method, seed) not yet in ``out/runs.jsonl`` and return all records.

    Runs are independent and each is reproducible by its seed, so ``workers`` processes give
    the same records as one (in completion order; the summary does not depend on order).

    Args:
        tasks: Task ids; bare names (``"DoorKey"``) are resolved to full ids.
        methods: Methods among :data:`BENCHMARK_METHODS`.
        seeds: Search seeds, one run per seed.
        budget: Evaluations per run (the paper's counting).
        out: Folder of ``runs.jsonl``; runs already there are not run again.
        workers: Processes running searches at once.

    Raises:
        TaskNotFound: An unknown task id.
        ConfigError: An unknown method or a budget below 1.
    """
    import envs

    tasks = [envs.info(task).id for task in tasks]
    unknown = sorted(set(methods) - set(BENCHMARK_METHODS))
    if unknown:
        raise ConfigError(
            f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARK_METHODS)}"
        )
    if budget < 1:
        raise ConfigError(f"the budget must be at least 1 evaluation, got {budget}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / RUNS_FILE
    records = _read_runs(path)
    backfill_heldout(records, path)
    done = {_key(r) for r in records}
    jobs = _jobs(tasks, methods, seeds, budget, done, target)
    bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=None, dynamic_ncols=True)

    def record(result: SearchResult) -> None:
        row = run_record(result, target)
        records.append(row)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        bar.update()
        bar.write(
            f"{row['task']} {row['method']} seed {row['seed']}: best {row['best_return']:.4f} "
            f"solved@{row['evaluations_to_solve']} {row['wall_s']:.1f}s"
        )

    with bar:
        for _, result in run_as_completed(jobs, workers):
            record(result)
    return records


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


def _count(text: str) -> int:
    """A whole number of evaluations, also written as ``1e6``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(value)


def _budgets(text: str) -> list[int]:
    try:
        budgets = [_count(b) for b in text.split(",")]
    except argparse.ArgumentTypeError:
        raise ConfigError(f"--report wants comma-separated numbers, got {text!r}") from None
    if min(budgets) < 1:
        raise ConfigError(f"--report budgets must be positive, got {text!r}")
    return budgets


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m search.efficiency",
        description=__doc__.split("\n\n")[0] + " Re-running a command resumes it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--budget",
        type=_count,
        default=100_000,
        help="evaluations per run (1e6 is accepted)",
    )
    parser.add_argument(
        "--seeds", type=int, default=8, help="runs per task and method: seeds 0..N-1"
    )
    parser.add_argument(
        "--tasks",
        default="all",
        help="comma-separated task ids (bare names work), or 'all' for the 12 Karel tasks",
    )
    parser.add_argument(
        "--methods", default="shc,hc", help=f"comma-separated, among {','.join(BENCHMARK_METHODS)}"
    )
    parser.add_argument(
        "--report",
        default="10000,100000,1000000",
        help="budgets at which the summary reads each run's best return",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("evals/results/search_efficiency"),
        help="folder of runs.jsonl, summary.json and summary.md",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=1.0,
        help="return at which a run stops and counts as solved; below 1.0 only for tasks "
        "whose best reachable return is shown to be lower",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="runs in parallel (processes); results do not depend on it",
    )
    args = parser.parse_args(argv)
    started = time.time()
    try:
        if args.seeds < 1 or args.workers < 1:
            raise ConfigError("--seeds and --workers must be at least 1")
        report_budgets = _budgets(args.report)
        tasks = karel_tasks() if args.tasks == "all" else args.tasks.split(",")
        records = run_benchmark(
            tasks,
            args.methods.split(","),
            range(args.seeds),
            args.budget,
            args.out,
            args.workers,
            args.target,
        )
    except LlmgsError as error:
        parser.error(str(error))
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished runs are in {args.out / RUNS_FILE}; "
              "run the same command again to resume", file=sys.stderr)  # fmt: skip
        return 130
    rows = summarise(records, report_budgets)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2))
    (args.out / "summary.md").write_text(report(rows, report_budgets))
    print(report(rows, report_budgets))
    print(f"{time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
