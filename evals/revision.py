"""The paper's revision experiment (spec/benchmark.md §7.5) as one eval cell.

A first round of programs, then exactly ``rounds`` revision rounds, each fed back with the
chosen method; every round is scored and none is searched. Unlike ``solve()`` (which stops
revising once a round does not improve, to save model time), every round runs, as in the paper,
so the per-round best returns of different methods can be compared round by round.
"""

from __future__ import annotations

from typing import Any

from evals.suite import Cell


def _make_llm(cell: Cell, llm: Any) -> Any:
    from agent.pipeline.solver import _make_llm as make  # the gateway solve() itself builds
    from agent.pipeline.support import SolveConfig

    if llm is not None:
        return llm
    return make(SolveConfig(model=cell.backend, save=False))


def revision_cell(cell: Cell, llm: Any = None) -> dict[str, Any]:
    """Run the revision experiment of one cell and return its row fields."""
    import envs
    from agent.events import Emitter
    from agent.llm.types import SamplingSettings
    from agent.pipeline.revision import revision_messages
    from agent.pipeline.sampling import SamplingPlan, Scorer, propose
    from agent.pipeline.support import MeteredLLM, SolveConfig, StageClock
    from agent.prompting import render_prompt
    from evals.cells import _finite, round_summaries, solve_curve, usage_fields

    spec = cell.method
    cfg = SolveConfig(
        model=cell.backend, seed=cell.seed, revision=spec.revision, samples=spec.samples,
        max_tokens=spec.max_tokens, instances=cell.instances, save=False,
    )  # fmt: skip
    model = MeteredLLM(_make_llm(cell, llm))
    emit = Emitter([])
    clock = StageClock(emit)
    task = envs.make(cell.task, n=cell.instances)
    scorer = Scorer(task, budget=10**9)  # no search: every proposal is scored
    settings = SamplingSettings(
        temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.resolved_max_tokens()
    )
    rounds: list[dict[str, Any]] = []
    best: tuple[str, float] | None = None
    stop = False
    for r in range(spec.rounds + 1):
        if stop:
            break  # solved: further feedback cannot improve on 1.0
        with clock.stage("generate" if r == 0 else f"revision_{r}"):
            if r == 0:
                messages = render_prompt(cell.task, cfg.strategy)
            else:
                # The same feedback solve() gives: the last round's programs, or every
                # program so far when the last round had none accepted.
                previous = [tuple(kv) for kv in rounds[-1]["programs"]] or [
                    tuple(kv) for rnd in rounds for kv in rnd["programs"]
                ]
                if not previous and best is None:
                    break  # nothing accepted yet: the feedback has nothing to show
                messages = revision_messages(
                    spec.revision, cell.task, task, previous=previous, best=best,
                    strategy=cfg.strategy,
                ).messages  # fmt: skip
            plan = SamplingPlan(
                n=cfg.resolved_samples(), settings=settings,
                seed=cell.seed * 100_000 + r * 1000,
                per_request=1 if cfg.is_local else cfg.resolved_samples(),
                strategy=cfg.strategy, top_up=0 if cfg.is_local else 1,
            )  # fmt: skip
            batch = propose(model, messages, plan, scorer, emit, round_no=r)
        scored = batch.scored
        round_best = max(scored, key=lambda kv: kv[1], default=None)
        if round_best is not None and (best is None or round_best[1] > best[1]):
            best = round_best
        if best is not None and best[1] >= 1.0:
            stop = True
        rounds.append({
            "round": r, "method": "initial" if r == 0 else spec.revision,
            "answers": len(batch.proposals), "accepted": batch.stats.accepted,
            "programs": [[p, v] for p, v in scored],
            "best_return": round_best[1] if round_best else None,
        })  # fmt: skip
    usage = model.usage
    data = {
        "rounds": rounds,
        "llm": {"calls": usage.calls, "cache_hits": usage.cache_hits,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens, "cost_usd": usage.cost_usd},
    }  # fmt: skip
    curve, _ = solve_curve(data)
    final = best[1] if best is not None else None
    return {
        "final_return": _finite(final), "solved": final is not None and final >= 1.0,
        "evaluations": scorer.count, "unique_evaluations": scorer.unique,
        "evals_to_solve": next((int(c) for c, b in curve if b >= 1.0), None), "curve": curve,
        "pre_search_return": _finite(final), "program": best[0] if best else "",
        "stop_reason": "rounds", **usage_fields(data), "rounds": round_summaries(rounds),
        "stage_times": {t.stage: round(t.seconds, 3) for t in clock.timings},
    }  # fmt: skip
