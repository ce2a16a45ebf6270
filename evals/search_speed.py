"""Search speed benchmark: evaluations per second of the search loops, against the evaluator.

Issue 14 asks how many evaluations per second a search loop runs. This benchmark times, in one
process and on the same task, seed and budget, round after round so that a busy machine slows
all of them alike:

* ``evaluator``: the task's ``returns`` alone (a fresh copy), over exactly the distinct programs
  a ``mosaic`` run evaluates: the ceiling, on one core, of any search that evaluates each
  program once;
* ``shc`` and ``mosaic``, each with ``workers=1`` and ``workers=2`` (scoring ahead on threads,
  :mod:`search.pool`; the same result as one worker). Scheduled HC's counted evaluations
  include repeats served from its cache; mosaic evaluates each program once.

Each figure is the median over ``--rounds`` rounds, as counted evaluations per wall second
and, beside it, distinct programs per wall second. Run ``python -m evals.search_speed --help``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import envs
from envs import LlmgsError, Task
from envs.dsl import Program
from search import SearchConfig, parse_count, search

LOOPS: tuple[tuple[str, str, int], ...] = (
    ("shc", "shc", 1),
    ("shc --workers 2", "shc", 2),
    ("mosaic", "mosaic", 1),
    ("mosaic --workers 2", "mosaic", 2),
)


class _Recording(Task):
    """A task that records the programs it evaluates (for the evaluator's round)."""

    def __init__(self, inner: Task) -> None:
        self.inner = inner
        self.id, self.domain, self.n = inner.id, inner.domain, inner.n
        self.seed, self.description = inner.seed, inner.description
        self.programs: list[Program | str] = []

    def returns(self, program: Program | str) -> list[float]:
        self.programs.append(program)
        return self.inner.returns(program)

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Any:
        return self.inner.rollout(program, instance, trace)


def _timed(fn: Callable[[], tuple[int, int]]) -> tuple[float, float]:
    start = time.perf_counter()
    counted, distinct = fn()
    wall = time.perf_counter() - start
    return counted / wall, distinct / wall


def measure(task_id: str, budget: int, seed: int, rounds: int) -> dict[str, Any]:
    """Median rates (per wall second) of the evaluator and each search loop.

    Returns:
        ``{"task", "budget", "seed", "rounds", "rates": {name: {"evaluations_s",
        "distinct_s"}}}``; the evaluator's two rates are equal.

    Raises:
        TaskNotFound: ``task_id`` is not registered.
    """
    config = SearchConfig(budget=budget, seed=seed, progress=False, heldout=0)
    recorder = _Recording(envs.make(task_id))
    search(recorder, "mosaic", config=config)
    programs = list(recorder.programs)
    fresh = envs.make(task_id)

    def evaluator() -> tuple[int, int]:
        for program in programs:
            fresh.returns(program)
        return len(programs), len(programs)

    def loop(method: str, workers: int) -> Callable[[], tuple[int, int]]:
        def run() -> tuple[int, int]:
            result = search(task_id, method, config=config.with_overrides(workers=workers))
            return result.evaluations, result.unique_evaluations

        return run

    samples: dict[str, list[tuple[float, float]]] = {"evaluator": []}
    for _ in range(rounds):
        samples["evaluator"].append(_timed(evaluator))
        for name, method, workers in LOOPS:
            samples.setdefault(name, []).append(_timed(loop(method, workers)))
    rates = {
        name: {
            "evaluations_s": statistics.median(s[0] for s in values),
            "distinct_s": statistics.median(s[1] for s in values),
        }
        for name, values in samples.items()
    }
    return {"task": task_id, "budget": budget, "seed": seed, "rounds": rounds, "rates": rates}


def format_table(report: dict[str, Any]) -> str:
    """A Markdown table of the rates, with each loop's ratio to ``shc``'s."""
    rates = report["rates"]
    shc = rates["shc"]["evaluations_s"]
    lines = [
        f"{report['task']}, budget {report['budget']:,}, seed {report['seed']}, "
        f"median of {report['rounds']} rounds (per wall second)",
        "",
        "| loop | evaluations/s | distinct programs/s | x shc |",
        "|---|---|---|---|",
    ]
    for name, rate in rates.items():
        lines.append(
            f"| {name} | {rate['evaluations_s']:,.0f} | {rate['distinct_s']:,.0f} "
            f"| {rate['evaluations_s'] / shc:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str = "python -m evals.search_speed") -> int:
    """Command line: print the table (or JSON) for each task; ``prog`` names it in help."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Evaluations per second of shc and mosaic (1 and 2 workers) against the "
        "evaluator alone, in one process, round after round.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--tasks", nargs="+", default=["karel/DoorKey"], help="task ids")
    parser.add_argument(
        "--budget", type=parse_count, default=30_000, help="evaluations per search (1e5 works)"
    )
    parser.add_argument("--seed", type=int, default=0, help="search seed")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead")
    args = parser.parse_args(argv)
    if args.budget < 1 or args.rounds < 1:
        parser.error("--budget and --rounds must be at least 1")
    for task_id in args.tasks:
        try:
            report = measure(task_id, args.budget, args.seed, args.rounds)
        except LlmgsError as exc:  # an unknown task id, a bad setting
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(report) if args.json else format_table(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
