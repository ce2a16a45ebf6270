"""A tiny deterministic Task for search tests (no Karel world needed)."""

from __future__ import annotations

from envs.dsl import ensure_program
from envs.dsl.ast import Program
from envs.task import Rollout, Task


class CountingTask(Task):
    """Instance i returns min(cap, putMarkers / (i + 2)): more putMarker is better.

    ``calls`` counts real evaluations so tests can check what the cache saved.
    """

    def __init__(self, n: int = 4, cap: float = 1.0, task_id: str = "fake/Counting") -> None:
        self.id = task_id
        self.domain = "karel"
        self.n = n
        self.seed = 0
        self.description = "put many markers"
        self.cap = cap
        self.calls = 0

    def returns(self, program: Program | str) -> list[float]:
        self.calls += 1
        puts = str(ensure_program(program, "karel")).split().count("putMarker")
        return [min(self.cap, puts / (i + 2)) for i in range(self.n)]

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        total = self.returns(program)[instance]
        return Rollout(instance, total, True, False, 0)
