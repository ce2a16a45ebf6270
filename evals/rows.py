"""Row fields shared by every kind of cell: curves, usage, rounds and the solved test.

Kept apart from :mod:`evals.cells` (which runs cells) so that the revision experiment and the
cell runner both build rows from one place without importing each other.
"""

from __future__ import annotations

from typing import Any

#: Target return of the benchmark (a task is solved at 1.0).
TARGET = 1.0


def evals_to_solve(curve: list[list[float]]) -> int | None:
    """The evaluation count at which a best-return curve first reaches :data:`TARGET`."""
    for count, best in curve:
        if best >= TARGET:
            return int(count)
    return None


def finite(value: float | None) -> float | None:
    """``value`` as a float, or None for None, NaN and infinities (JSON has no NaN)."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def usage_fields(data: dict[str, Any]) -> dict[str, Any]:
    """LLM usage and acceptance of a solve result's JSON form, as flat row fields."""
    llm, acc = data.get("llm") or {}, data.get("acceptance") or {}
    answers = sum(int(r.get("answers", 0)) for r in data.get("rounds", []))
    accepted = sum(int(r.get("accepted", 0)) for r in data.get("rounds", []))
    return {
        "llm_calls": int(llm.get("calls", 0)), "cache_hits": int(llm.get("cache_hits", 0)),
        "prompt_tokens": int(llm.get("prompt_tokens", 0)),
        "completion_tokens": int(llm.get("completion_tokens", 0)),
        "cost_usd": float(llm.get("cost_usd", 0.0)), "answers": answers, "accepted": accepted,
        "acceptance_rate": accepted / answers if answers else None,
        "rejections": {k: v for k, v in acc.items() if k not in ("answers", "accepted")},
    }  # fmt: skip


def round_summaries(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per round: method, answers, accepted, programs scored and best return."""
    return [
        {"round": r["round"], "method": r["method"], "answers": r["answers"],
         "accepted": r["accepted"], "programs": len(r["programs"]),
         "best_return": r["best_return"]}
        for r in rounds
    ]  # fmt: skip


def solve_curve(data: dict[str, Any]) -> tuple[list[list[float]], float | None]:
    """The best-return curve of a solve result over all its evaluations, and the best return
    of the model's programs before search (None with no model or no accepted program).

    Proposals count one evaluation each, in answer order. The search continues the run's
    evaluation ledger, so its curve is already on the run's count (it starts with the
    proposals' own improvements, which are not repeated here).
    """
    curve: list[list[float]] = []
    count, best = 0, None
    for rnd in data.get("rounds", []):
        for _program, value in rnd["programs"]:
            count += 1
            if value is not None and (best is None or value > best):
                best = value
                curve.append([count, float(value)])
    pre_search = best
    search = data.get("search") or {}
    for c, b in search.get("curve", []):
        if best is None or b > best:
            best = b
            curve.append([int(c), float(b)])
    return curve, finite(pre_search)


#: Held-out instances of a final program (as ``solve()`` and the search score it).
HELDOUT = 64


def fill_heldout(rows: list[dict[str, Any]]) -> int:
    """Set ``heldout_return`` on the ``ok`` rows made before rows recorded it, from their
    stored program, as ``solve()`` computes it (the program on :data:`HELDOUT` instances from
    seed ``instances`` on); returns how many were computed. The rows on disk are not changed.
    A row whose task is no longer registered, or whose program no longer parses, gets None
    (shown as "—").
    """
    import envs

    computed = 0
    for row in rows:
        if row.get("status") != "ok" or "heldout_return" in row:
            continue
        program = row.get("program") or ""
        try:
            held = envs.make(row["task"], n=HELDOUT, seed=int(row["instances"]))
            value = held.evaluate(program) if program else None
        except envs.LlmgsError:  # an old row of a task or DSL that changed since
            value = None
        row["heldout_return"] = finite(value)
        computed += 1
    return computed
