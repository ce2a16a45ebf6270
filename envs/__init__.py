"""Environments, the DSL, tasks, rollouts and rendering.

The front door is the task registry::

    import envs
    task = envs.make("karel/DoorKey")          # 32 instances, seeds 0..31
    task.evaluate("DEF run m( move m)")       # the benchmark score
    [t.id for t in envs.tasks()]               # every registered task's spec
    envs.check_task("karel/DoorKey")           # a task keeps the Task contract

The error hierarchy (:mod:`envs.errors`, every class derived from :class:`LlmgsError`) is
exported here too, for the layers above: ``from envs import ConfigError``.
"""

from envs.checker import check_task
from envs.errors import (
    BudgetExceeded,
    CacheMiss,
    ConfigError,
    ConversionError,
    DSLSyntaxError,
    LLMError,
    LlmgsError,
    ModelIntegrityError,
    ProgramRuntimeError,
    TaskContractError,
    TaskNotFound,
)
from envs.registry import (
    PromptText,
    TaskInfo,
    TaskSpec,
    add_task_module,
    info,
    make,
    register,
    tasks,
    unregister,
)
from envs.task import Rollout, Task, TraceStep

# The built-in domains register their tasks as a user's module does: each module's
# register_tasks() runs the first time the registry is used, Karel's first (listing order).
add_task_module("envs.karel")
add_task_module("envs.minigrid")

__all__ = [
    "BudgetExceeded", "CacheMiss", "ConfigError", "ConversionError", "DSLSyntaxError", "LLMError",
    "LlmgsError", "ModelIntegrityError", "ProgramRuntimeError", "PromptText", "Rollout", "Task",
    "TaskContractError", "TaskInfo", "TaskNotFound", "TaskSpec", "TraceStep", "add_task_module",
    "check_task", "info", "make", "register", "tasks", "unregister",
]  # fmt: skip
