"""The Karel world and its tasks (spec/benchmark.md §1-4).

- :class:`KarelWorld` (``world``): state, actions, perceptions, text and tensor forms.
- :mod:`envs.karel.tasks`: the task rules (generation and rewards); ``SPECS`` by name.
- :class:`KarelTask` (``task``): n seeded instances, scoring and rollouts.
- :func:`run_program` (``interpreter``): the exact reference interpreter.
- :func:`register_tasks`: adds every Karel task's spec (``info.yaml`` + its rules) to the
  registry; ``envs/__init__.py`` names this module with :func:`envs.add_task_module`.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from envs.errors import ConfigError
from envs.karel.info import DESCRIPTIONS, TASK_SPECS
from envs.karel.instances import KarelInstance
from envs.karel.interpreter import RunResult, run_program
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS, CRASH_PENALTY, SPECS, KarelOptions
from envs.karel.world import Channel, Direction, KarelWorld
from envs.registry import TaskFactory, register

__all__ = [
    "BENCHMARK_TASKS", "CRASH_PENALTY", "Channel", "Direction", "KarelInstance", "KarelOptions",
    "KarelTask", "KarelWorld", "RunResult", "SPECS", "register_tasks", "run_program",
]  # fmt: skip


def _factory_for(name: str) -> TaskFactory:
    def factory(n: int = 32, seed: int = 0, **options: object) -> KarelTask:
        engine = options.pop("engine", None)
        description = options.pop("description", None)
        known = {f.name for f in dataclasses.fields(KarelOptions)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown Karel option(s) {unknown}; known: engine, description, "
                + ", ".join(sorted(known))
            )
        return KarelTask(
            name,
            n,
            seed,
            options=KarelOptions(**options),  # type: ignore[arg-type]
            engine=engine,  # type: ignore[arg-type]
            description=description if description is not None else DESCRIPTIONS[name],  # type: ignore[arg-type]
        )

    return factory


def register_tasks() -> None:
    """Register every Karel task: the paper's twelve first, in its order, then the variants.

    Raises:
        ConfigError: ``envs/karel/info.yaml`` and the task rules do not name the same tasks.
    """
    names = list(BENCHMARK_TASKS) + [name for name in SPECS if name not in BENCHMARK_TASKS]
    missing = sorted(set(SPECS) ^ set(TASK_SPECS))
    if missing:
        raise ConfigError(f"envs/karel/info.yaml and the Karel task rules differ on {missing}")
    for name in names:
        rules = SPECS[name]
        spec = dataclasses.replace(
            TASK_SPECS[name],
            grid=(rules.height, rules.width),
            benchmark=name in BENCHMARK_TASKS,
            factory=_factory_for(name),
            episode_options=MappingProxyType({"engine": "python"}),  # one episode: compile nothing
        )
        register(spec, replace=True)
