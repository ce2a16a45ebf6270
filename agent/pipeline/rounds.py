"""The solve round loop: sample, convert, score and revise, on one evaluation ledger.

:class:`Rounds` runs the proposal rounds of one run (spec/benchmark.md §7): round 0 asks for
programs with the task prompt; each revision round feeds the chosen method's feedback back
(:mod:`agent.pipeline.revision`); every answer is converted and scored on the run's
:class:`~search.Evaluator`, the ledger the search later continues. What differs between its
users is options, never a second loop:

- ``solve()`` (and the HTTP service, which calls it): at most ``SolveConfig.rounds`` revision
  rounds, stopping after a round that does not improve (``early_stop``), then the search.
- The paper's revision experiment (``evals``): ``solve()`` with ``early_stop=False`` (every
  round runs) and ``search_method="none"`` (no search).
- The model inside the search (:mod:`agent.pipeline.loop`): one round with its own feedback
  through :meth:`Rounds.ask`.

No revision round starts once a program has reached a return of 1.0 or when there is nothing
to feed back (no program accepted yet), and no answer is asked for once ``should_stop`` says so
(cancelled, or the generation time budget is spent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.events import StageEmitter
from agent.llm.types import LLM
from agent.pipeline.config import SolveConfig
from agent.pipeline.results import RevisionRound
from agent.pipeline.revision import revision_messages
from agent.pipeline.sampling import (
    Batch,
    SamplingPlan,
    plan_for,
    propose,
    uses_examples,
    uses_grammar,
)
from agent.pipeline.support import StageClock
from envs.task import Task
from search.budget import Evaluator


class Rounds:
    """The proposal rounds of one run and what they produced.

    Args:
        llm: The model (metered by the caller).
        cfg: The run's settings (rounds, revision, early_stop, strategy, sampling).
        prompt: The task prompt (a benchmark task id or an ``agent.prompting.TaskPrompt``).
        task: The task the trace feedback runs programs on.
        ledger: The evaluation ledger every answer is scored on.
        emit: The run's event emitter.
        clock: The run's stage clock (stages ``generate`` and ``revision_<r>``).
        should_stop: Polled before each round and between answers; True ends the rounds.

    Attributes:
        rounds: One record per round asked, in order.
        batches: The proposals of each round, in the same order.
    """

    def __init__(
        self, llm: LLM, cfg: SolveConfig, prompt: Any, task: Task, ledger: Evaluator,
        emit: StageEmitter, clock: StageClock, should_stop: Callable[[], bool],
    ) -> None:  # fmt: skip
        self.llm, self.cfg, self.prompt, self.task = llm, cfg, prompt, task
        self.ledger, self.emit, self.clock = ledger, emit, clock
        self.should_stop = should_stop
        self.rounds: list[RevisionRound] = []
        self.batches: list[Batch] = []

    @property
    def best(self) -> tuple[str, float] | None:
        """The best program scored on the ledger so far and its return (None before any)."""
        if not self.ledger.best_program:
            return None
        return self.ledger.best_program, self.ledger.best_return

    def solved(self) -> bool:
        """Whether a program reached a return of 1.0."""
        best = self.best
        return best is not None and best[1] >= 1.0

    def plan(self, round_no: int) -> SamplingPlan:
        """Sampling plan of round ``round_no`` (:func:`~agent.pipeline.sampling.plan_for`)."""
        return plan_for(self.cfg, self.task.domain, round_no)

    def ask(
        self,
        round_no: int,
        method: str,
        messages: Sequence[Mapping[str, str]],
        feedback: str = "",
        should_stop: Callable[[], bool] | None = None,
    ) -> Batch:
        """Sample, convert and score one round, and record it.

        Args:
            round_no: Round number (it fixes the sampling seeds).
            method: ``initial``, the revision method or ``loop``.
            messages: The messages to send.
            feedback: The feedback text the messages carry ("" for round 0).
            should_stop: Polled between answers; None for the loop's own ``should_stop``.

        Raises:
            LLMError: The model failed (CacheMiss in replay-only mode).
        """
        before = self.ledger.best_return
        batch = propose(
            self.llm, messages, self.plan(round_no), self.ledger, self.emit, round_no=round_no,
            should_stop=self.should_stop if should_stop is None else should_stop,
        )  # fmt: skip
        scored = batch.scored
        best = max(scored, key=lambda kv: kv[1], default=None)
        improved = best is not None and best[1] > before
        rec = RevisionRound(
            round=round_no, method=method, feedback=feedback, answers=len(batch.proposals),
            accepted=batch.stats.accepted, programs=tuple(scored),
            best_program=best[0] if best else "", best_return=best[1] if best else float("-inf"),
            improved=improved,
        )  # fmt: skip
        self.rounds.append(rec)
        self.batches.append(batch)
        self.emit(
            "revision_round", round=round_no, method=method, programs=len(scored),
            best_program=rec.best_program, best_return=best[1] if best else None,
            improved=improved,
        )  # fmt: skip
        return batch

    def run(self) -> None:
        """Round 0, then the revision rounds (see the module docstring).

        Raises:
            LLMError: The model failed; the rounds recorded so far are kept.
        """
        from agent.prompting import render_prompt

        cfg = self.cfg
        with self.clock.stage("generate"):
            messages = render_prompt(
                self.prompt, cfg.strategy, examples=uses_examples(cfg),
                constrained=uses_grammar(cfg),
            )  # fmt: skip
            self.ask(0, "initial", messages)
        if cfg.revision == "none":
            return
        for r in range(1, cfg.rounds + 1):
            if self.should_stop() or self.solved():
                return
            previous = list(self.rounds[-1].programs) or [
                kv for rec in self.rounds for kv in rec.programs
            ]
            if not previous and self.best is None:
                self.emit("warning", message="no program was accepted: nothing to revise")
                return
            with self.clock.stage(f"revision_{r}"):
                fb = revision_messages(
                    cfg.revision, self.prompt, self.task, previous=previous, best=self.best,
                    strategy=cfg.strategy, examples=uses_examples(cfg),
                    constrained=uses_grammar(cfg),
                )  # fmt: skip
                self.emit(
                    "revision_feedback", round=r, method=cfg.revision, feedback=fb.text,
                    program=fb.program, **{"return": fb.value},
                )  # fmt: skip
                self.ask(r, cfg.revision, fb.messages, fb.text)
            if cfg.early_stop and not self.rounds[-1].improved:
                return  # a round that does not improve ends the revision (early stop)

    def programs(self) -> list[tuple[str, float]]:
        """Distinct accepted programs of every round with their returns, first answer first."""
        first: dict[str, float] = {}
        for rec in self.rounds:
            for program, value in rec.programs:
                first.setdefault(program, value)
        return list(first.items())
