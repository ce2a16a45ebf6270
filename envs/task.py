"""The Task contract shared by every domain (design.md, "Contracts").

A :class:`Task` is a set of ``n`` seeded instances of one benchmark problem plus the rules that
score a program on them. ``evaluate`` is the benchmark score (mean return, summed left to right
in instance order and divided by n), ``returns`` the per-instance returns, and ``rollout`` one
episode step by step. A Task never caches results: caching belongs to search, so timings and
repeated evaluations mean what they say.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envs.dsl.ast import Program


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One executed action or perception of a rollout.

    Attributes:
        kind: ``"action"`` or ``"perception"``.
        name: The action or perception, e.g. ``"move"`` or ``"front_object_type h( lava h)"``.
        result: The perception's value; None for actions.
        position: The agent's (row, col) after the call (Minigrid: (x, y)).
        facing: The agent's facing after the call (``"N"``, ``"E"``, ``"S"``, ``"W"``).
        reward: Reward received after this call (always 0.0 for perceptions).
        location: Pre-order index of the executed node in the program (see
            :func:`envs.dsl.preorder`), so a trace can point at the line being executed.
        calls: The call counter after this call.
    """

    kind: str
    name: str
    result: bool | None
    position: tuple[int, int]
    facing: str
    reward: float
    location: int
    calls: int


@dataclass(frozen=True, slots=True)
class Rollout:
    """The outcome of one episode.

    Attributes:
        instance: Index of the instance (its seed is ``task.seed + instance``).
        total_return: Undiscounted sum of step rewards.
        terminated: Whether the task's rules ended the episode.
        crashed: Whether the environment crashed (loop repetition, call budget, ...).
        calls: Actions and perceptions executed.
        steps: The trace, when requested; empty otherwise.
    """

    instance: int
    total_return: float
    terminated: bool
    crashed: bool
    calls: int
    steps: tuple[TraceStep, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "instance": self.instance,
            "return": self.total_return,
            "terminated": self.terminated,
            "crashed": self.crashed,
            "calls": self.calls,
            "steps": [
                {
                    "kind": s.kind,
                    "name": s.name,
                    "result": s.result,
                    "position": list(s.position),
                    "facing": s.facing,
                    "reward": s.reward,
                    "location": s.location,
                    "calls": s.calls,
                }
                for s in self.steps
            ],
        }


def mean_return(returns: Sequence[float], n: int) -> float:
    """The benchmark score from per-instance returns: summed left to right, divided by n.

    Written as a loop on purpose (spec §2): ``sum()`` of floats is compensated from Python 3.12,
    which could differ from the reference in the last bit.
    """
    total = 0.0
    for r in returns:
        total += r
    return total / n


SOLVED_TOLERANCE = 1e-9
"""How far below 1.0 one instance's return may be and still count as solved: an episode's
return is a sum of rewards such as 1/35, which can end at 0.9999999999999998."""


def instance_solved(value: float) -> bool:
    """Whether one instance's return reached 1.0, up to the rounding of summed rewards.

    Only for counting solved instances in reports; the benchmark's own test (the mean return
    >= 1.0, spec §2) stays exact.
    """
    return value >= 1.0 - SOLVED_TOLERANCE


class Task(ABC):
    """A benchmark task: n seeded instances and the rules that score a program.

    Attributes:
        id: Registry id, e.g. ``"karel/DoorKey"``.
        domain: DSL domain of its programs (``"karel"`` or ``"minigrid"``).
        n: Number of instances.
        seed: Seed of instance 0; instance i uses ``seed + i``.
        description: What the task asks, in plain words.
    """

    id: str
    domain: str
    n: int
    seed: int
    description: str

    @abstractmethod
    def returns(self, program: Program | str) -> list[float]:
        """Return of the program on each instance, in instance order.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """

    def evaluate(self, program: Program | str) -> float:
        """The benchmark score: per-instance returns summed left to right, divided by n.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        return mean_return(self.returns(program), self.n)

    def thread_copy(self) -> Task | None:
        """A copy whose :meth:`returns` may run on another thread alongside this task's.

        A search with ``workers`` > 1 scores programs on threads when every copy it asks for
        is given: that pays only when :meth:`returns` spends its time in compiled code that
        releases the GIL, and each thread needs its own copy because the compiled evaluators
        keep scratch buffers. The default is None (evaluation in Python holds the GIL), and
        the search uses worker processes instead.

        Returns:
            A copy sharing this task's instances, with its own evaluator; or None.
        """
        return None

    @abstractmethod
    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """Run one episode on instance ``instance`` (0-based), optionally recording a trace.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is out of range.
        """

    # -- drawing: each domain draws itself; callers never dispatch on ``domain`` ----------
    def render_text(self, instance: int = 0) -> str | None:
        """The start state of ``instance`` as the text picture ``llmgs render`` prints.

        None (the default) when the task draws only images.
        """
        return None

    def render_start(self, path: str | Path, instance: int = 0, *, cell: int = 32) -> Path | None:
        """Save the start state of ``instance`` as a picture (PNG).

        Args:
            path: Output file.
            instance: Instance index (0-based).
            cell: Pixels per grid cell.

        Returns:
            The path written, or None (the default) when the task cannot draw.
        """
        return None

    def render_episode(
        self, program: Program | str, path: str | Path, instance: int = 0, *, cell: int = 32
    ) -> Path | None:
        """Animate one episode of ``program`` on ``instance`` (a GIF).

        Args:
            program: DSL text or a parsed program.
            path: Output file.
            instance: Instance index (0-based).
            cell: Pixels per grid cell.

        Returns:
            The path written, or None (the default) when the task cannot draw.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} n={self.n} seed={self.seed}>"
