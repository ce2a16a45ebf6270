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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``solve`` subcommand."""
    from agent.commands.options import add_cache_arguments
    from agent.llm.backends import PROVIDER_NOTES
    from agent.pipeline.revision import METHODS
    from agent.pipeline.support import DEFAULT_SOLVE_MODEL

    p = subparsers.add_parser(
        "solve",
        help=SUMMARIES["solve"],
        description="Match the description to a task, ask the model for programs, convert and "
        "score them, optionally revise them, then improve them with Scheduled Hill Climbing. "
        "Each run is saved under ./runs (or $LLMGS_RUNS_DIR).",
    )
    p.add_argument("description", nargs="?", default="", help="the task in plain words")
    p.add_argument("--task", default=None, help="task id, overrides matching (llmgs tasks)")
    p.add_argument(
        "--model", default=DEFAULT_SOLVE_MODEL,
        help=f"litellm model string, local/qwen2.5-coder-0.5b|1.5b, or 'none' for pure search "
        f"(default {DEFAULT_SOLVE_MODEL}). Each provider gets only the parameters litellm lists "
        f"for it: {PROVIDER_NOTES} (docs/backends.md)",
    )  # fmt: skip
    p.add_argument("--budget", type=int, default=None, help="evaluations (default: min(task "
                   "default, 100000))")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of search and sampling")
    p.add_argument("--samples", type=int, default=None, help="programs per round (default 8 "
                   "for a model on this machine or network: local/, ollama/, a loopback or "
                   "private --api-base; 32 hosted)")  # fmt: skip
    p.add_argument("--max-tokens", type=int, default=None, help="tokens per answer (default "
                   "384 on this machine or network, 1024 hosted)")  # fmt: skip
    p.add_argument("--generation-s", type=float, default=None, help="wall-time budget of "
                   "asking the model, in seconds; then the search starts with the evaluations "
                   "left (default 300 on this machine or network, 600 hosted)")  # fmt: skip
    p.add_argument("--revision", choices=METHODS, default="none", help="revision method")
    p.add_argument("--rounds", type=int, default=3, help="revision rounds at most (default 3)")
    p.add_argument("--loop-rounds", type=int, default=0, help="model rounds inside the "
                   "search: after a budget slice that does not solve, show the model the best "
                   "program's returns and trace and search on from its answers (default 0: "
                   "off)")  # fmt: skip
    p.add_argument("--search", choices=("mosaic", "shc"), default="mosaic",
                   help="search: mosaic (default) or shc (the paper's LLM-GS loop)")  # fmt: skip
    p.add_argument("--strategy", choices=("pythonic_dsl", "python", "dsl"),
                   default="pythonic_dsl", help="prompt strategy")  # fmt: skip
    p.add_argument(
        "--mode",
        choices=("pipeline", "agent"),
        default="pipeline",
        help="pipeline (LLM-GS order) or agent (the model calls the tools)",
    )
    p.add_argument("--instances", type=int, default=32, help="task instances (default 32)")
    add_cache_arguments(p)
    p.add_argument("--api-base", default=None, help="server URL: an OpenAI-compatible server "
                   "(http://127.0.0.1:8080/v1, with --model openai/NAME) or Ollama's "
                   "(http://127.0.0.1:11434, with --model ollama/NAME); key from "
                   "LLMGS_API_KEY if it needs one")  # fmt: skip
    p.add_argument("--threads", type=int, default=None, help="threads of an embedded model")
    p.add_argument("--runs-dir", default=None, help="root of run folders (default ./runs)")
    p.add_argument("--no-save", action="store_true", help="do not write a run folder")
    p.add_argument("--json", action="store_true", help="print only the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs solve``; returns the exit code (0 solved or not; errors raise)."""

    from agent import solve
    from envs.errors import ConfigError

    if not args.description and args.task is None:
        raise ConfigError('give a description ("pick up the key and open the door") or --task')
    model = None if args.model.lower() in ("none", "") else args.model
    printer = None if args.quiet else ProgressPrinter(sys.stderr)
    result = solve(
        args.description or (args.task or ""), task=args.task, model=model, budget=args.budget,
        seed=args.seed, strategy=args.strategy, revision=args.revision, rounds=args.rounds,
        samples=args.samples, max_tokens=args.max_tokens, generation_s=args.generation_s,
        mode=args.mode, instances=args.instances, cache=args.cache,
        cache_dir=args.cache_dir, api_base=args.api_base,
        n_threads=args.threads, save=not args.no_save, runs_dir=args.runs_dir,
        on_event=printer, search_method=args.search, loop_rounds=args.loop_rounds,
    )  # fmt: skip
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
    solved = sum(1 for r in result.instance_returns if r >= 1.0)
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
