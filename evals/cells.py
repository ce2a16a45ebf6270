"""Running one cell: a search, a solve() or a revision experiment, turned into one result row.

A row is a flat JSON-ready dict (see :func:`base_row`) with the final return, the evaluation
counts, the improvement curve, LLM usage, acceptance and wall time per stage. A cell whose
backend cannot be used here (no API key, weights not installed) becomes a ``skipped`` row with
the reason; a cell that raises becomes a ``failed`` row with the error (and is retried on the
next run).
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from envs import LlmgsError
from evals.revision import revision_cell, solve_cell
from evals.rows import TARGET, evals_to_solve, finite, round_summaries, solve_curve, usage_fields
from evals.suite import Cell, code_version


def backend_unavailable(backend: str | None, settings: dict[str, Any] | None = None) -> str | None:
    """Why a backend cannot run on this machine, or None when it can.

    Args:
        backend: Model string, None for no model.
        settings: The method's solve settings (an ``api_base`` needs no provider key).
    """
    if backend is None or backend.startswith("scripted/"):
        return None
    from agent import SolveConfig

    return SolveConfig.from_options(model=backend, **(settings or {})).model_unavailable()


def cell_unavailable(cell: Cell) -> str | None:
    """Why a cell's backend cannot run on this machine, or None when it can."""
    return backend_unavailable(cell.backend, cell.method.solve_options())


def base_row(cell: Cell) -> dict[str, Any]:
    """The identity fields every row starts with.

    ``settings`` are the method's solve settings (no secret can be one: API keys are read
    from the environment only); ``code`` is the search's :func:`~evals.suite.code_version`.
    """
    return {
        "key": cell.key, "fingerprint": cell.fingerprint,
        "settings_fingerprint": cell.settings_fingerprint, "suite": cell.suite,
        "task": cell.task, "method": cell.method.name, "kind": cell.method.kind,
        "backend": cell.backend_label, "seed": cell.seed, "budget": cell.budget,
        "instances": cell.instances, "status": "ok", "reason": "",
        "settings": dict(cell.method.settings), "code": code_version(),
    }  # fmt: skip


class SolveClock:
    """An event sink that notes the seconds from its creation to the first event showing a
    return of :data:`~evals.rows.TARGET` (a scored proposal or a search improvement)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: float | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        value = event.get("best_return", event.get("return"))
        if self.seconds is None and isinstance(value, int | float) and value >= TARGET:
            self.seconds = round(time.perf_counter() - self.started, 3)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def run_cell(cell: Cell, llm: Any = None) -> dict[str, Any]:
    """Run one cell and return its row (never raises for a failing cell).

    Args:
        cell: The cell.
        llm: A ready LLM (tests pass a ScriptedLLM) used instead of building ``cell.backend``.
    """
    row = base_row(cell)
    if cell.backend is None:
        llm = None  # a no-model cell is pure search, even in a suite run with a ready LLM
    reason = None if llm is not None else cell_unavailable(cell)
    if reason is not None:
        row.update(status="skipped", reason=reason, finished_at=_now())
        return row
    started = time.perf_counter()
    try:
        if cell.method.kind == "search":
            row.update(_search_cell(cell))
        elif cell.method.kind == "solve":
            row.update(_solve_cell(cell, llm))
        else:
            row.update(revision_cell(cell, llm))
    except (LlmgsError, OSError, ValueError, RuntimeError) as exc:
        # Recorded, not raised: one broken cell must not stop a suite; it is retried next run.
        row.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
    row["wall_s"] = round(time.perf_counter() - started, 3)
    row["finished_at"] = _now()
    return row


def _search_cell(cell: Cell) -> dict[str, Any]:
    import envs
    from search import SearchConfig, search

    task = envs.make(cell.task, n=cell.instances)
    config = SearchConfig(budget=cell.budget, seed=cell.seed, k=cell.method.k, progress=False)
    clock = SolveClock()
    result = search(task, cell.method.method, config=config, on_event=clock)
    curve = [[int(c), float(b)] for c, b in result.curve]
    return {
        "final_return": finite(result.best_return), "solved": result.best_return >= TARGET,
        "evaluations": result.evaluations, "unique_evaluations": result.unique_evaluations,
        "evals_to_solve": evals_to_solve(curve), "curve": curve,
        "seconds_to_solve": clock.seconds, "heldout_return": finite(result.heldout_return),
        "program": result.best_program, "stop_reason": result.stop_reason,
        "stage_times": {k: round(v, 3) for k, v in result.stage_times.items()},
    }  # fmt: skip


def _solve_cell(cell: Cell, llm: Any) -> dict[str, Any]:
    spec = cell.method
    options: dict[str, Any] = {"rounds": spec.rounds}
    if spec.samples is not None:
        options["samples"] = spec.samples
    if spec.max_tokens is not None:
        options["max_tokens"] = spec.max_tokens
    clock = SolveClock()
    result = solve_cell(
        cell, llm, budget=cell.budget, revision=spec.revision, on_event=clock, **options
    )
    data = result.to_dict()
    curve, pre_search = solve_curve(data)
    return {
        "final_return": finite(result.reward), "solved": result.solved,
        "evaluations": result.evaluations, "unique_evaluations": result.unique_evaluations,
        "evals_to_solve": evals_to_solve(curve), "curve": curve,
        "seconds_to_solve": clock.seconds, "heldout_return": finite(result.heldout_return),
        "pre_search_return": pre_search, "program": result.program,
        "stop_reason": result.stop_reason, **usage_fields(data),
        "rounds": round_summaries(data["rounds"]),
        "stage_times": {t.stage: round(t.seconds, 3) for t in result.timings},
    }  # fmt: skip
