"""``llmgs eval``: run eval suites, write their reports and list the bundled suites."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.commands import SUMMARIES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand with its ``run``, ``report`` and ``list`` actions."""
    parser = subparsers.add_parser(
        "eval",
        help=SUMMARIES["eval"],
        description="Run a suite of cells (tasks x methods x backends x seeds x budgets) in "
        "parallel, one JSON row per cell in DIR/rows.jsonl and DIR/results.sqlite. A rerun "
        "skips finished cells, so an interrupted suite resumes where it stopped.",
    )
    actions = parser.add_subparsers(dest="eval_action", metavar="ACTION")
    run_p = actions.add_parser("run", help="run (or resume) a suite, then write its report")
    run_p.add_argument("suite", help="bundled suite name (see `llmgs eval list`) or YAML file")
    run_p.add_argument("--workers", type=int, default=1, help="cells run at once (default 1)")
    run_p.add_argument(
        "--executor", choices=("process", "ray"), default="process",
        help="process: local process pool (default); ray: a Ray cluster (local if none)",
    )  # fmt: skip
    run_p.add_argument("--out", default=None, help="results folder (evals/results/<suite>)")
    run_p.add_argument(
        "--methods", default=None,
        help="comma-separated method names: run only their cells (the rest stay pending)",
    )  # fmt: skip
    run_p.add_argument("--no-report", action="store_true", help="skip writing report.md")
    run_p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    rep_p = actions.add_parser("report", help="write DIR/report.md and the plots")
    rep_p.add_argument("dir", help="results folder of a suite")
    actions.add_parser("list", help="list the bundled suites")
    for name, (text, module) in _BENCHMARKS.items():
        # The benchmark parses its own options (``llmgs eval efficiency --help`` shows them).
        bench_p = actions.add_parser(name, help=f"{text} (= python -m {module})", add_help=False)
        bench_p.set_defaults(passes_options=True)


#: Benchmarks reachable as ``llmgs eval NAME [options]``: name -> (help, module with ``main``).
_BENCHMARKS: dict[str, tuple[str, str]] = {
    "efficiency": (
        "search-efficiency benchmark: methods x tasks x seeds at a budget",
        "evals.efficiency",
    ),
    "speed": (
        "evaluations per second of the search loops against the evaluator alone",
        "evals.search_speed",
    ),
}


def _progress(row: dict[str, Any]) -> None:
    value = row.get("final_return")
    shown = f"{value:.3f}" if isinstance(value, float) else "-"
    extra = f" ({row['reason']})" if row.get("reason") else ""
    print(f"[{row['status']}] {row['key']} return={shown} "
          f"wall={row.get('wall_s', 0):.1f}s{extra}", file=sys.stderr, flush=True)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs eval``; returns the exit code (1 when a cell failed)."""
    from evals.suite import load_suite, suites_dir

    if args.eval_action == "list":
        for path in sorted(suites_dir().glob("*.yaml")):
            suite = load_suite(str(path))
            first = suite.description.split(". ")[0] if suite.description else ""
            print(f"{suite.name:16s} {len(suite.cells()):4d} cells  {first}")
        return 0
    if args.eval_action == "report":
        from evals.report import write_report

        print(write_report(args.dir))
        return 0
    if args.eval_action in _BENCHMARKS:
        import importlib

        module = importlib.import_module(_BENCHMARKS[args.eval_action][1])
        return int(module.main(args.extra, prog=f"llmgs eval {args.eval_action}"))
    if args.eval_action != "run":
        print("usage: llmgs eval {run,report,list,efficiency,speed} ...", file=sys.stderr)
        return 2
    from evals.runner import run_suite

    suite = load_suite(args.suite)
    methods = [m.strip() for m in args.methods.split(",")] if args.methods else None
    summary = run_suite(
        suite, args.out, workers=args.workers, executor=args.executor, on_row=_progress,
        methods=methods,
    )  # fmt: skip
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"{summary.suite}: {summary.total} cells, {summary.already_done} already done, "
              f"ran {summary.ran} (ok {summary.ok}, skipped {summary.skipped}, "
              f"failed {summary.failed}) -> {summary.out_dir}")  # fmt: skip
    if not args.no_report:
        from evals.report import write_report

        print(write_report(summary.out_dir), file=sys.stderr)
    return 1 if summary.failed else 0
