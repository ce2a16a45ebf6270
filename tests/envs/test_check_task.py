"""check_task over every registered task, and the rules it catches on broken tasks."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import envs
from envs.dsl.ast import Program
from envs.errors import ConfigError, TaskContractError
from envs.karel import KarelTask
from envs.task import Rollout, Task


@pytest.mark.parametrize("task_id", [info.id for info in envs.tasks()])
def test_every_registered_task_keeps_the_contract(task_id: str) -> None:
    envs.check_task(task_id)


def test_the_registry_holds_both_domains_in_listing_order() -> None:
    ids = [info.id for info in envs.tasks()]
    assert ids[0] == "karel/StairClimberSparse" and ids[-3:] == [
        "minigrid/LavaGap", "minigrid/PutNear", "minigrid/RedBlueDoor",
    ]  # fmt: skip
    assert len(envs.tasks(benchmark_only=True)) == 15


class _Wrapped(Task):
    """A Karel task with one thing broken (the subclasses below), for check_task to find."""

    def __init__(self, n: int = 3, seed: int = 5, name: str = "FourCorners") -> None:
        self.inner = KarelTask(name, n=n, seed=seed, engine="python")
        self.id, self.domain, self.n = f"karel/Broken{name}", "karel", n
        self.seed, self.description = seed, "a task with a bug"

    def returns(self, program: Program | str) -> list[float]:
        return self.inner.returns(program)

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        return self.inner.rollout(program, instance, trace)


class _Noisy(_Wrapped):
    def returns(self, program: Program | str) -> list[float]:
        return [r + random.random() for r in self.inner.returns(program)]


class _Mean(_Wrapped):
    def evaluate(self, program: Program | str) -> float:
        return max(self.returns(program))


class _Reversed(_Wrapped):
    # Scores and rolls out instance n-1-i as instance i: consistent inside one build, but
    # instance i is not the task seeded seed + i.
    def returns(self, program: Program | str) -> list[float]:
        return self.inner.returns(program)[::-1]

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        if not 0 <= instance < self.n:
            raise ConfigError("out of range")
        out = self.inner.rollout(program, self.n - 1 - instance, trace)
        return Rollout(
            instance, out.total_return, out.terminated, out.crashed, out.calls, out.steps
        )


class _Undescribed(_Wrapped):
    def __init__(self) -> None:
        super().__init__()
        self.description = " "


@pytest.mark.parametrize(
    ("task", "rule"),
    [(_Noisy(), "two calls"), (_Mean(), "benchmark mean"), (_Undescribed(), "description")],
)
def test_a_broken_task_object_is_named_with_its_rule(task: Task, rule: str) -> None:
    with pytest.raises(TaskContractError, match=rule):
        envs.check_task(task)


@pytest.fixture
def registered() -> Iterator[str]:
    task_id = "karel/BrokenFourCorners"
    envs.register(
        task_id,
        lambda n, seed, **options: _Reversed(n, seed),
        envs.TaskInfo(id=task_id, domain="karel", description="instances in reverse order"),
    )
    yield task_id
    envs.unregister(task_id)


def test_the_seed_contract_is_checked_through_the_registry(registered: str) -> None:
    envs.check_task(envs.make(registered, n=3, seed=5))  # the object alone looks fine
    with pytest.raises(TaskContractError, match="instance 0 is not the task seeded 5"):
        envs.check_task(registered)


def test_a_user_task_that_keeps_the_contract_passes() -> None:
    task_id = "karel/MyMaze"
    envs.register(
        task_id,
        lambda n, seed, **options: KarelTask("Maze", n, seed, description="my maze"),
        envs.TaskInfo(id=task_id, domain="karel", description="my maze"),
    )
    try:
        with pytest.raises(TaskContractError, match="id must be"):
            envs.check_task(task_id)  # KarelTask keeps its own id, karel/Maze
    finally:
        envs.unregister(task_id)
    envs.check_task(KarelTask("Maze", n=2, description="my maze"), ["DEF run m( move m)"])
