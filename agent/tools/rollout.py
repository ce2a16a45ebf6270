"""The ``rollout`` tool: run a program on every instance of a task and summarise how it did.

The summary is compact on purpose (a model reads it): the mean return, the return on each
instance, and the step-by-step trace of the worst instance only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agent.revision_feedback import ending, step_line
from envs.dsl.parser import ensure_program
from envs.task import Task, instance_solved, mean_return

#: Trace steps shown for the worst instance.
DEFAULT_TRACE_STEPS = 30


@dataclass(frozen=True)
class RolloutSummary:
    """How a program did on a task.

    Attributes:
        task: Task id.
        program: The program, canonical DSL.
        mean_return: The benchmark score (mean over the instances).
        returns: Return on each instance, in instance order.
        solved_instances: Instances whose return reached 1.0.
        worst_instance: Index of the worst instance (lowest return, lowest index on ties).
        worst_trace: The first steps of the worst instance, one line per action or perception.
        worst_ending: How the worst episode ended.
    """

    task: str
    program: str
    mean_return: float
    returns: tuple[float, ...]
    solved_instances: int
    worst_instance: int
    worst_trace: tuple[str, ...]
    worst_ending: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "program": self.program,
            "mean_return": self.mean_return,
            "returns": list(self.returns),
            "solved_instances": self.solved_instances,
            "worst_instance": self.worst_instance,
            "worst_trace": list(self.worst_trace),
            "worst_ending": self.worst_ending,
        }

    def __str__(self) -> str:
        shown = ", ".join(f"{r:.3g}" for r in self.returns)
        lines = [
            f"mean return {self.mean_return:.4g} on {len(self.returns)} instances of "
            f"{self.task} ({self.solved_instances} solved)",
            f"returns: [{shown}]",
            f"worst instance {self.worst_instance} ({self.worst_ending}), first steps:",
            *self.worst_trace,
        ]
        return "\n".join(lines)


@lru_cache(maxsize=16)
def cached_task(task_id: str, instances: int = 32, seed: int = 0) -> Task:
    """A task built once per (id, instances, seed): building instances is not free."""
    import envs

    return envs.make(task_id, n=instances, seed=seed)


def worst_instance(returns: list[float] | tuple[float, ...]) -> int:
    """Index of the lowest return (the first one on ties), as the reference's feedback picks."""
    return min(range(len(returns)), key=lambda i: (returns[i], i))


def rollout(
    program: str,
    task: str | Task,
    *,
    instances: int = 32,
    seed: int = 0,
    trace_steps: int = DEFAULT_TRACE_STEPS,
) -> RolloutSummary:
    """Run a DSL program on every instance of a task and summarise the returns.

    Args:
        program: The program in the task's DSL, e.g. ``"DEF run m( move m)"``.
        task: A task id (``"karel/DoorKey"``) or a Task.
        instances: Instances when ``task`` is an id (the benchmark uses 32).
        seed: Seed of instance 0 when ``task`` is an id.
        trace_steps: Steps of the worst instance's trace to show.

    Returns:
        The summary; ``str()`` of it is the text a model reads.

    Raises:
        DSLSyntaxError: The program does not parse (its message says where).
        TaskNotFound: Unknown task id.
    """
    the_task = cached_task(task, instances, seed) if isinstance(task, str) else task
    parsed = ensure_program(program, the_task.domain)
    returns = the_task.returns(parsed)
    mean = mean_return(returns, the_task.n)
    worst = worst_instance(returns)
    episode = the_task.rollout(parsed, worst, trace=True)
    steps = tuple(step_line(k, s) for k, s in enumerate(episode.steps[:trace_steps], 1))
    if len(episode.steps) > trace_steps:
        steps += (f"... {len(episode.steps) - trace_steps} more steps",)
    return RolloutSummary(
        task=the_task.id,
        program=str(parsed),
        mean_return=mean,
        returns=tuple(returns),
        solved_instances=sum(1 for r in returns if instance_solved(r)),
        worst_instance=worst,
        worst_trace=steps,
        worst_ending=ending(episode),
    )
