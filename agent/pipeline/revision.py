"""Revision strategies: what a round feeds back to the model (spec/benchmark.md §7.5).

- ``regeneration``: the previous round's distinct programs, asking for a different one.
- ``regeneration_with_reward``: the previous round's programs with their returns, best first.
- ``execution_trace``: the initial state and the trace of the best program so far on its
  worst instance (lowest return, lowest index on ties).
- ``program_execution_trace``: the same, with the Python line executed at each step.

The reference's two trace methods crash; these run on every task that can render its initial
state (Karel and Minigrid; a user task without a renderer gets a one-line placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.prompting import REVISION_METHODS, TaskPrompt, render_revision
from agent.revision_feedback import format_trace
from agent.tools.rollout import worst_instance
from envs.task import Task, mean_return

METHODS: tuple[str, ...] = ("none", *REVISION_METHODS)
_MINIGRID_LEGEND = (
    "Legend: two characters per cell, object then colour initial; W wall, V lava, G goal, "
    "D door, K key, A ball, B box; >, <, ^, V arrows (doubled) are the agent facing E, W, N, S."
)


@dataclass(frozen=True)
class Feedback:
    """The messages of one revision round and what they fed back.

    Attributes:
        messages: System and user messages to send.
        text: The user message (the feedback the model reads).
        program: The traced program (trace methods), else None.
        value: Its mean return (trace methods), else None.
    """

    messages: list[dict[str, str]]
    text: str
    program: str | None = None
    value: float | None = None


def world_text(task: Task, instance: int) -> str:
    """The initial state of one instance as text (Karel grid, Minigrid's own grid print)."""
    initial_world = getattr(task, "initial_world", None)
    if callable(initial_world):
        return initial_world(instance).to_string()
    world, snapshots = getattr(task, "world", None), getattr(task, "snapshots", None)
    if world is not None and snapshots is not None and hasattr(world, "pprint_grid"):
        world.restore(snapshots[instance])
        return f"{world.pprint_grid()}\n{_MINIGRID_LEGEND}"
    return f"(instance {instance} of {task.id}; this task cannot print its initial state)"


def trace_feedback(task: Task, program: str, with_lines: bool) -> tuple[str, float]:
    """Trace text of ``program`` on its worst instance, and the program's mean return."""
    returns = task.returns(program)
    worst = worst_instance(returns)
    episode = task.rollout(program, worst, trace=True)
    header = f"(instance {worst}, return {returns[worst]:.4g})\n"
    text = format_trace(
        episode, program, world_text(task, worst), task.domain, with_program_lines=with_lines
    )
    return header + text, mean_return(returns, task.n)


def revision_messages(
    method: str,
    prompt: TaskPrompt | str,
    task: Task,
    *,
    previous: list[tuple[str, float]],
    best: tuple[str, float] | None,
    strategy: str = "pythonic_dsl",
    n_programs: int = 1,
    examples: bool = False,
    constrained: bool = False,
) -> Feedback:
    """Build the messages of one revision round.

    Args:
        method: One of the four revision methods.
        prompt: The task prompt (id of a benchmark task or a :class:`TaskPrompt`).
        task: The task (the trace methods run the program on it).
        previous: ``(program, return)`` of the previous round (all rounds so far if it had none).
        best: The best program so far and its return (traced by the trace methods).
        strategy: Prompt strategy.
        n_programs: Programs asked per answer.
        examples: Show worked examples of other tasks (as the first round's prompt did).
        constrained: The answer is decoded under the grammar: ask for code only.

    Raises:
        ConfigError: Unknown method, or nothing to feed back yet.
    """
    if method.endswith("execution_trace"):
        if best is None:
            from envs.errors import ConfigError

            raise ConfigError(f"revision method {method!r} needs a program to trace")
        trace, value = trace_feedback(task, best[0], method == "program_execution_trace")
        messages = render_revision(
            method, prompt, strategy, program=best[0], score=value, trace=trace,
            n_programs=n_programs, examples=examples, constrained=constrained,
        )  # fmt: skip
        return Feedback(messages, messages[-1]["content"], best[0], value)
    messages = render_revision(
        method, prompt, strategy, programs=[p for p, _ in previous], scored_programs=previous,
        n_programs=n_programs, examples=examples, constrained=constrained,
    )  # fmt: skip
    return Feedback(messages, messages[-1]["content"])
