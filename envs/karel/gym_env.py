"""Gymnasium environments for the Karel tasks, for step-by-step RL baselines.

Importing this module registers ``llmgs/Karel-<Name>-v0`` for every Karel task, so either::

    import gymnasium as gym
    import envs.karel.gym_env  # noqa: F401  (registers the ids)
    env = gym.make("llmgs/Karel-DoorKey-v0")

or, without the import, ``gym.make("envs.karel.gym_env:llmgs/Karel-DoorKey-v0")``.

Description:
    One of the benchmark's Karel tasks. Each ``reset`` picks one of the task's n seeded
    instances (uniformly from the env's RNG, or ``options={"instance": i}``).
Action Space:
    ``Discrete(5)``: 0 move, 1 turnLeft, 2 turnRight, 3 pickMarker, 4 putMarker.
Observation Space:
    ``Box(0, 1, (16, H, W), bool)``: the benchmark's state tensor (channels in
    :class:`envs.karel.world.Channel`).
Rewards:
    The task's reward rule after each action, exactly as in program evaluation.
Termination:
    ``terminated`` when the task's rule says so; ``truncated`` after ``max_steps`` actions or
    when the call budget (one call per action) is spent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.karel.interpreter import ACTIONS
from envs.karel.tasks import SPECS
from envs.karel.world import NUM_CHANNELS, KarelWorld

ACTION_NAMES: tuple[str, ...] = ("move", "turnLeft", "turnRight", "pickMarker", "putMarker")


class KarelGymEnv(gym.Env):
    """A Karel task as a :class:`gymnasium.Env` (see the module docstring).

    Args:
        task: Benchmark name, e.g. ``"DoorKey"``.
        n: Number of seeded instances to draw from.
        seed: Seed of instance 0.
        max_steps: Actions per episode before truncation.
        render_mode: ``"ansi"`` (text) or ``"rgb_array"`` (an image), or None.
        **options: :class:`~envs.karel.KarelOptions` fields.

    Raises:
        TaskNotFound: An unknown task name.
        ConfigError: An invalid option.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        task: str = "DoorKey",
        n: int = 32,
        seed: int = 0,
        max_steps: int = 1000,
        render_mode: str | None = None,
        **options: Any,
    ) -> None:
        from envs.karel.task import KarelOptions, KarelTask

        self.task = KarelTask(task, n, seed, options=KarelOptions(**options), engine="python")
        h, w = self.task.grid
        self.observation_space = spaces.Box(0, 1, (NUM_CHANNELS, h, w), dtype=bool)
        self.action_space = spaces.Discrete(len(ACTION_NAMES))
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.instance = 0
        self.steps = 0
        self.world: KarelWorld = self.task.initial_world(0)
        self._episode = self.task.spec.start(self.task.instances[0])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options is not None and "instance" in options:
            self.instance = int(options["instance"])
        else:
            self.instance = int(self.np_random.integers(self.task.n))
        self.world = self.task.initial_world(self.instance)
        self._episode = self.task.spec.start(self.task.instances[self.instance])
        self.steps = 0
        return self.world.to_tensor(), {"instance": self.instance}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in 0..{len(ACTION_NAMES) - 1}, got {action!r}")
        world = self.world
        world.count_call()
        ACTIONS[ACTION_NAMES[int(action)]](world)
        terminated, reward = self.task.spec.reward(
            world, self._episode, self.task.instances[self.instance]
        )
        self.steps += 1
        truncated = not terminated and (self.steps >= self.max_steps or world.crashed)
        info = {"instance": self.instance, "calls": world.calls, "crashed": world.crashed}
        return world.to_tensor(), float(reward), bool(terminated), bool(truncated), info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return self.world.to_string() + "\n"
        if self.render_mode == "rgb_array":
            from envs.karel.render import to_image

            return np.asarray(to_image(self.world))
        return None


def gym_id(name: str) -> str:
    """Gymnasium id of a Karel task, e.g. ``"llmgs/Karel-DoorKey-v0"``."""
    return f"llmgs/Karel-{name}-v0"


def register_gym_envs() -> None:
    """Register every Karel task with gymnasium (idempotent)."""
    for name in SPECS:
        if gym_id(name) not in gym.registry:
            gym.register(
                id=gym_id(name),
                entry_point="envs.karel.gym_env:KarelGymEnv",
                kwargs={"task": name},
            )


register_gym_envs()
