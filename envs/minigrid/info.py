"""What the three Minigrid tasks ask: their specs, read from ``info.yaml`` (the one source).

This module does not import ``minigrid``, so listing tasks stays fast.
"""

from __future__ import annotations

from envs.spec import TaskSpec, load_specs

#: Spec of every Minigrid task by name, without factory (:func:`envs.minigrid.register_tasks`
#: adds it).
TASK_INFO: dict[str, TaskSpec] = load_specs("envs.minigrid")

#: The paper's search budget for the Minigrid tasks (max_program_nums = 1e4).
DEFAULT_BUDGET = 10_000
