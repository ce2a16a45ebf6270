"""The paper's revision experiment (spec/benchmark.md §7.5) as one eval cell, and solve() per cell.

A first round of programs, then exactly ``rounds`` revision rounds, each fed back with the
chosen method; every round is scored and none is searched. It is ``agent.solve()``'s own round
loop with three options: ``early_stop=False`` (every round runs, as in the paper, so the
per-round best returns of different methods can be compared round by round, where ``solve()``
stops revising once a round does not improve), ``search_method="none"`` and no generation time
limit. It also keeps the experiment's prompt as it was first run: the paper's prompt without
worked examples, decoded without the grammar (``examples=False``, ``grammar=False``), so the
messages, sampling settings and seeds, and so the completion-cache keys, are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent import SolveResult, solve
from envs import LLMError
from evals.rows import finite, round_summaries, solve_curve, usage_fields
from evals.suite import Cell

#: Options that make ``solve()`` the paper's revision experiment.
EXPERIMENT = {
    "early_stop": False, "search_method": "none", "generation_s": float("inf"),
    "examples": False, "grammar": False,
}  # fmt: skip
#: Evaluations allowed to the experiment's proposals: every one is scored (there is no search).
EXPERIMENT_BUDGET = 10**9


def solve_cell(
    cell: Cell, llm: Any, on_event: Callable[[dict[str, Any]], None] | None = None, **options: Any
) -> SolveResult:
    """``agent.solve()`` on the cell's task, seed and instances, without saving a run folder.

    Args:
        cell: The cell.
        llm: A ready LLM (tests pass a ScriptedLLM) used instead of building ``cell.backend``.
        on_event: Also receives every event of the run.
        **options: Further ``solve()`` options (budget, revision, rounds, samples, ...); the
            method's settings (``api_base``, ...) fill in the ones not given here.

    Raises:
        LLMError: The model failed during the run. ``solve()`` carries on without a failed
            model; a row under the model's name would then report pure search (or nothing)
            as that model's result, so the cell fails instead and is retried on the next run.
    """
    for name, value in cell.method.solve_options().items():
        options.setdefault(name, value)
    if llm is not None:
        options["llm"] = llm
    else:
        options["model"] = cell.backend
    failures: list[str] = []

    def watch(event: dict[str, Any]) -> None:
        if event.get("event") == "warning" and event.get("kind") == "llm_failed":
            failures.append(str(event.get("message", "")))
        if on_event is not None:
            on_event(event)

    result = solve(
        cell.task, task=cell.task, seed=cell.seed, instances=cell.instances, save=False,
        on_event=watch, **options,
    )  # fmt: skip
    if failures:
        raise LLMError(f"{cell.backend} failed during the run: {failures[0]}")
    return result


def revision_cell(cell: Cell, llm: Any = None) -> dict[str, Any]:
    """Run the revision experiment of one cell and return its row fields.

    Args:
        cell: A ``revision`` cell.
        llm: A ready LLM used instead of building ``cell.backend``.

    Raises:
        LLMError: The model failed (the cell fails and is retried).
    """
    spec = cell.method
    options: dict[str, Any] = dict(EXPERIMENT)
    if llm is not None and str(cell.backend).startswith("local/"):
        options["model"] = cell.backend  # a stand-in for a local model is asked like one
    result = solve_cell(
        cell, llm, budget=EXPERIMENT_BUDGET, revision=spec.revision, rounds=spec.rounds,
        samples=spec.samples, max_tokens=spec.max_tokens, **options,
    )  # fmt: skip
    data = result.to_dict()
    curve, pre_search = solve_curve(data)
    final = result.reward if result.program else None
    return {
        "final_return": finite(final), "solved": final is not None and final >= 1.0,
        "evaluations": result.evaluations, "unique_evaluations": result.unique_evaluations,
        "evals_to_solve": next((int(c) for c, b in curve if b >= 1.0), None),
        "curve": curve, "pre_search_return": pre_search,
        "heldout_return": finite(result.heldout_return),
        "program": result.program, "stop_reason": "rounds",
        **usage_fields(data), "rounds": round_summaries(data["rounds"]),
        # The experiment's stages: the rounds (solve()'s match and verify are not part of it).
        "stage_times": {
            t.stage: round(t.seconds, 3) for t in result.timings
            if t.stage == "generate" or t.stage.startswith("revision_")
        },
    }  # fmt: skip
