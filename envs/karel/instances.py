"""Seeded initial states of the Karel tasks (spec/benchmark.md §4).

Every task turns a numpy legacy ``RandomState(seed)`` into a :class:`KarelInstance`: the walls,
the marker grid, the agent and the task-specific cells its reward needs. The draws follow the
reference exactly (order included), so instances 0..31 equal the shipped
``karel_instances.json`` bit for bit. Generation lives in the task modules
(:mod:`envs.karel.tasks`); this module holds the record and the small helpers they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

Cell = tuple[int, int]

#: Names of the agent's facings, indexed by direction (N=0, E=1, S=2, W=3).
FACINGS = ("N", "E", "S", "W")


@dataclass(frozen=True, slots=True, eq=False)
class KarelInstance:
    """The initial state of one instance of a Karel task.

    Arrays are read-only; copy them before changing anything.

    Attributes:
        seed: The ``RandomState`` seed the instance was generated from.
        walls: ``bool[H, W]``, True on wall cells.
        markers: ``int32[H, W]``, marker counts 0..10.
        agent: ``(row, col, direction)`` with direction N=0, E=1, S=2, W=3.
        extras: Task-specific read-only data for the reward (keys listed per task in
            :mod:`envs.karel.task`), e.g. ``{"key": (5, 2), "goal": (1, 6), ...}`` for DoorKey.
        rng_state: ``RandomState.get_state()`` right after generation, for tasks that keep
            drawing during episodes (Snake); None for the others.
    """

    seed: int
    walls: np.ndarray
    markers: np.ndarray
    agent: tuple[int, int, int]
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    rng_state: tuple[Any, ...] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the grid."""
        return (int(self.walls.shape[0]), int(self.walls.shape[1]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form in the layout of ``karel_instances.json``."""
        h, w = self.shape
        return {
            "seed": self.seed,
            "height": h,
            "width": w,
            "walls": [[int(r), int(c)] for r, c in zip(*np.nonzero(self.walls), strict=True)],
            "agent": [self.agent[0], self.agent[1], FACINGS[self.agent[2]]],
            "markers": [
                [int(r), int(c), int(self.markers[r, c])]
                for r, c in zip(*np.nonzero(self.markers), strict=True)
            ],
        }


def make_instance(
    seed: int,
    walls: np.ndarray,
    markers: np.ndarray,
    agent: tuple[int, int, int],
    extras: Mapping[str, Any] | None = None,
    rng_state: tuple[Any, ...] | None = None,
) -> KarelInstance:
    """Freeze arrays and extras into a :class:`KarelInstance`."""
    walls = np.array(walls, dtype=bool)
    markers = np.array(markers, dtype=np.int32)
    walls.flags.writeable = False
    markers.flags.writeable = False
    return KarelInstance(
        seed=seed,
        walls=walls,
        markers=markers,
        agent=(int(agent[0]), int(agent[1]), int(agent[2])),
        extras=MappingProxyType(dict(extras or {})),
        rng_state=rng_state,
    )


def border_walls(height: int, width: int) -> np.ndarray:
    """A ``bool[H, W]`` grid whose outer ring is wall."""
    walls = np.zeros((height, width), dtype=bool)
    walls[0, :] = walls[-1, :] = True
    walls[:, 0] = walls[:, -1] = True
    return walls
