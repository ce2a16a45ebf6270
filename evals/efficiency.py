"""Sample-efficiency benchmark of pure search (no model) on the Karel and Minigrid tasks.

Runs mosaic, Scheduled HC and HC (k=250) from random programs on each task for several seeds,
records
every run as one JSON line (so an interrupted benchmark resumes where it stopped), and
summarises per task and method: runs solved, the median and spread of evaluations needed to
reach a return of 1.0, the final best return at each reporting budget (read off the
improvement curve, so one run at the largest budget also answers the smaller ones) and the
final program's return on held-out instances never searched on.

Usage::

    python -m evals.efficiency --budget 100000 --seeds 8 \\
        --out evals/results/search_efficiency
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

import envs
from envs import ConfigError, LlmgsError
from evals.efficiency_report import (  # the summary half, re-exported for callers
    BENCHMARK_METHODS,
    by_task_markdown,
    markdown,
    report,
    summarise,
    task_targets,
)
from search import (
    SearchConfig,
    SearchJob,
    SearchResult,
    as_completed,
    heldout_return,
    parse_count,
    run_job,
    stop_on_ctrl_c,
)

__all__ = [
    "BENCHMARK_METHODS", "HELDOUT_N", "RUNS_FILE", "backfill_heldout", "by_task_markdown",
    "karel_tasks", "main", "markdown", "report", "run_benchmark", "run_record", "summarise",
    "task_targets",
]  # fmt: skip

RUNS_FILE = "runs.jsonl"
HELDOUT_N = 64  # held-out instances: seeds 32..95 for the benchmark's 32 instances


def karel_tasks() -> list[str]:
    """Ids of the 12 Karel benchmark tasks."""
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


def backfill_heldout(records: list[dict[str, Any]], path: Path) -> int:
    """Add the held-out return to rows written before it was recorded; returns how many.

    The held-out return depends only on the row's best program, so it is computed from it (no
    search is re-run) and ``runs.jsonl`` is rewritten atomically.
    """
    missing = [r for r in records if "heldout_return" not in r]
    for row in missing:
        row["heldout_return"] = heldout_return(envs.make(row["task"]), row["best_program"],
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

    print(f"{len(jobs)} runs to do on {min(workers, max(len(jobs), 1))} worker(s); each "
          f"finished run is appended to {path}", file=sys.stderr, flush=True)  # fmt: skip
    with bar:
        for _, result in as_completed(run_job, jobs, workers=workers):
            record(result)
    return records


DEFAULT_REPORT = (10_000, 100_000, 1_000_000)
"""Reporting budgets of the committed tables (those below ``--budget`` are used)."""


def report_points(text: str | None, budget: int) -> list[int]:
    """The budgets at which the summary reads each run: ``text``'s (comma-separated) or those
    of :data:`DEFAULT_REPORT` up to ``budget``, and always ``budget`` itself (a run never
    reaches a later point, so a summary read only there would be empty).

    Raises:
        ConfigError: ``text`` is not comma-separated positive counts.
    """
    if text is None:
        points = list(DEFAULT_REPORT)
    else:
        try:
            points = [parse_count(b) for b in text.split(",")]
        except argparse.ArgumentTypeError:
            raise ConfigError(f"--report wants comma-separated numbers, got {text!r}") from None
        if min(points) < 1:
            raise ConfigError(f"--report budgets must be positive, got {text!r}")
    return sorted({p for p in points if p <= budget} | {budget})


def main(argv: list[str] | None = None, prog: str = "python -m evals.efficiency") -> int:
    """Command-line entry point (see the module docstring); ``prog`` names it in help."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.split("\n\n")[0] + " Re-running a command resumes it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--budget",
        type=parse_count,
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
        "--methods",
        default="mosaic,shc,hc",
        help=f"comma-separated, among {','.join(BENCHMARK_METHODS)}",
    )
    parser.add_argument(
        "--report",
        default=None,
        help="budgets at which the summary reads each run's best return (default: those of "
        "10000,100000,1000000 below --budget); --budget itself is always read",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/efficiency"),
        help="folder of runs.jsonl, summary.json and summary.md (the committed results are "
        "in evals/results/search_efficiency/, written with --out)",
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
    stop_on_ctrl_c()  # even when started in the background by a script (SIGINT ignored)
    started = time.time()
    try:
        if args.seeds < 1 or args.workers < 1:
            raise ConfigError("--seeds and --workers must be at least 1")
        report_budgets = report_points(args.report, args.budget)
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
