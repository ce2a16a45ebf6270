"""Environments, the DSL, tasks, rollouts and rendering.

The front door is the task registry::

    import envs
    task = envs.make("karel/DoorKey")          # 32 instances, seeds 0..31
    task.evaluate("DEF run m( move m)")       # the benchmark score
    [t.id for t in envs.tasks()]               # every registered task
"""

from envs.registry import TaskInfo, info, make, register, tasks, unregister
from envs.task import Rollout, Task, TraceStep

__all__ = [
    "Rollout", "Task", "TaskInfo", "TraceStep", "info", "make", "register", "tasks", "unregister",
]  # fmt: skip
