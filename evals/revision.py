"""The paper's revision experiment (spec/benchmark.md §7.5) as one eval cell.

A first round of programs, then exactly ``rounds`` revision rounds, each fed back with the
chosen method; every round is scored and none is searched. Unlike ``solve()`` (which stops
revising once a round does not improve, to save model time), every round runs, as in the paper,
so the per-round best returns of different methods can be compared round by round.
"""

from __future__ import annotations

from typing import Any

from evals.rows import finite, round_summaries, solve_curve, usage_fields
from evals.suite import Cell


def _make_llm(cell: Cell, llm: Any) -> Any:
    """The given LLM, or the gateway for the cell's backend (as solve() builds it)."""
    if llm is not None:
        return llm
    from agent.llm.gateway import Gateway
    from agent.llm.types import LLMConfig

    return Gateway(LLMConfig(model=str(cell.backend)))


class _Experiment:
    """State of one revision experiment (rounds so far, best program, usage)."""

    def __init__(self, cell: Cell, llm: Any) -> None:
        import envs
        from agent.events import Emitter
        from agent.pipeline.sampling import Scorer
        from agent.pipeline.support import MeteredLLM, SolveConfig, StageClock

        spec = cell.method
        self.cell = cell
        self.cfg = SolveConfig(
            model=cell.backend, seed=cell.seed, revision=spec.revision, samples=spec.samples,
            max_tokens=spec.max_tokens, instances=cell.instances, save=False,
        )  # fmt: skip
        self.model = MeteredLLM(_make_llm(cell, llm))
        self.emit = Emitter([])
        self.clock = StageClock(self.emit)
        self.task = envs.make(cell.task, n=cell.instances)
        self.scorer = Scorer(self.task, budget=10**9)  # no search: every proposal is scored
        self.rounds: list[dict[str, Any]] = []
        self.best: tuple[str, float] | None = None

    def messages(self, r: int) -> list[dict[str, str]] | None:
        """Messages of round ``r``; None when there is nothing to feed back."""
        from agent.pipeline.revision import revision_messages
        from agent.prompting import render_prompt

        if r == 0:
            return render_prompt(self.cell.task, self.cfg.strategy)
        # The same feedback solve() gives: the last round's programs, or every program so
        # far when the last round had none accepted.
        previous = [(p, v) for p, v in self.rounds[-1]["programs"]] or [
            (p, v) for rnd in self.rounds for p, v in rnd["programs"]
        ]
        if not previous and self.best is None:
            return None
        return revision_messages(
            self.cell.method.revision, self.cell.task, self.task, previous=previous,
            best=self.best, strategy=self.cfg.strategy,
        ).messages  # fmt: skip

    def plan(self, r: int) -> Any:
        """The sampling plan of round ``r`` (solve()'s settings and per-round seeds)."""
        from agent.llm.types import SamplingSettings
        from agent.pipeline.sampling import SamplingPlan

        cfg = self.cfg
        settings = SamplingSettings(
            temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.resolved_max_tokens()
        )
        return SamplingPlan(
            n=cfg.resolved_samples(), settings=settings, seed=self.cell.seed * 100_000 + r * 1000,
            per_request=1 if cfg.is_local else cfg.resolved_samples(),
            strategy=cfg.strategy, top_up=0 if cfg.is_local else 1,
        )  # fmt: skip

    def run_round(self, r: int) -> bool:
        """Sample, score and record round ``r``; False when the experiment should stop."""
        from agent.pipeline.sampling import propose

        with self.clock.stage("generate" if r == 0 else f"revision_{r}"):
            messages = self.messages(r)
            if messages is None:
                return False  # nothing accepted yet: the feedback has nothing to show
            batch = propose(self.model, messages, self.plan(r), self.scorer, self.emit, round_no=r)
        scored = batch.scored
        round_best = max(scored, key=lambda kv: kv[1], default=None)
        if round_best is not None and (self.best is None or round_best[1] > self.best[1]):
            self.best = round_best
        self.rounds.append({
            "round": r, "method": "initial" if r == 0 else self.cell.method.revision,
            "answers": len(batch.proposals), "accepted": batch.stats.accepted,
            "programs": [[p, v] for p, v in scored],
            "best_return": round_best[1] if round_best else None,
        })  # fmt: skip
        # Solved: further feedback cannot improve on 1.0.
        return self.best is None or self.best[1] < 1.0

    def row(self) -> dict[str, Any]:
        """The row fields of the finished experiment."""
        usage = self.model.usage
        data = {
            "rounds": self.rounds,
            "llm": {"calls": usage.calls, "cache_hits": usage.cache_hits,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens, "cost_usd": usage.cost_usd},
        }  # fmt: skip
        curve, _ = solve_curve(data)
        best = self.best
        final = best[1] if best is not None else None
        return {
            "final_return": finite(final), "solved": final is not None and final >= 1.0,
            "evaluations": self.scorer.count, "unique_evaluations": self.scorer.unique,
            "evals_to_solve": next((int(c) for c, b in curve if b >= 1.0), None),
            "curve": curve, "pre_search_return": finite(final),
            "program": best[0] if best else "", "stop_reason": "rounds",
            **usage_fields(data), "rounds": round_summaries(self.rounds),
            "stage_times": {t.stage: round(t.seconds, 3) for t in self.clock.timings},
        }  # fmt: skip


def revision_cell(cell: Cell, llm: Any = None) -> dict[str, Any]:
    """Run the revision experiment of one cell and return its row fields.

    Args:
        cell: A ``revision`` cell.
        llm: A ready LLM used instead of building ``cell.backend``.
    """
    experiment = _Experiment(cell, llm)
    for r in range(cell.method.rounds + 1):
        if not experiment.run_round(r):
            break
    return experiment.row()
