"""The ``scheduled_hc`` tool: improve programs by Scheduled Hill Climbing within a budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from envs.task import Task
from search import SearchConfig, SearchResult, llmgs_search, scheduled_hill_climbing

#: Default evaluations of one tool call: small, so a model driving the tools gets answers fast.
DEFAULT_TOOL_BUDGET = 5_000


@dataclass(frozen=True)
class SearchSummary:
    """What one Scheduled HC run found.

    Attributes:
        task: Task id.
        best_program: Best program, canonical DSL ("" when nothing was evaluated).
        best_return: Its mean return.
        evaluations: Evaluations counted (every program on all instances counts 1).
        unique_evaluations: Distinct programs among them.
        stop_reason: ``"solved"``, ``"budget"`` or ``"interrupted"``.
        start_returns: Returns of the start programs that parsed, in the order given.
        skipped: Start programs that did not parse, with the reason.
        curve: ``(evaluations, best return)`` at each improvement.
    """

    task: str
    best_program: str
    best_return: float
    evaluations: int
    unique_evaluations: int
    stop_reason: str
    start_returns: tuple[float, ...]
    skipped: tuple[str, ...]
    curve: tuple[tuple[int, float], ...]

    @classmethod
    def from_result(cls, result: SearchResult) -> SearchSummary:
        """Summarise a search result."""
        return cls(
            task=result.task_id,
            best_program=result.best_program,
            best_return=result.best_return,
            evaluations=result.evaluations,
            unique_evaluations=result.unique_evaluations,
            stop_reason=result.stop_reason,
            start_returns=result.seed_returns,
            skipped=tuple(f"#{s.index}: {s.reason}" for s in result.skipped_seeds),
            curve=result.curve,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "best_program": self.best_program,
            "best_return": self.best_return,
            "evaluations": self.evaluations,
            "unique_evaluations": self.unique_evaluations,
            "stop_reason": self.stop_reason,
            "start_returns": list(self.start_returns),
            "skipped": list(self.skipped),
            "curve": [list(p) for p in self.curve],
        }

    def __str__(self) -> str:
        lines = [
            f"best return {self.best_return:.4g} after {self.evaluations} evaluations "
            f"({self.unique_evaluations} distinct programs, stopped: {self.stop_reason})",
            f"best program: {self.best_program}",
        ]
        if self.start_returns:
            lines.append(
                "start programs' returns: " + ", ".join(f"{r:.3g}" for r in self.start_returns)
            )
        lines += [f"skipped start program {s}" for s in self.skipped]
        return "\n".join(lines)


def scheduled_hc(
    task: str | Task,
    programs: Sequence[str] | str | None = None,
    *,
    budget: int = DEFAULT_TOOL_BUDGET,
    seed: int = 0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    config: SearchConfig | None = None,
) -> SearchSummary:
    """Improve programs by Scheduled Hill Climbing (the LLM-GS search) within a budget.

    With start programs it runs the LLM-GS loop: evaluate them, rank them, and climb from each
    in turn with a neighbourhood that grows as evaluations accumulate. Without, it climbs from
    random programs.

    Args:
        task: A task id (``"karel/DoorKey"``) or a Task.
        programs: Start programs in the task's DSL (one string or a list); None for random.
        budget: Evaluations allowed (each program on all instances counts 1).
        seed: Seed of the search.
        on_event: Receives the search's events (best_updated, climb_started, ...).
        config: Further search settings; ``budget`` and ``seed`` override its fields.

    Returns:
        The summary; ``str()`` of it is the text a model reads.

    Raises:
        TaskNotFound: Unknown task id.
    """
    base = config if config is not None else SearchConfig(progress=False)
    cfg = base.with_overrides(budget=budget, seed=seed)
    if isinstance(programs, str):
        programs = [programs]
    if programs:
        result = llmgs_search(task, list(programs), config=cfg, on_event=on_event)
    else:
        result = scheduled_hill_climbing(task, config=cfg, on_event=on_event)
    return SearchSummary.from_result(result)
