"""``llmgs search``: pure program search on a task (no language model)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.commands import SUMMARIES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``search`` subcommand."""
    from agent.commands.options import add_config_arguments
    from search.config import METHODS, SearchConfig, parse_count

    parser = subparsers.add_parser(
        "search",
        help=SUMMARIES["search"],
        description="Search the DSL for a program that solves a task. Budgets count every "
        "program evaluated on all instances as 1, a re-evaluated duplicate included (the "
        "paper's counting; mosaic skips duplicates instead); the budget is exact. Ctrl-C "
        "stops cleanly and prints the best program so far; with "
        "--run-dir the run can be resumed later with --resume (shc, hc, random and llmgs "
        "keep checkpoints; a mosaic run keeps none and starts again, to the same result).",
    )
    parser.add_argument("--task", required=True, help="task id, e.g. karel/DoorKey")
    parser.add_argument(
        "--method", choices=METHODS, default="mosaic",
        help="mosaic: structural edits, fragments of --seed-programs, lexicase restarts "
        "(default); shc: Scheduled HC; hc: hill climbing with fixed k; random: random "
        "programs; llmgs: Scheduled HC cycling from --seed-programs",
    )  # fmt: skip
    parser.add_argument(
        "--budget", type=parse_count, default=None, help="evaluations, e.g. 1e6 (task default)"
    )
    parser.add_argument("--init", default=None, help="DSL program to start the first climb")
    parser.add_argument(
        "--seed-programs", type=Path, default=None,
        help="file with one DSL program per line (llmgs, mosaic)",
    )  # fmt: skip
    parser.add_argument("--n", type=int, default=32, help="task instances (default 32)")
    parser.add_argument("--run-dir", default=None, help="folder for events.jsonl + checkpoints")
    parser.add_argument("--resume", default=None, metavar="DIR", help="resume the run in DIR")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress on stderr (as llmgs solve --quiet)"
    )
    # The search's settings, their defaults and help: SearchConfig's fields.
    add_config_arguments(parser, SearchConfig)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs search``; returns the exit code (0 solved or budget used, 130 interrupted).

    Raises:
        ConfigError: Both ``--run-dir`` and ``--resume`` name different folders, or a
            setting is invalid.
    """
    import envs
    from agent.commands.options import check_budget, config_options, given
    from envs.errors import ConfigError
    from search import SearchConfig, search

    if args.resume is not None and args.run_dir is not None and args.resume != args.run_dir:
        raise ConfigError("give either --run-dir or --resume (the run folder), not both")
    check_budget(args)
    budget = args.budget if args.budget is not None else envs.info(args.task).default_budget
    seeds: list[str] = []
    if args.seed_programs is not None:
        lines = args.seed_programs.read_text(encoding="utf-8").splitlines()
        seeds = [line.strip() for line in lines if line.strip()]
    given_options = given(args, tuple(config_options(SearchConfig)))
    if args.quiet:
        given_options["progress"] = False
    config = SearchConfig(
        budget=budget, run_dir=args.resume or args.run_dir, resume=args.resume is not None,
        **given_options,
    )  # fmt: skip
    task = envs.make(args.task, n=args.n)
    if args.resume is not None and not Path(args.resume).exists():
        # Resuming a run that never started is starting it (scripts may always pass
        # --resume); say so, since a mistyped folder would otherwise go unnoticed.
        print(f"[search] nothing to resume in {args.resume}: starting a new run", file=sys.stderr)
    elif args.resume is not None and args.method == "mosaic":
        print("[search] mosaic keeps no mid-run checkpoints: the run starts again from the "
              "beginning (its result is the same)", file=sys.stderr)  # fmt: skip
    # A progress bar needs a terminal; in a log or a pipe, print a line per improvement instead
    # (a 1e6 run takes minutes).
    printer = None
    if config.progress and not sys.stderr.isatty():
        from agent.commands.solve import ProgressPrinter

        printer = ProgressPrinter(sys.stderr)
    result = search(
        task, args.method, init=args.init, seed_programs=seeds, config=config, on_event=printer
    )
    if args.json:
        print(result.to_json())
    else:
        print(f"task        {result.task_id} ({result.method}, seed {result.seed})")
        # 6 significant digits, as solve's summary: a mean of summed rewards such as
        # 1.0000000000000002 is float rounding, not information (--json keeps every digit).
        print(f"best return {result.best_return:.6g}")
        if result.heldout_return is not None:
            print(f"held-out    {result.heldout_return:.6g} (64 instances never searched on)")
        print(f"program     {result.best_program}")
        print(
            f"evaluations {result.evaluations:,} of {result.budget:,} "
            f"({result.unique_evaluations:,} unique); stopped: {result.stop_reason}"
        )
        print(f"time        {sum(result.stage_times.values()):.1f} s")
    if result.stop_reason == "interrupted":
        print("interrupted: best program so far printed above", file=sys.stderr)
        return 130
    return 0
