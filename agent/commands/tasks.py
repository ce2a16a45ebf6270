"""``llmgs tasks``: list the registered tasks with their grids and descriptions."""

from __future__ import annotations

import argparse
import json
import textwrap

from agent.commands import SUMMARIES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tasks`` subcommand."""
    parser = subparsers.add_parser(
        "tasks",
        help=SUMMARIES["tasks"],
        description="List the registered tasks (the benchmark's and your own): id, grid size, "
        "default search budget and what it asks in plain words.",
    )
    parser.add_argument("--domain", choices=("karel", "minigrid"), default=None, help="one domain")
    parser.add_argument(
        "--all", action="store_true", help="include the unused dense/sparse Karel variants"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs tasks``; returns the exit code."""
    import envs

    # The benchmark's tasks and the user's own (LLMGS_TASK_MODULES, envs.register); the unused
    # dense/sparse twins of benchmark tasks only with --all.
    entries = [
        e for e in envs.tasks(args.domain, benchmark_only=False)
        if args.all or e.benchmark or e.variant_of is None
    ]  # fmt: skip
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    for e in entries:
        grid = f"{e.grid[0]}x{e.grid[1]}" if e.grid is not None else "-"
        print(f"{e.id:<28} {grid:>6}  budget {e.default_budget:,}")
        print(textwrap.indent(textwrap.fill(e.description, 90), "    "))
        if e.synonyms:
            print(textwrap.indent(textwrap.fill("also: " + "; ".join(e.synonyms), 90), "    "))
    return 0
