"""The Karel world and its tasks (spec/benchmark.md §1-4).

- :class:`KarelWorld` (``world``): state, actions, perceptions, text and tensor forms.
- :mod:`envs.karel.tasks`: the task rules (generation and rewards); ``SPECS`` by name.
- :class:`KarelTask` (``task``): n seeded instances, scoring and rollouts.
- :func:`run_program` (``interpreter``): the exact reference interpreter.
"""

from envs.karel.instances import KarelInstance
from envs.karel.interpreter import RunResult, run_program
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS, CRASH_PENALTY, SPECS, KarelOptions
from envs.karel.world import Channel, Direction, KarelWorld

__all__ = [
    "BENCHMARK_TASKS", "CRASH_PENALTY", "Channel", "Direction", "KarelInstance", "KarelOptions",
    "KarelTask", "KarelWorld", "RunResult", "SPECS", "run_program",
]  # fmt: skip
