"""The Karel tasks of the benchmark (spec/benchmark.md §4), by name.

``SPECS`` maps every benchmark name (the 12 used by LLM-GS plus the unused dense/sparse
variants) to a stateless :class:`~envs.karel.tasks.base.KarelTaskSpec`.
"""

from __future__ import annotations

from envs.karel.tasks.base import CRASH_PENALTY, Episode, KarelOptions, KarelTaskSpec
from envs.karel.tasks.markers import (
    CleanHouse,
    FourCorners,
    Harvester,
    PathFollow,
    Seeder,
    TopOff,
    WallAvoider,
)
from envs.karel.tasks.navigation import Maze, StairClimber
from envs.karel.tasks.special import DoorKey, OneStroke, Snake

#: The twelve tasks LLM-GS reports, in the paper's order.
BENCHMARK_TASKS: tuple[str, ...] = (
    "StairClimberSparse", "MazeSparse", "FourCorners", "TopOff", "Harvester", "CleanHouse",
    "DoorKey", "OneStroke", "Seeder", "Snake", "PathFollow", "WallAvoider",
)  # fmt: skip


def _all_specs() -> dict[str, KarelTaskSpec]:
    specs: dict[str, KarelTaskSpec] = {}
    for cls in (
        StairClimber, Maze, FourCorners, TopOff, Harvester, CleanHouse,
        DoorKey, OneStroke, Seeder, Snake, PathFollow, WallAvoider,
    ):  # fmt: skip
        for sparse in cls.names:
            spec = cls(sparse=sparse)
            specs[spec.name] = spec
    return specs


SPECS: dict[str, KarelTaskSpec] = _all_specs()

__all__ = [
    "BENCHMARK_TASKS", "CRASH_PENALTY", "CleanHouse", "DoorKey", "Episode", "FourCorners",
    "Harvester", "KarelOptions", "KarelTaskSpec", "Maze", "OneStroke", "PathFollow", "SPECS",
    "Seeder", "Snake", "StairClimber", "TopOff", "WallAvoider",
]  # fmt: skip
