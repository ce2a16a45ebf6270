"""Environments, the DSL, tasks, rollouts and rendering.

The front door is the task registry::

    import envs
    task = envs.make("karel/DoorKey")          # 32 instances, seeds 0..31
    task.evaluate("DEF run m( move m)")       # the benchmark score
    [t.id for t in envs.tasks()]               # every registered task
    envs.check_task("karel/DoorKey")           # a task keeps the Task contract
"""

from envs.checker import check_task
from envs.registry import TaskInfo, info, make, register, tasks, unregister
from envs.task import Rollout, Task, TraceStep

__all__ = [
    "Rollout", "Task", "TaskInfo", "TraceStep", "check_task", "info", "make", "register", "tasks",
    "unregister",
]  # fmt: skip
