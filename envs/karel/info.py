"""What each Karel task asks: its spec, read from ``info.yaml`` (the one source of its text).

Light data for the registry, prompts and task matching; it imports nothing heavy. The
descriptions say what the code really does (the reference prompts differ on two points:
MazeSparse has a fixed start, and OneStroke does not end when the agent touches its trail).
"""

from __future__ import annotations

from envs.spec import TaskSpec, load_specs

#: Spec of every Karel task by name, without grid, benchmark flag or factory (the registration
#: in :func:`envs.karel.register_tasks` adds them from the task rules).
TASK_SPECS: dict[str, TaskSpec] = load_specs("envs.karel")

#: The paper's search budget for the Karel tasks (max_program_nums = 1e6).
DEFAULT_BUDGET = 1_000_000

#: Description by task name (the :class:`~envs.karel.task.KarelTask` default).
DESCRIPTIONS: dict[str, str] = {name: spec.description for name, spec in TASK_SPECS.items()}
