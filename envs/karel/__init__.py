"""The Karel world and its tasks (spec/benchmark.md §1-4).

- :class:`KarelWorld` (``world``): state, actions, perceptions, text and tensor forms.
- :mod:`envs.karel.tasks`: the task rules (generation and rewards); ``SPECS`` by name.
- :class:`KarelTask` (``task``): n seeded instances, scoring and rollouts.
- :func:`run_program` (``interpreter``): the exact reference interpreter.
- :func:`register_tasks`: adds every Karel task to the registry (called by :mod:`envs.registry`).
"""

from __future__ import annotations

import dataclasses

from envs.errors import ConfigError
from envs.karel.info import DEFAULT_BUDGET, DESCRIPTIONS, SYNONYMS
from envs.karel.instances import KarelInstance
from envs.karel.interpreter import RunResult, run_program
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS, CRASH_PENALTY, SPECS, KarelOptions
from envs.karel.world import Channel, Direction, KarelWorld
from envs.registry import TaskFactory, TaskInfo, register

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
    """Register every Karel task: the paper's twelve first, in its order, then the variants."""
    names = list(BENCHMARK_TASKS) + [name for name in SPECS if name not in BENCHMARK_TASKS]
    for name in names:
        spec = SPECS[name]
        task_id = f"karel/{name}"
        entry = TaskInfo(
            id=task_id,
            domain="karel",
            description=DESCRIPTIONS[name],
            synonyms=SYNONYMS.get(name, ()),
            grid=(spec.height, spec.width),
            default_budget=DEFAULT_BUDGET,
            benchmark=name in BENCHMARK_TASKS,
        )
        register(task_id, _factory_for(name), entry, replace=True)
