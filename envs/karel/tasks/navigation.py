"""Tasks about reaching a cell: StairClimber and Maze (dense and sparse)."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.karel.instances import KarelInstance, border_walls
from envs.karel.tasks.base import CRASH_PENALTY, Episode, KarelOptions, KarelTaskSpec
from envs.karel.world import Direction, KarelWorld


def _distance(world: KarelWorld, goal: tuple[int, int]) -> int:
    return abs(world.row - goal[0]) + abs(world.col - goal[1])


class StairClimber(KarelTaskSpec):
    """Climb a diagonal staircase to the marker without leaving it.

    The stairs run from the bottom-left to the top-right; the agent starts on one step and
    the marker lies on a higher one. Leaving the stairs (the steps and the cell above each)
    costs -1 and ends the episode. Sparse: +1 on reaching the marker. Dense: at each step the
    reduction of the Manhattan distance to the marker over the initial distance.
    Extras: ``goal`` (marker cell), ``valid`` (frozenset of allowed cells),
    ``initial_distance``.
    """

    names = {False: "StairClimber", True: "StairClimberSparse"}
    height = 12
    width = 12

    def layout(
        self, rng: np.random.RandomState, options: KarelOptions
    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int], dict[str, Any]]:
        h, w = self.height, self.width
        walls = border_walls(h, w)
        for i in range(1, w - 2):
            walls[h - 1 - i, i + 1] = walls[h - 1 - i, i + 2] = True
        stairs = [(h - 1 - i, i) for i in range(1, w - 1)]
        above = [(h - 2 - i, i) for i in range(1, w - 2)]
        start = int(rng.randint(0, len(stairs) - 1))
        goal_index = int(rng.randint(start + 1, len(stairs)))
        agent, goal = stairs[start], stairs[goal_index]
        markers = np.zeros((h, w), dtype=np.int32)
        markers[goal] = 1
        extras = {
            "goal": goal,
            "valid": frozenset(stairs + above),
            "initial_distance": abs(agent[0] - goal[0]) + abs(agent[1] - goal[1]),
        }
        return walls, markers, (agent[0], agent[1], Direction.E), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(previous=instance.extras["initial_distance"])

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        goal = instance.extras["goal"]
        at_goal = (world.row, world.col) == goal
        valid = (world.row, world.col) in instance.extras["valid"]
        if self.sparse:
            if at_goal:
                return True, 1.0
            return (False, 0.0) if valid else (True, CRASH_PENALTY)
        distance = _distance(world, goal)
        reward = (episode.previous - distance) / instance.extras["initial_distance"]
        episode.previous = distance
        terminated = False
        if not valid:
            reward, terminated = CRASH_PENALTY, True
        return terminated or at_goal, reward


class Maze(KarelTaskSpec):
    """Find the marker in a random 3x3-cell maze from the fixed bottom-left start.

    The maze is carved depth-first from the start cell (row H-2, column 1, facing east);
    the marker lies on a random open cell. Sparse: +1 on reaching the marker. Dense: the
    reduction of the Manhattan distance over the initial distance at each step.
    Extras: ``goal``, ``initial_distance``.
    """

    names = {False: "Maze", True: "MazeSparse"}

    def layout(
        self, rng: np.random.RandomState, options: KarelOptions
    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int], dict[str, Any]]:
        h, w = self.height, self.width
        walls = np.ones((h, w), dtype=bool)
        start = [h - 2, 1]
        walls[start[0], start[1]] = False
        visited = np.zeros((h, w), dtype=bool)
        visited[start[0], start[1]] = True
        stack = [start]
        while stack:
            r, c = stack.pop()
            # Candidate order (up, down, left, right) and list-of-lists type matter: they
            # fix what rng.shuffle does with the draws.
            neighbours = []
            if r - 2 > 0:
                neighbours.append([r - 2, c])
            if r + 2 < h - 1:
                neighbours.append([r + 2, c])
            if c - 2 > 0:
                neighbours.append([r, c - 2])
            if c + 2 < w - 1:
                neighbours.append([r, c + 2])
            rng.shuffle(neighbours)
            for nr, nc in neighbours:
                if not visited[nr, nc]:
                    visited[nr, nc] = True
                    walls[(r + nr) // 2, (c + nc) // 2] = False
                    walls[nr, nc] = False
                    stack.append([nr, nc])
        while True:
            goal = (int(rng.randint(1, h - 1)), int(rng.randint(1, w - 1)))
            if not walls[goal] and goal != (start[0], start[1]):
                break
        markers = np.zeros((h, w), dtype=np.int32)
        markers[goal] = 1
        extras = {
            "goal": goal,
            "initial_distance": abs(start[0] - goal[0]) + abs(start[1] - goal[1]),
        }
        return walls, markers, (start[0], start[1], Direction.E), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(previous=instance.extras["initial_distance"])

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        goal = instance.extras["goal"]
        at_goal = (world.row, world.col) == goal
        if self.sparse:
            return (True, 1.0) if at_goal else (False, 0.0)
        distance = _distance(world, goal)
        reward = (episode.previous - distance) / instance.extras["initial_distance"]
        episode.previous = distance
        return at_goal, reward
