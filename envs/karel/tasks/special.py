"""Tasks whose reward edits the world: DoorKey, OneStroke and Snake."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from envs.karel.instances import KarelInstance, border_walls
from envs.karel.tasks.base import CRASH_PENALTY, Episode, KarelOptions, KarelTaskSpec
from envs.karel.world import Direction, KarelWorld

Layout = tuple[np.ndarray, np.ndarray, tuple[int, int, int], dict[str, Any]]


class DoorKey(KarelTaskSpec):
    """Pick up the key to open the door, then put it on the goal marker in the other room.

    A wall column splits the 8x8 grid into two rooms; its cells (2, 4) and (3, 4) are a door,
    closed until the key marker (left room) is picked up (+0.5, the door cells stop being
    walls). Then putting a marker on the goal marker (right room) gives +0.5 and ends the
    episode. Any other marker change costs -1 and ends it. Extras: ``key``, ``goal``,
    ``door`` (the two door cells).
    """

    names = {False: "DoorKey"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        walls = border_walls(h, w)
        wall_col = math.ceil(w / 2)
        walls[:, wall_col] = True
        key = (int(rng.randint(1, h - 1)), int(rng.randint(1, wall_col)))
        goal = (int(rng.randint(1, h - 1)), int(rng.randint(wall_col + 1, w - 1)))
        markers = np.zeros((h, w), dtype=np.int32)
        markers[key] = 1
        markers[goal] = 1
        while True:
            agent = (int(rng.randint(1, h - 1)), int(rng.randint(1, wall_col)))
            if markers[agent] != 1:
                break
        extras = {"key": key, "goal": goal, "door": ((2, wall_col), (3, wall_col))}
        return walls, markers, (agent[0], agent[1], Direction.E), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(locked=True)

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        extras = instance.extras
        total = world.total_markers()
        if episode.locked:
            if total > 2:
                return True, CRASH_PENALTY
            if world.markers[extras["key"]] == 0:
                episode.locked = False
                for cell in extras["door"]:
                    world.walls[cell] = False
                return False, 0.5
            return False, 0.0
        if total > 1:
            if world.markers[extras["goal"]] == 2:
                return True, 0.5
            return True, CRASH_PENALTY
        if total == 0:
            return True, CRASH_PENALTY
        return False, 0.0


class OneStroke(KarelTaskSpec):
    """Visit as many cells of an empty 8x8 room as possible without crossing your own path.

    Every cell the agent leaves becomes a wall; +1/35 per new cell, and the episode ends
    after 35 moves. Walking into the trail is a blocked move (the agent turns around); it
    does not end the episode. Extras: ``max_cells`` (35).
    """

    names = {False: "OneStroke"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        col = int(rng.randint(1, w - 1))
        row = int(rng.randint(1, h - 1))
        markers = np.zeros((h, w), dtype=np.int32)
        extras = {"max_cells": (w - 2) * (h - 2) - 1}
        return border_walls(h, w), markers, (row, col, Direction.E), extras

    def start(self, instance: KarelInstance) -> Episode:
        return Episode(last_cell=(instance.agent[0], instance.agent[1]), visited=0)

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        cell = (world.row, world.col)
        reward = 0.0
        if cell != episode.last_cell:
            episode.visited += 1
            reward = 1.0 / instance.extras["max_cells"]
            world.walls[episode.last_cell] = True
        episode.last_cell = cell
        return episode.visited == instance.extras["max_cells"], reward


class Snake(KarelTaskSpec):
    """Eat the food marker 20 times without running into the snake's own body.

    The agent is the head of a snake that starts 2 cells long and grows by one per food
    eaten (+1/20 each); the body cells carry markers. A new food marker appears on a free
    cell drawn from the task RNG, which LLM-GS re-creates as ``RandomState(seed)`` at every
    reset. Running into the body costs -1 and ends the episode. Extras: ``food`` (the first
    food cell), ``initial_body_size``.
    """

    names = {False: "Snake"}

    def layout(self, rng: np.random.RandomState, options: KarelOptions) -> Layout:
        h, w = self.height, self.width
        col = int(rng.randint(2, w - 2))
        row = int(rng.randint(1, h - 1))
        while True:
            food = (int(rng.randint(1, h - 1)), int(rng.randint(1, w - 1)))
            if food != (row, col):
                break
        markers = np.zeros((h, w), dtype=np.int32)
        markers[food] = 1
        extras = {"food": food, "initial_body_size": 2}
        return border_walls(h, w), markers, (row, col, Direction.E), extras

    def episode_rng_state(self, seed: int) -> tuple[Any, ...] | None:
        return np.random.RandomState(seed).get_state()

    def start(self, instance: KarelInstance) -> Episode:
        rng = np.random.RandomState()
        rng.set_state(instance.rng_state)
        return Episode(
            body=[(instance.agent[0], instance.agent[1])],
            body_size=instance.extras["initial_body_size"],
            food=instance.extras["food"],
            rng=rng,
        )

    def reward(
        self, world: KarelWorld, episode: Episode, instance: KarelInstance
    ) -> tuple[bool, float]:
        head = (world.row, world.col)
        terminated, reward = False, 0.0
        if head == episode.food:
            episode.body_size += 1
            world.pick_marker_at(*head)
            reward = 1 / 20
            if episode.body_size == 20 + instance.extras["initial_body_size"]:
                terminated = True
            else:
                episode.food = self._draw_food(world, episode)
                world.put_marker_at(*episode.food)
        last = episode.body[-1]
        if head in episode.body[:-1]:
            return True, CRASH_PENALTY
        if head != last:
            world.put_marker_at(*last)
            episode.body.append(head)
            if len(episode.body) > episode.body_size:
                world.pick_marker_at(*episode.body.pop(0))
        return terminated, reward

    @staticmethod
    def _draw_food(world: KarelWorld, episode: Episode) -> tuple[int, int]:
        h, w = world.shape
        rng = episode.rng
        while True:
            cell = (int(rng.randint(1, h - 1)), int(rng.randint(1, w - 1)))
            free = not world.walls[cell] and cell != (world.row, world.col)
            if free and cell not in episode.body:
                return cell
