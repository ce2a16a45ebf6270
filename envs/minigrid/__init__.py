"""The three Minigrid tasks of LLM-GS (LavaGap, PutNear, RedBlueDoor) on the real minigrid package.

``minigrid`` (and through it gymnasium and pygame) is imported only when a task is built, so
``import envs`` and task listings stay fast; :data:`TASK_INFO` needs no import at all.

Example:
    >>> from envs.minigrid import MinigridTask
    >>> MinigridTask("RedBlueDoor", n=2).returns("DEF run m( toggle m)")
    [0.0, 0.0]
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

from envs.errors import ConfigError
from envs.minigrid.info import DEFAULT_BUDGET, TASK_INFO
from envs.registry import TaskFactory, register

if TYPE_CHECKING:
    from envs.minigrid.task import MinigridTask

_LAZY = {
    "MinigridTask": "envs.minigrid.task",
    "MinigridConfig": "envs.minigrid.executor",
    "CompiledProgram": "envs.minigrid.executor",
    "CompiledMinigridEvaluator": "envs.minigrid.compiled",
    "render_rollout": "envs.minigrid.render",
    "save_frames": "envs.minigrid.render",
    "minigrid_bench": "envs.minigrid.bench",
}

__all__ = ["DEFAULT_BUDGET", "TASK_INFO", "make", "register_tasks", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'envs.minigrid' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def make(name: str, n: int = 32, seed: int = 0, **options: Any) -> MinigridTask:
    """Build ``minigrid/<Name>`` (or ``<Name>``) with n instances seeded ``seed + i``.

    Args:
        name: ``"LavaGap"``, ``"PutNear"`` or ``"RedBlueDoor"``, with or without ``minigrid/``.
        n: Number of instances.
        seed: Seed of instance 0.
        **options: Fields of :class:`~envs.minigrid.executor.MinigridConfig`: ``max_calls``
            (1000), ``crash_penalty`` (0.0), ``crashable`` (False).

    Raises:
        TaskNotFound: Unknown task name.
        ConfigError: ``n < 1``, a negative seed, or an unknown option.
    """
    from envs.minigrid.executor import MinigridConfig
    from envs.minigrid.task import MinigridTask

    known = {f.name for f in dataclasses.fields(MinigridConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        known_list = ", ".join(sorted(known))
        raise ConfigError(f"unknown Minigrid option(s) {unknown}; known: {known_list}")
    return MinigridTask(name, n=n, seed=seed, config=MinigridConfig(**options))


def register_tasks() -> None:
    """Register ``minigrid/LavaGap``, ``minigrid/PutNear`` and ``minigrid/RedBlueDoor``.

    Their specs come from ``info.yaml``; ``envs/__init__.py`` names this module with
    :func:`envs.add_task_module`, so the registry calls this the first time it is used.
    """

    def factory_for(name: str) -> TaskFactory:
        def factory(n: int = 32, seed: int = 0, **options: Any) -> MinigridTask:
            return make(name, n=n, seed=seed, **options)

        return factory

    for name, spec in TASK_INFO.items():
        register(dataclasses.replace(spec, factory=factory_for(name)), replace=True)
