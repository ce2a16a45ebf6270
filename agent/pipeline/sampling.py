"""Asking the model for programs: sample, convert, score, and count what was accepted.

One round of proposals (spec/benchmark.md §7.2): ask for ``n`` answers, convert each one
(Pythonic-DSL: the Python block exactly, else the model's own DSL), score the accepted programs
on the run's evaluation ledger (:class:`search.Evaluator`: each counts one evaluation, a
repeated program too, as the paper counts its LLM programs), and ask again for the missing
ones up to ``top_up`` more times. Local models are
asked one answer per request, so progress (and tokens/s) shows after every answer; remote ones
get one request with ``n`` samples, which bills the prompt once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agent.conversion.acceptance import AcceptanceStats, ConversionOutcome, convert_answer, tally
from agent.events import StageEmitter
from agent.llm.types import LLM, SamplingSettings
from agent.pipeline.config import SolveConfig
from search.budget import Evaluator


@dataclass(frozen=True)
class Proposal:
    """One model answer and what became of it.

    Attributes:
        sample: Index of the answer within its round.
        text: The answer.
        outcome: The conversion outcome (program or rejection reason).
        value: The program's mean return (None when rejected or not scored).
        cached: Whether the answer came from the completion cache.
    """

    sample: int
    text: str
    outcome: ConversionOutcome
    value: float | None
    cached: bool


@dataclass(frozen=True)
class Batch:
    """The proposals of one round.

    Attributes:
        proposals: Every answer, in order.
        stats: Acceptance counts over them.
    """

    proposals: tuple[Proposal, ...]
    stats: AcceptanceStats

    @property
    def scored(self) -> list[tuple[str, float]]:
        """``(program, return)`` of the accepted, scored answers, in answer order."""
        return [
            (p.outcome.program, p.value)
            for p in self.proposals
            if p.outcome.program is not None and p.value is not None
        ]


@dataclass(frozen=True)
class SamplingPlan:
    """How to sample one round.

    Attributes:
        n: Accepted programs wanted.
        settings: Temperature, top_p, max_tokens (``n`` and ``seed`` are set per request).
        seed: Seed of sample 0; sample i uses ``seed + i``.
        per_request: Answers asked per request (1 for local models).
        top_up: Extra attempts for the answers that were rejected.
        strategy: Conversion strategy (``pythonic_dsl``, ``python``, ``dsl``).
    """

    n: int
    settings: SamplingSettings
    seed: int
    per_request: int
    top_up: int = 1
    strategy: str = "pythonic_dsl"


def propose(
    llm: LLM,
    messages: Sequence[Mapping[str, str]],
    plan: SamplingPlan,
    ledger: Evaluator,
    emit: StageEmitter,
    *,
    round_no: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> Batch:
    """Sample one round of programs (see the module docstring).

    Accepted programs are scored with ``ledger.score``; once the ledger's budget is used up
    they are kept unscored (``Proposal.value`` None).

    Raises:
        LLMError: The model failed (CacheMiss in replay-only mode).
    """
    proposals: list[Proposal] = []
    wanted, next_sample = plan.n, 0
    for _attempt in range(plan.top_up + 1):
        while wanted > 0:
            if should_stop is not None and should_stop():
                stats = tally(p.outcome for p in proposals)
                if proposals:  # stopped midway (cancel, generation time): say what came in
                    emit("acceptance", round=round_no, **stats.to_dict())
                return Batch(tuple(proposals), stats)
            count = min(plan.per_request, wanted)
            new = _request(llm, messages, plan, ledger, emit, round_no, next_sample, count)
            proposals += new
            next_sample += count
            wanted -= count
        accepted = sum(1 for p in proposals if p.outcome.accepted)
        wanted = plan.n - accepted
        if wanted <= 0:
            break
    stats = tally(p.outcome for p in proposals)
    emit("acceptance", round=round_no, **stats.to_dict())
    return Batch(tuple(proposals), stats)


def _request(
    llm: LLM,
    messages: Sequence[Mapping[str, str]],
    plan: SamplingPlan,
    ledger: Evaluator,
    emit: StageEmitter,
    round_no: int,
    first: int,
    count: int,
) -> list[Proposal]:
    # Only the seed changes between requests: the prompt stays identical, so llama.cpp
    # reuses its KV cache for the whole prompt and processes it once per round.
    settings = dataclasses.replace(plan.settings, n=count, seed=plan.seed + first)
    emit("llm_request", round=round_no, sample=first, of=plan.n, n=count)
    started = time.perf_counter()
    answers = llm.complete(messages, settings)
    seconds = time.perf_counter() - started
    tokens = sum(c.completion_tokens for c in answers.items)
    fresh = not all(c.cached for c in answers.items)
    emit(
        "llm_progress", round=round_no, sample=first + count, of=plan.n, cached=not fresh,
        completion_tokens=tokens, seconds=round(seconds, 3),
        tokens_per_s=round(tokens / seconds, 1) if fresh and seconds > 0 else None,
    )  # fmt: skip
    out = []
    domain = ledger.task.domain
    for k, item in enumerate(answers.items):
        outcome = convert_answer(item.text, domain, plan.strategy)  # type: ignore[arg-type]
        value = ledger.score(outcome.program) if outcome.program is not None else None
        emit(
            "candidate", round=round_no, sample=first + k, accepted=outcome.accepted,
            source=outcome.source, program=outcome.program, reason=outcome.reason,
            message=outcome.message, **{"return": value},
        )  # fmt: skip
        out.append(Proposal(first + k, item.text, outcome, value, item.cached))
    return out


def uses_grammar(cfg: SolveConfig) -> bool:
    """Whether answers are decoded under the Pythonic-DSL grammar (default: local models)."""
    if cfg.model is None:
        return False
    return cfg.grammar if cfg.grammar is not None else cfg.is_local


def plan_for(cfg: SolveConfig, domain: str, round_no: int) -> SamplingPlan:
    """The sampling plan of one round of a solve run.

    Local models are asked one answer per request (progress after each, and the shared prompt
    stays in llama.cpp's KV cache); remote ones get one request with ``n`` samples. Under the
    grammar, ``max_tokens`` is the length of the longest answer the grammar allows, so no
    answer is ever cut short, and a reject cannot happen, so nothing is asked twice.
    Sample ``i`` of round ``r`` uses seed ``seed * 100000 + r * 1000 + i``.

    Raises:
        ConfigError: Unknown domain.
    """
    from agent.conversion.grammar import max_answer_chars, python_gbnf

    constrained = uses_grammar(cfg)
    one_at_a_time = cfg.one_per_request()  # progress after each answer (agent.llm.backends)
    max_tokens = cfg.resolved_max_tokens()
    if constrained and cfg.max_tokens is None:
        max_tokens = max_answer_chars(domain)
    settings = SamplingSettings(
        temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=max_tokens,
        grammar=python_gbnf(domain) if constrained else None,
    )  # fmt: skip
    return SamplingPlan(
        n=cfg.resolved_samples(), settings=settings, seed=cfg.seed * 100_000 + round_no * 1000,
        per_request=1 if one_at_a_time else cfg.resolved_samples(), strategy=cfg.strategy,
        # A model on the user's CPU takes seconds per answer: no second attempt for rejects.
        top_up=0 if one_at_a_time or constrained else 1,
    )  # fmt: skip


def uses_examples(cfg: SolveConfig) -> bool:
    """Whether the prompt shows worked examples of other tasks (default: local models)."""
    return cfg.examples if cfg.examples is not None else cfg.is_local
