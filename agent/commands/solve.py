"""``llmgs solve "pick up the key and open the door"``: the front door on the command line.

Progress goes to stderr (matched task, each answer with tokens/s, acceptance, revision rounds,
search progress); the final block (program as DSL and Python, its return, counts, cost) goes
to stdout. ``--json`` prints only the result's JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from typing import Any

from agent.commands import SUMMARIES

#: The :class:`SolveConfig` and :class:`LLMConfig` fields ``llmgs solve`` offers, in --help order.
SOLVE_OPTIONS: tuple[str, ...] = (
    "budget", "seed", "samples", "max_tokens", "generation_s", "revision", "rounds",
    "early_stop", "loop_rounds", "search_method", "strategy", "mode", "agent_steps",
    "instances", "temperature", "top_p", "grammar", "examples", "confirm_match", "runs_dir",
    "save",
)  # fmt: skip
LLM_OPTIONS: tuple[str, ...] = ("model", "api_base", "cache", "cache_dir", "n_threads", "timeout_s")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``solve`` subcommand; its settings are derived from :class:`SolveConfig`."""
    from agent.commands.options import add_config_arguments
    from agent.llm.backends import PROVIDER_NOTES
    from agent.llm.types import LLMConfig
    from agent.pipeline.config import SolveConfig
    from search.config import SearchConfig

    p = subparsers.add_parser(
        "solve",
        help=SUMMARIES["solve"],
        description="Match the description to a task, ask the model for programs, convert and "
        "score them, optionally revise them, then improve them by search (mosaic, the default; "
        "--search). Each run is saved under ./runs (or $LLMGS_RUNS_DIR).",
    )
    p.add_argument("description", nargs="?", default="", help="the task in plain words")
    p.add_argument("--task", default=None, help="task id, overrides matching (llmgs tasks)")
    model_help = (
        "litellm model string, local/qwen2.5-coder-0.5b|1.5b, or 'none' for pure search. Each "
        f"provider gets only the parameters litellm lists for it: {PROVIDER_NOTES} "
        "(docs/backends.md)"
    )
    add_config_arguments(p, LLMConfig, LLM_OPTIONS, helps={"model": model_help})
    add_config_arguments(p, SolveConfig, SOLVE_OPTIONS)
    add_config_arguments(p, SearchConfig, ("workers",))
    p.add_argument("--json", action="store_true", help="print only the result as JSON")
    p.add_argument(
        "--quiet", "--no-progress", dest="quiet", action="store_true",
        help="no progress on stderr",
    )  # fmt: skip


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`SolveConfig` of the options given (the others keep its defaults).

    Raises:
        ConfigError: A value the config does not allow (the message names the setting).
    """
    from agent.commands.options import given
    from agent.pipeline.config import SolveConfig

    options = given(args, (*LLM_OPTIONS, *SOLVE_OPTIONS, "workers"))
    if str(options.get("model", "x")).lower() in ("none", ""):
        options["model"] = None  # pure search
    return SolveConfig().with_options(**options)


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs solve``; returns the exit code (0 solved or not; errors raise).

    Raises:
        ConfigError: No description and no task, or an invalid setting.
    """
    from agent import solve
    from agent.commands.options import check_budget
    from envs.errors import ConfigError

    if not args.description and args.task is None:
        raise ConfigError('give a description ("pick up the key and open the door") or --task')
    check_budget(args)
    config = config_from_args(args)
    if config.llm is None and config.search_method == "none":
        raise ConfigError("--model none --search none leaves nothing to run: give a model or "
                          "a search (mosaic, shc)")  # fmt: skip
    printer = None if args.quiet else ProgressPrinter(sys.stderr)
    # progress=False: the printer above is the only one (--quiet on a terminal prints none).
    result = solve(
        args.description or (args.task or ""),
        task=args.task,
        config=config,
        on_event=printer,
        progress=False,
    )
    if args.json:
        print(result.to_json())
    else:
        print(final_block(result))
    return 0


class ProgressPrinter:
    """Prints solve events as short progress lines (search progress at most once a second)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.last_progress = 0.0

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def __call__(self, e: dict[str, Any]) -> None:
        name = e["event"]
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(e)

    def _on_task_matched(self, e: dict[str, Any]) -> None:
        alts = ", ".join(t for t, _ in e["alternatives"][:2])
        self._say(f"task: {e['task']} (confidence {e['confidence']:.2f}, {e['method']}"
                  + (f"; next: {alts})" if alts else ")"))  # fmt: skip

    def _on_llm_request(self, e: dict[str, Any]) -> None:
        if e["sample"] == 0 and e["round"] == 0:
            agent = e.get("stage") == "agent"
            what = f"up to {e['of']} tool calls" if agent else f"{e['of']} programs"
            self._say(f"[{e['stage']}] asking the model for {what} ...")

    def _on_llm_progress(self, e: dict[str, Any]) -> None:
        # "overall": over a whole request, prompt processing (and a model's first load) count
        # too; the embedded runtime prints its prompt and generation speeds apart, above this.
        speed = "cached" if e["cached"] else f"{e['tokens_per_s'] or 0:.1f} tok/s overall"
        which = f"{e['sample']}/{e['of']}" if e["sample"] <= e["of"] else f"{e['sample']} (retry)"
        kind = "turn" if e.get("stage") == "agent" else "answer"
        self._say(f"[{e['stage']}] {kind} {which}: {e['completion_tokens']} "
                  f"tokens in {e['seconds']:.1f}s ({speed})")  # fmt: skip

    def _on_candidate(self, e: dict[str, Any]) -> None:
        if e["accepted"]:
            self._say(f"    accepted ({e['source']}), return {e['return']}")
        else:
            self._say(f"    rejected: {e['reason']}: {(e['message'] or '')[:100]}")

    def _on_acceptance(self, e: dict[str, Any]) -> None:
        self._say(f"[{e['stage']}] accepted {e['accepted']}/{e['total']} "
                  f"({e['acceptance_rate']:.0%})")  # fmt: skip

    def _on_revision_feedback(self, e: dict[str, Any]) -> None:
        first = textwrap.shorten(e["feedback"].split("\n\n", 1)[-1], 160)
        self._say(f"[revision {e['round']}] {e['method']} feedback: {first}")

    def _on_revision_round(self, e: dict[str, Any]) -> None:
        if e["round"] > 0:
            tag = "improved" if e["improved"] else "no improvement, stopping revision"
            self._say(f"[revision {e['round']}] best {e['best_return']} ({tag})")

    def _on_best_updated(self, e: dict[str, Any]) -> None:
        self._say(f"[search] best {e['best_return']:.4g} after {e['evaluations']:,} evaluations")

    def _on_search_progress(self, e: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_progress >= 1.0:
            self.last_progress = now
            self._say(f"[search] {e['evaluations']:,} evaluations, climb {e['climbs']}, "
                      f"k={e['k']}")  # fmt: skip

    def _on_tool_call(self, e: dict[str, Any]) -> None:
        args = textwrap.shorten(json.dumps(e["arguments"]), 100)
        self._say(f"[agent {e['step']}] {e['tool']}({args}) -> "
                  f"{textwrap.shorten(str(e['result']), 100)}")  # fmt: skip

    def _on_warning(self, e: dict[str, Any]) -> None:
        self._say(f"warning: {e['message']}")


def final_block(result: Any) -> str:
    """The human-readable summary printed at the end of a run."""
    from envs.task import instance_solved

    solved = sum(1 for r in result.instance_returns if instance_solved(r))
    llm = result.llm
    timings = ", ".join(f"{t.stage} {t.seconds:.1f}s" for t in result.timings)
    lines = [
        f"task:        {result.task} ({result.match.method}, confidence "
        f"{result.match.confidence:.2f})",
        f"return:      {result.reward:.6g} (re-evaluated on {result.instances} instances; "
        f"{solved} solved)",
        *(
            [f"held-out:    {result.heldout_return:.6g} (64 instances never searched on)"]
            if getattr(result, "heldout_return", None) is not None
            else []
        ),
        "program (DSL):",
        f"  {result.program}",
        "program (Python):",
        textwrap.indent(result.python.rstrip("\n"), "  "),
        f"evaluations: {result.evaluations:,} ({result.unique_evaluations:,} unique); "
        f"stopped: {result.stop_reason}",
    ]
    if llm.model is not None:
        lines.append(
            f"llm:         {llm.model}: {llm.calls} calls, {llm.cache_hits} cache hits, "
            f"{llm.prompt_tokens:,} prompt + {llm.completion_tokens:,} completion tokens, "
            f"${llm.cost_usd:.4f}"
        )
        acc = result.acceptance
        lines.append(f"acceptance:  {acc.get('accepted', 0)}/{acc.get('total', 0)} answers")
    else:
        lines.append("llm:         none (pure search)")
    lines.append(f"time:        {timings} (total {result.total_seconds:.1f}s)")
    if result.run_dir:
        lines.append(f"saved:       {result.run_dir}")
    return "\n".join(lines)
