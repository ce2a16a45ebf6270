"""``llmgs bench``: programs/s and actions/s of the Karel evaluators, per task."""

from __future__ import annotations

import argparse
import json

from agent.commands import SUMMARIES
from envs.karel.tasks import BENCHMARK_TASKS, SPECS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help=SUMMARIES["bench"],
        description="Time the compiled Karel evaluator and the pure-Python interpreter on the "
        "same programs, on 32 instances per task: the spec's hand-written programs and a fixed, "
        "seeded set of random programs from the search space. Prints a table or --json.",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        metavar="NAME",
        default=None,
        help=f"Karel task names (default: the 12 of the paper); known: {', '.join(sorted(SPECS))}",
    )
    parser.add_argument(
        "--programs", choices=("hand", "random", "both"), default="both", help="default both"
    )
    parser.add_argument("--random", type=int, default=200, help="random programs (default 200)")
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="CPU seconds of timing per set (default 1)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random set (default 0)")
    parser.add_argument("--no-python", action="store_true", help="skip the Python interpreter")
    parser.add_argument(
        "--jit", action="store_true", help="also time a cold JIT compile and a cached load"
    )
    parser.add_argument(
        "--quick", action="store_true", help="50 random programs, 0.2 s per set (a smoke run)"
    )
    parser.add_argument("--no-minigrid", action="store_true", help="skip the three Minigrid tasks")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table (or JSON)."""
    # Imported here: envs.bench loads numba, which every other subcommand's start-up would pay.
    from envs.bench import format_table, run_bench
    from search.space import random_program

    n_random, seconds = (50, 0.2) if args.quick else (args.random, args.seconds)
    result = run_bench(
        tasks=args.tasks if args.tasks else list(BENCHMARK_TASKS),
        programs=args.programs,
        n_random=n_random,
        seconds=seconds,
        random_program=lambda rng: random_program("karel", rng),
        seed=args.seed,
        python=not args.no_python,
        jit=args.jit,
    )
    minigrid_rows = [] if args.no_minigrid else _minigrid_rows(n_random, args.seed)
    if args.json:
        out = result.to_dict()
        out["minigrid"] = [row.to_dict() for row in minigrid_rows]
        print(json.dumps(out, indent=2))
    else:
        print(format_table(result))
        if minigrid_rows:
            print(_format_minigrid(minigrid_rows))
    return 0


def _minigrid_rows(count: int, seed: int) -> list:
    """Time the Minigrid evaluator on a seeded set of random programs of its search space."""
    import numpy as np

    from envs.minigrid.bench import minigrid_bench
    from search.space import random_program

    rng = np.random.RandomState(seed)
    return minigrid_bench([random_program("minigrid", rng) for _ in range(count)])


def _format_minigrid(rows: list) -> str:
    lines = [
        "",
        "Minigrid (random programs, 32 instances; reference ~3-4 ms per episode)",
        f"{'task':<22} {'programs/s':>11} {'us/episode':>11} {'vs ref':>8}",
    ]
    for row in rows:
        lines.append(
            f"{row.task:<22} {row.programs_per_s:>11,.0f} {row.us_per_episode:>11.1f} "
            f"{row.speedup_vs_reference:>7.0f}x"
        )
    return "\n".join(lines)
