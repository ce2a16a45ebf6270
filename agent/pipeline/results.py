"""The frozen records ``agent.solve()`` returns, and their JSON form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.llm.usage import Usage


@dataclass(frozen=True)
class StageTiming:
    """Wall time of one stage of a solve run.

    Attributes:
        stage: ``match``, ``generate``, ``revision_<r>``, ``search``, ``agent`` or ``verify``.
        seconds: Wall-clock seconds it took.
    """

    stage: str
    seconds: float


@dataclass(frozen=True)
class MatchResult:
    """Which registered task a description means.

    Attributes:
        task: The registry id, e.g. ``"karel/DoorKey"``.
        confidence: 0..1; 1.0 for an exact synonym, the override or the model's confirmation of
            the offline choice.
        method: ``"override"`` (``task=``), ``"keywords"`` (offline scoring) or ``"model"``
            (the model picked among the offline candidates).
        alternatives: The next best ``(task id, score)`` pairs, best first.
    """

    task: str
    confidence: float
    method: str
    alternatives: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "confidence": self.confidence,
            "method": self.method,
            "alternatives": [[t, s] for t, s in self.alternatives],
        }


@dataclass(frozen=True)
class RevisionRound:
    """One round of program proposals (round 0 is the first sampling, then revisions).

    Attributes:
        round: 0 for the initial proposals, 1.. for revision rounds.
        method: ``"initial"`` or the revision method.
        feedback: The text fed back to the model in this round ("" for round 0).
        answers: Model answers received.
        accepted: Answers converted to a program.
        programs: ``(program, return)`` of the accepted answers, in answer order.
        best_program: Best program of the round ("" when none was accepted).
        best_return: Its return (-inf when none).
        improved: Whether the round beat every earlier round.
    """

    round: int
    method: str
    feedback: str
    answers: int
    accepted: int
    programs: tuple[tuple[str, float], ...]
    best_program: str
    best_return: float
    improved: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (-inf becomes None)."""
        data = asdict(self)
        data["programs"] = [[p, r] for p, r in self.programs]
        data["best_return"] = _finite(self.best_return)
        return data


@dataclass(frozen=True)
class SolveResult:
    """Everything ``agent.solve()`` found and spent.

    ``reward`` is always the return of ``program`` re-evaluated on a freshly built task
    (``envs.make(task, n=instances, seed=task_seed).evaluate(program)``), never a number carried
    over from the search.

    Attributes:
        task: Registry id of the solved task.
        description: The user's description.
        match: How the task was chosen.
        program: Best program, canonical DSL.
        python: The same program as Python.
        reward: Its mean return over the task's instances.
        instance_returns: Its return on each instance.
        solved: Whether ``reward`` reached the target (1.0).
        evaluations: Program evaluations (each program on all instances counts 1, repeats
            included), from the run's one ledger: every proposal scored, in every round,
            plus what the search counted after them (it never scores a proposal again).
        unique_evaluations: Distinct programs among them (the same ledger).
        stop_reason: ``"solved"`` (reward >= 1.0), ``"budget"`` (used up), ``"cancelled"``
            or ``"rounds"`` (``search_method="none"``: the proposal rounds ended).
        mode: ``"pipeline"`` or ``"agent"``.
        strategy: Prompt strategy (``pythonic_dsl``, ``python`` or ``dsl``).
        revision: Revision method (``none`` or one of the four).
        seed: Seed of the search and of the model's sampling.
        budget: Evaluation budget.
        instances: Task instances (32 in the benchmark).
        llm: Model usage over the run (:class:`~agent.llm.Usage`, with the model's name;
            ``model`` None for pure search).
        acceptance: Acceptance stats over every answer (``AcceptanceStats.to_dict()``).
        rounds: Proposal rounds, initial first.
        search: The search's summary (method, evaluations, unique, stop reason, climbs,
            curve) or None when no search ran. The search continues the run's ledger, so
            its counts and curve include the proposals scored before it.
        timings: Wall time per stage.
        run_dir: Folder where the run was saved, if it was.
        warnings: What went wrong without stopping the run, e.g. the model failed and the run
            carried on without it (also ``warning`` events in the run folder).
        heldout_return: The program's mean return on 64 held-out instances never searched on
            (seeds ``instances`` .. ``instances + 63``); None without a program.
    """

    task: str
    description: str
    match: MatchResult
    program: str
    python: str
    reward: float
    instance_returns: tuple[float, ...]
    solved: bool
    evaluations: int
    unique_evaluations: int
    stop_reason: str
    mode: str
    strategy: str
    revision: str
    seed: int
    budget: int
    instances: int
    llm: Usage = field(default_factory=Usage)
    acceptance: dict[str, Any] = field(default_factory=dict)
    rounds: tuple[RevisionRound, ...] = ()
    search: dict[str, Any] | None = None
    timings: tuple[StageTiming, ...] = ()
    run_dir: str | None = None
    warnings: tuple[str, ...] = ()
    heldout_return: float | None = None

    @property
    def total_seconds(self) -> float:
        """Wall time summed over the stages."""
        return sum(t.seconds for t in self.timings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "description": self.description,
            "match": self.match.to_dict(),
            "program": self.program,
            "python": self.python,
            "reward": _finite(self.reward),  # None when no program was found (cancelled early)
            "instance_returns": list(self.instance_returns),
            "solved": self.solved,
            "evaluations": self.evaluations,
            "unique_evaluations": self.unique_evaluations,
            "stop_reason": self.stop_reason,
            "mode": self.mode,
            "strategy": self.strategy,
            "revision": self.revision,
            "seed": self.seed,
            "budget": self.budget,
            "instances": self.instances,
            "llm": self.llm.to_dict(),
            "acceptance": self.acceptance,
            "rounds": [r.to_dict() for r in self.rounds],
            "search": self.search,
            "timings": {t.stage: t.seconds for t in self.timings},
            "total_seconds": self.total_seconds,
            "run_dir": self.run_dir,
            "warnings": list(self.warnings),
            "heldout_return": self.heldout_return,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The result as one JSON document."""
        return json.dumps(self.to_dict(), indent=indent)


def _finite(value: float) -> float | None:
    return value if value not in (float("inf"), float("-inf")) else None
