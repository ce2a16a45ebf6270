"""The task registry: ids, descriptions, options, user tasks and close-match errors."""

from __future__ import annotations

import pytest

import envs
from envs.errors import ConfigError, TaskNotFound
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS
from envs.task import Rollout, Task


def test_every_benchmark_task_is_listed_with_a_description() -> None:
    karel = envs.tasks("karel", benchmark_only=True)
    assert [t.id for t in karel] == [f"karel/{name}" for name in BENCHMARK_TASKS]
    for entry in envs.tasks("karel"):
        assert entry.description and entry.synonyms and entry.domain == "karel"
        assert entry.default_budget == 1_000_000 and entry.grid is not None
    assert envs.info("karel/CleanHouse").grid == (14, 22)
    assert envs.info("karel/WallAvoider").grid == (8, 5)
    assert "fixed start" in envs.info("karel/MazeSparse").description
    assert "does not end" in envs.info("karel/OneStroke").description
    assert "pick up the key and open the door" in envs.info("karel/DoorKey").synonyms
    variants = {t.name for t in envs.tasks("karel")} - set(BENCHMARK_TASKS)
    assert variants == {"StairClimber", "Maze", "FourCornersSparse", "TopOffSparse",
                        "HarvesterSparse", "CleanHouseSparse"}  # fmt: skip


def test_make_builds_seeded_tasks_and_passes_options() -> None:
    task = envs.make("karel/Harvester", n=4, seed=2, engine="python", penalize_crash=True)
    assert isinstance(task, KarelTask)
    assert (task.id, task.n, task.seed, task.engine) == ("karel/Harvester", 4, 2, "python")
    assert task.options.penalize_crash and task.description == envs.info(task.id).description
    assert envs.make("doorkey", n=1).id == "karel/DoorKey"  # bare, case-insensitive
    with pytest.raises(ConfigError, match="unknown Karel option"):
        envs.make("karel/Harvester", n=1, crashable_typo=True)


def test_unknown_id_lists_close_matches() -> None:
    with pytest.raises(TaskNotFound, match="karel/DoorKey"):
        envs.make("karel/DoorKy")
    with pytest.raises(TaskNotFound) as err:
        envs.make("nothing-like-it")
    assert "llmgs tasks" in str(err.value)


class _Constant(Task):
    """A user task whose every episode returns the same value."""

    domain = "karel"

    def __init__(self, n: int, seed: int, value: float = 0.5) -> None:
        self.id, self.n, self.seed, self.value = "karel/UserConstant", n, seed, value
        self.description = "always the same"

    def returns(self, program: object) -> list[float]:
        return [self.value] * self.n

    def rollout(self, program: object, instance: int = 0, trace: bool = True) -> Rollout:
        return Rollout(instance, self.value, True, False, 0)


def test_register_user_task() -> None:
    info = envs.TaskInfo(id="karel/UserConstant", domain="karel", description="constant")
    envs.register("karel/UserConstant", _Constant, info, replace=True)
    try:
        task = envs.make("karel/UserConstant", n=3, value=0.25)
        assert task.evaluate("DEF run m( move m)") == 0.25
        assert info in envs.tasks("karel")
        with pytest.raises(ConfigError, match="already registered"):
            envs.register("karel/UserConstant", _Constant, info)
        with pytest.raises(ConfigError):
            envs.register("UserConstant", _Constant, info)
    finally:
        envs.unregister("karel/UserConstant")
    with pytest.raises(TaskNotFound):
        envs.make("karel/UserConstant")
