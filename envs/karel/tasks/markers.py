"""Tasks about placing or collecting markers.

FourCorners, TopOff, Harvester, CleanHouse (each dense or sparse), Seeder, PathFollow and
WallAvoider. Counts and their order of checks follow the reference's reward functions, since a
different order changes the benchmark's numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.karel.instances import Cell, KarelInstance, border_walls
from envs.karel.tasks.base import CRASH_PENALTY, Episode, KarelOptions, KarelTaskSpec
from envs.karel.world import Direction, KarelWorld

Layout = tuple[np.ndarray, np.ndarray, tuple[int, int, int], dict[str, Any]]


def _empty(h: int, w: int) -> np.ndarray:
    return np.zeros((h, w), dtype=np.int32)


def _collect_reward(
    sparse: bool, world: KarelWorld, episode: Episode, initial: int
) -> tuple[bool, float]:
    """Harvester/CleanHouse/PathFollow rule: pick every marker, never put one down."""
    total = world.total_markers()
    if sparse:
        # The reference's sparse variants never update ``previous``: it stays the initial count.
        if total > episode.previous:
            return True, CRASH_PENALTY
        return (True, 1.0) if total == 0 else (False, 0.0)
    reward = (episode.previous - total) / initial
    terminated = False
    if total > episode.previous:
        reward, terminated = CRASH_PENALTY, True
    elif total == 0:
        terminated = True
    episode.previous = total
    return terminated, reward


class FourCorners(KarelTaskSpec):
    """Put exactly one marker in each of the four corners of an empty 12x12 room.

    The agent starts on the bottom row facing east. A marker anywhere but a corner costs -1
    and ends the episode. Dense: +1/4 per newly marked corner. Extras: ``goals``.
    """

    names = {False: "FourCorners", True: "FourCornersSparse"}
    height = 12
    width = 12

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        col = int(rng.randint(2, w - 2))
        goals = ((1, 1), (h - 2, 1), (1, w - 2), (h - 2, w - 2))
        return border_walls(h, w), _empty(h, w), (h - 2, col, Direction.E), {"goals": goals}

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        total = world.total_markers()
        correct = sum(1 for cell in instance.extras["goals"] if world.markers[cell] > 0)
        if self.sparse:
            if total > correct:
                return True, CRASH_PENALTY
            return (True, 1.0) if correct == 4 else (False, 0.0)
        reward = (correct - episode.previous) / 4
        terminated = False
        if total > correct:
            reward, terminated = CRASH_PENALTY, True
        elif correct == 4:
            terminated = True
        episode.previous = correct
        return terminated, reward


class TopOff(KarelTaskSpec):
    """Add one marker on top of every marker of the bottom row, and nowhere else.

    The agent starts at the bottom-left corner facing east; n of the 9 cells to its right
    hold one marker. Emptying a marked cell or adding a marker elsewhere costs -1 and ends the
    episode. Dense: +1/n per cell topped off to exactly 2. Extras: ``targets`` (the n cells).
    """

    names = {False: "TopOff", True: "TopOffSparse"}
    height = 12
    width = 12

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        cells = [[h - 2, c] for c in range(2, w - 1)]
        rng.shuffle(cells)
        n = int(rng.randint(1, len(cells)))
        targets = tuple((r, c) for r, c in cells[:n])
        markers = _empty(h, w)
        for cell in targets:
            markers[cell] = 1
        return border_walls(h, w), markers, (h - 2, 1, Direction.E), {"targets": targets}

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        targets = instance.extras["targets"]
        correct = 0
        for cell in targets:
            count = world.markers[cell]
            if count == 2:
                correct += 1
            elif count == 0:
                return True, CRASH_PENALTY
        total = world.total_markers()
        n = len(targets)
        if self.sparse:
            reward, terminated = 0.0, False
            if total > correct + n:
                reward, terminated = CRASH_PENALTY, True
            if correct == n:
                reward, terminated = 1.0, True
            return terminated, reward
        reward = (correct - episode.previous) / n
        terminated = False
        if total > correct + n:
            reward, terminated = CRASH_PENALTY, True
        elif correct == n:
            terminated = True
        episode.previous = correct
        return terminated, reward


class Harvester(KarelTaskSpec):
    """Pick up every marker: each of the 36 inner cells of an 8x8 room holds one.

    The agent starts on the bottom row facing east. Putting a marker down costs -1 and ends
    the episode. Dense: +1/36 per marker picked. Extras: ``initial_markers``.
    """

    names = {False: "Harvester", True: "HarvesterSparse"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        col = int(rng.randint(2, w - 2))
        markers = _empty(h, w)
        markers[1 : h - 1, 1 : w - 1] = 1
        extras = {"initial_markers": (h - 2) * (w - 2)}
        return border_walls(h, w), markers, (h - 2, col, Direction.E), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(previous=instance.extras["initial_markers"])

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        return _collect_reward(self.sparse, world, episode, instance.extras["initial_markers"])


CLEAN_HOUSE_MAP = """
######################
#..##########.#......#
#..#..........#####.##
##.#................##
##........#.........##
###.#.###.#..###.#.###
#...#...#....#...#..##
#...#...#....#...#...#
#...#...#....#...##..#
#...#...##..##...##.##
#...#...##..##...#..##
#...#...##..##...#..##
#...#...##..##...#..##
######################
"""
_CLEAN_HOUSE_EXCLUDED = [(1, 13), (2, 12), (3, 10), (4, 11), (5, 11), (6, 10)]


class CleanHouse(KarelTaskSpec):
    """Pick up the 11 markers scattered along the walls of a fixed 14x22 house of rooms.

    The agent starts at row 1, column 13 facing south; one marker is always next to it at
    (2, 12), ten more are placed next to walls. Putting a marker down costs -1 and ends the
    episode. Dense: +1/11 per marker picked. Extras: ``initial_markers``.
    """

    names = {False: "CleanHouse", True: "CleanHouseSparse"}
    height = 14
    width = 22

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        rows = CLEAN_HOUSE_MAP.split()
        h, w = self.height, self.width
        walls = np.array([[ch == "#" for ch in row] for row in rows], dtype=bool)
        # The reference shuffles list(set) of int tuples: CPython's set order is part of the
        # benchmark, so the set is built with the same insertions, in the same order.
        candidates = set()
        for r in range(h):
            for c in range(w):
                if walls[r, c]:
                    if r - 1 > 0 and not walls[r - 1, c]:
                        candidates.add((r - 1, c))
                    if r + 1 < h - 1 and not walls[r + 1, c]:
                        candidates.add((r + 1, c))
                    if c - 1 > 0 and not walls[r, c - 1]:
                        candidates.add((r, c - 1))
                    if c + 1 < w - 1 and not walls[r, c + 1]:
                        candidates.add((r, c + 1))
        cells = list(candidates - set(_CLEAN_HOUSE_EXCLUDED))
        rng.shuffle(cells)
        markers = _empty(h, w)
        for cell in cells[:10]:
            markers[cell] = 1
        markers[2, 12] = 1
        extras = {"initial_markers": int(markers.sum())}
        return walls, markers, (1, 13, Direction.S), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(previous=instance.extras["initial_markers"])

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        return _collect_reward(self.sparse, world, episode, instance.extras["initial_markers"])


class Seeder(KarelTaskSpec):
    """Put exactly one marker on every one of the 36 inner cells of an empty 8x8 room.

    Two markers on a cell, or picking one up, costs -1 and ends the episode; +1/36 per
    marker placed. Extras: ``max_markers``.
    """

    names = {False: "Seeder"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        col = int(rng.randint(2, w - 2))
        row = int(rng.randint(1, h - 1))
        extras = {"max_markers": (h - 2) * (w - 2)}
        return border_walls(h, w), _empty(h, w), (row, col, Direction.E), extras

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        return _seed_reward(world, episode, instance.extras["max_markers"], illegal=None)


def _seed_reward(
    world: KarelWorld, episode: Episode, maximum: int, illegal: np.ndarray | None
) -> tuple[bool, float]:
    """Seeder/WallAvoider rule: one marker per allowed cell, never pick one up."""
    total = world.total_markers()
    reward = (total - episode.previous) / maximum
    terminated = False
    if illegal is not None and bool((world.markers[illegal] > 0).any()):
        reward, terminated = CRASH_PENALTY, True
    if bool((world.markers > 1).any()):
        reward, terminated = CRASH_PENALTY, True
    elif total < episode.previous:
        reward, terminated = CRASH_PENALTY, True
    elif total == maximum:
        terminated = True
    episode.previous = total
    return terminated, reward


class WallAvoider(KarelTaskSpec):
    """Put one marker on each cell that does not touch a wall, in a 8-row by 5-column room.

    The inner cells next to the border are illegal: a marker there, two markers on a cell,
    or picking one up costs -1 and ends the episode; +1/4 per marker on one of the 4 legal
    cells (column 2, rows 2..5). The start cell and facing are random; as in the reference
    the agent may start on the top or left border wall unless ``wall_avoider_offset_fix``.
    Extras: ``illegal`` (bool[H, W] mask), ``max_markers``.
    """

    names = {False: "WallAvoider"}
    height = 8
    width = 5

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        inner_h, inner_w = h - 2, w - 2
        s = int(rng.randint(0, 4 * inner_h * inner_w))
        offset = 1 if options.wall_avoider_offset_fix else 0
        col = s % inner_w + offset
        row = (s // inner_w) % inner_h + offset
        direction = s // (inner_h * inner_w)
        illegal = np.zeros((h, w), dtype=bool)
        illegal[1, 1 : w - 1] = illegal[h - 2, 1 : w - 1] = True
        illegal[1 : h - 1, 1] = illegal[1 : h - 1, w - 2] = True
        illegal.flags.writeable = False
        extras = {"illegal": illegal, "max_markers": (w - 4) * (h - 4)}
        return border_walls(h, w), _empty(h, w), (row, col, direction), extras

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        extras = instance.extras
        return _seed_reward(world, episode, extras["max_markers"], illegal=extras["illegal"])


class PathFollow(KarelTaskSpec):
    """Follow a trail of markers from the bottom-left corner, picking them all up.

    The agent starts at (H-2, 1) facing north; the trail is a random monotone staircase of
    5 steps up and 5 right, one marker per cell (11 with the start). Leaving the trail and
    its neighbouring cells, or putting a marker down, costs -1 and ends the episode;
    +1/11 per marker picked. Extras: ``path`` (0 = up, 1 = right), ``legal`` (frozenset of
    cells), ``initial_markers``.
    """

    names = {False: "PathFollow"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        path = [0] * (h - 3) + [1] * (w - 3)
        rng.shuffle(path)
        cell: Cell = (h - 2, 1)
        cells = [cell]
        for step in path:
            cell = (cell[0] - 1, cell[1]) if step == 0 else (cell[0], cell[1] + 1)
            cells.append(cell)
        markers = _empty(h, w)
        legal: set[Cell] = set()
        for r, c in cells:
            markers[r, c] = 1
            legal.update({(r, c), (r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)})
        extras = {
            "path": tuple(int(p) for p in path),
            "legal": frozenset(legal),
            "initial_markers": h + w - 5,
        }
        return border_walls(h, w), markers, (h - 2, 1, Direction.N), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(previous=instance.extras["initial_markers"])

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        extras = instance.extras
        terminated, reward = _collect_reward(False, world, episode, extras["initial_markers"])
        if (world.row, world.col) not in extras["legal"]:
            return True, CRASH_PENALTY
        return terminated, reward
