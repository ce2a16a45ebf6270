"""The frozen result of a search run and its JSON form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

StopReason = str
"""Why a run stopped: ``"solved"``, ``"budget"`` or ``"interrupted"``."""


@dataclass(frozen=True)
class SkippedSeed:
    """A seed program that could not be used.

    Attributes:
        index: Position in the seed list given to the search.
        text: The program text (truncated to 200 characters).
        reason: Why it was skipped (the parser's message).
    """

    index: int
    text: str
    reason: str


@dataclass(frozen=True)
class SearchResult:
    """Outcome of one search run.

    Attributes:
        method: ``"shc"``, ``"hc"``, ``"random"`` or ``"llmgs"``.
        task_id: Id of the task searched.
        seed: Seed of the search RNG.
        budget: The evaluation budget (paper counting).
        best_program: Canonical DSL text of the best program ("" when nothing was evaluated).
        best_return: Its return (mean over the task's instances); -inf when nothing was.
        evaluations: Evaluations in the paper's counting: every program evaluated on all
            instances counts 1, duplicates and re-evaluated climb starts included.
        unique_evaluations: Distinct programs among them (what the cache had to compute).
        curve: ``(evaluations, best_return)`` at every strict improvement of the best.
        stage_times: Wall-clock seconds per stage (``"seeds"``, ``"search"``), summed over
            resumed segments.
        stop_reason: ``"solved"`` (best >= target), ``"budget"`` (used up) or
            ``"interrupted"`` (Ctrl-C; the best program so far is kept).
        climbs: Hill-climbing runs started (random-search draws for ``random``).
        seed_returns: Returns of the usable seed programs, in the order given (``llmgs``).
        skipped_seeds: Seed programs that did not parse, with the reason.
        heldout_return: The best program's mean return on held-out instances never searched
            on (``SearchConfig.heldout`` of them, from seed ``task.seed + task.n``); None when
            not measured (no program, ``heldout=0``, or a task the registry cannot rebuild).
    """

    method: str
    task_id: str
    seed: int
    budget: int
    best_program: str
    best_return: float
    evaluations: int
    unique_evaluations: int
    curve: tuple[tuple[int, float], ...]
    stage_times: dict[str, float] = field(default_factory=dict)
    stop_reason: StopReason = "budget"
    climbs: int = 0
    seed_returns: tuple[float, ...] = ()
    skipped_seeds: tuple[SkippedSeed, ...] = ()
    heldout_return: float | None = None

    @property
    def solved(self) -> bool:
        """Whether the search stopped because it reached its target return."""
        return self.stop_reason == "solved"

    def evaluations_to_reach(self, value: float) -> int | None:
        """Evaluations after which the best return first reached ``value`` (None if never)."""
        for count, best in self.curve:
            if best >= value:
                return count
        return None

    def outcome(self) -> dict[str, Any]:
        """Everything but wall times: equal for equal seeds, workers and resumes."""
        data = self.to_dict()
        data.pop("stage_times")
        return data

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["curve"] = [list(point) for point in self.curve]
        data["seed_returns"] = list(self.seed_returns)
        return data

    def to_json(self) -> str:
        """The result as one JSON document."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SearchResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["curve"] = tuple((int(c), float(b)) for c, b in data.get("curve", ()))
        data["seed_returns"] = tuple(float(x) for x in data.get("seed_returns", ()))
        data["skipped_seeds"] = tuple(SkippedSeed(**s) for s in data.get("skipped_seeds", ()))
        return cls(**data)
