"""The shape every Karel task shares: seeded generation plus a per-step reward rule.

A :class:`KarelTaskSpec` is stateless. :meth:`~KarelTaskSpec.generate` turns a seed into a
:class:`~envs.karel.instances.KarelInstance`; :meth:`~KarelTaskSpec.start` opens the explicit
per-episode bookkeeping (:class:`Episode`); :meth:`~KarelTaskSpec.reward` is called after every
executed action and returns ``(terminated, reward)``, as the reference's ``get_reward`` does,
but with its bookkeeping in the episode object instead of on the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from envs.errors import ConfigError
from envs.karel.instances import Cell, KarelInstance, make_instance
from envs.karel.world import KarelWorld

CRASH_PENALTY = -1.0
"""The reference's ``BaseTask.crash_penalty``: the only negative reward a Karel task gives."""


@dataclass(frozen=True, slots=True)
class KarelOptions:
    """Environment flags and opt-in fixes of reference bugs (spec/benchmark.md §9-10).

    The defaults reproduce the published benchmark exactly.

    Attributes:
        crashable: Blocked moves and impossible marker actions crash the world.
        leaps_behaviour: A blocked move turns the agent around (180°).
        max_calls: Budget of actions plus perceptions per episode.
        penalize_crash: Add the crash penalty (-1) to the return of an episode that ends
            because the world crashed (a repeating WHILE loop or the call budget) rather than
            by the task's rules. The reference ends such episodes silently.
        wall_avoider_offset_fix: Start the WallAvoider agent inside the border (the reference
            forgets the +1 offset, so e.g. instance 1 starts on the top wall).
    """

    crashable: bool = False
    leaps_behaviour: bool = True
    max_calls: int = 10000
    penalize_crash: bool = False
    wall_avoider_offset_fix: bool = False


@dataclass(slots=True)
class Episode:
    """Mutable bookkeeping of one episode; a fresh one is made at every reset.

    Attributes:
        previous: The last count the reward compares with (markers, correct cells or
            distance, depending on the task).
        locked: DoorKey: whether the door is still closed.
        last_cell: OneStroke: the agent's cell after the previous action.
        visited: OneStroke: cells left so far.
        body: Snake: the body cells, tail first.
        body_size: Snake: the body length the snake is allowed.
        food: Snake: the food cell.
        rng: Snake: the task RNG, re-created from the instance seed at reset.
    """

    previous: int = 0
    locked: bool = True
    last_cell: Cell = (0, 0)
    visited: int = 0
    body: list[Cell] = field(default_factory=list)
    body_size: int = 0
    food: Cell = (0, 0)
    rng: np.random.RandomState | None = None


class KarelTaskSpec:
    """A Karel task: grid size, seeded generation and the reward rule.

    Args:
        sparse: The sparse variant (+1 only at success), for tasks that have one.

    Raises:
        ConfigError: ``sparse`` is True for a task that has no sparse variant.

    Attributes:
        names: Benchmark name of the dense (key False) and sparse (key True) variants.
        height: Grid rows.
        width: Grid columns.
    """

    names: ClassVar[dict[bool, str]]
    height: ClassVar[int] = 8
    width: ClassVar[int] = 8

    def __init__(self, sparse: bool = False) -> None:
        if sparse not in self.names:
            raise ConfigError(f"{type(self).__name__} has no sparse variant")
        self.sparse = sparse

    @property
    def name(self) -> str:
        """Benchmark name of this variant, e.g. ``"MazeSparse"``."""
        return self.names[self.sparse]

    def generate(self, seed: int, options: KarelOptions) -> KarelInstance:
        """Instance ``seed``, drawn from ``np.random.RandomState(seed)`` in reference order."""
        rng = np.random.RandomState(seed)
        walls, markers, agent, extras = self.layout(rng, options)
        return make_instance(seed, walls, markers, agent, extras, self.episode_rng_state(seed))

    def layout(
        self, rng: np.random.RandomState, options: KarelOptions
    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int], dict[str, Any]]:
        """Walls, markers, agent ``(row, col, dir)`` and extras of one instance."""
        raise NotImplementedError

    def episode_rng_state(self, seed: int) -> tuple[Any, ...] | None:
        """State of the RNG an episode starts with, for tasks that draw during episodes."""
        return None

    def start(self, instance: KarelInstance) -> Episode:
        """Fresh bookkeeping for an episode on ``instance``."""
        return Episode()

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        """``(terminated, reward)`` after one executed action; may edit ``world``."""
        raise NotImplementedError

    def world(self, instance: KarelInstance, options: KarelOptions) -> KarelWorld:
        """A fresh world in the instance's initial state."""
        return KarelWorld(
            instance.walls,
            instance.markers,
            instance.agent,
            crashable=options.crashable,
            leaps_behaviour=options.leaps_behaviour,
            max_calls=options.max_calls,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
