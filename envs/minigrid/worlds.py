"""The three Minigrid worlds of LLM-GS, built on minigrid's own environments.

Each world subclasses the matching ``minigrid`` environment and changes only what the benchmark
changes (spec/benchmark.md §5): the reward rules (by overriding ``step`` and calling minigrid's
own ``MiniGridEnv.step`` for the dynamics) and, for PutNear, the layout (a ball to move and a box
to put it near, instead of random types).

Two additions make evaluation cheap without changing any dynamics:

* ``observe``: when False (the default here), ``step`` runs minigrid's rules on plain ints and
  returns an empty observation instead of rendering the agent's egocentric view (about 95% of
  the cost of ``MiniGridEnv.step``); a program never reads observations. With ``observe`` set,
  ``step`` is ``MiniGridEnv.step`` itself, and a test checks that both agree step for step.
* :meth:`MinigridWorld.snapshot` / :meth:`MinigridWorld.restore`: an instance is generated once
  with ``reset(seed=i)`` (exactly as the reference does on every evaluation) and afterwards
  restored from its snapshot (a list copy plus a few attribute writes) instead of regenerating
  the grid and re-seeding the RNG.

Instance draws: minigrid 3.2.0 and 2.5.0 (the fork's pin) have identical ``_gen_grid``,
``place_obj``, ``place_agent`` and ``_rand_int`` code for these three environments, and
gymnasium 1.x seeds ``np_random`` exactly as 0.29 does (``SeedSequence(seed)`` into ``PCG64``),
so instance i is the same grid in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from minigrid.core.actions import Actions
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Box, Door, WorldObj
from minigrid.envs.lavagap import LavaGapEnv
from minigrid.envs.putnear import PutNearEnv
from minigrid.envs.redbluedoors import RedBlueDoorEnv
from minigrid.minigrid_env import MiniGridEnv

#: Minigrid direction index -> compass letter used in traces (0 = east, x grows to the right,
#: y grows downwards).
FACING = ("E", "S", "W", "N")
#: Minigrid direction index -> (dx, dy).
DIR_VEC = ((1, 0), (0, 1), (-1, 0), (0, -1))
_LEFT, _RIGHT, _FORWARD = int(Actions.left), int(Actions.right), int(Actions.forward)
_PICKUP, _DROP, _TOGGLE = int(Actions.pickup), int(Actions.drop), int(Actions.toggle)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything needed to put a world back into one instance's initial state.

    Attributes:
        cells: The grid's cell list (row-major, ``y * width + x``) at the start.
        agent_pos: Start position (x, y).
        agent_dir: Start direction (0 = east, 1 = south, 2 = west, 3 = north).
        objects: The mutable objects of the instance with their initial state
            ``(obj, cur_pos, is_open, is_locked)``.
        attrs: Instance attributes of the world (e.g. the doors, the target position).
    """

    cells: tuple[WorldObj | None, ...]
    agent_pos: tuple[int, int]
    agent_dir: int
    objects: tuple[tuple[WorldObj, Any, bool, bool], ...]
    attrs: tuple[tuple[str, Any], ...]


class MinigridWorld(MiniGridEnv):
    """Mixin of the benchmark's worlds: cheap observations, snapshots and state keys.

    Subclasses list in ``_instance_attrs`` the attributes their ``_gen_grid`` sets and their
    ``step`` reads, and set their per-episode flags in :meth:`_reset_flags`.
    """

    _instance_attrs: tuple[str, ...] = ()
    _doors: tuple[Door, ...] = ()
    observe: bool = False

    def gen_obs(self) -> dict[str, Any]:
        """The egocentric observation, or ``{}`` when ``observe`` is False.

        Programs never read observations, and this view is most of the cost of a step.
        """
        if self.observe:
            return super().gen_obs()
        return {}

    def _reset_flags(self) -> None:
        """Reset the task's per-episode bookkeeping."""

    def _normalise_pos(self) -> None:
        # minigrid stores positions as np.ndarray or tuples of np.int64; plain ints keep
        # perceptions and state keys cheap and make keys compare by value.
        x, y = self.agent_pos
        self.agent_pos = (int(x), int(y))

    def snapshot(self) -> Snapshot:
        """Capture the current (freshly reset) state of the world."""
        self._normalise_pos()
        objects = []
        for obj in self.grid.grid:
            if obj is not None and (isinstance(obj, Door) or obj.can_pickup()):
                is_open = getattr(obj, "is_open", False)
                objects.append((obj, obj.cur_pos, is_open, getattr(obj, "is_locked", False)))
        return Snapshot(
            cells=tuple(self.grid.grid),
            agent_pos=self.agent_pos,
            agent_dir=int(self.agent_dir),
            objects=tuple(objects),
            attrs=tuple((name, getattr(self, name)) for name in self._instance_attrs),
        )

    def restore(self, snap: Snapshot) -> None:
        """Put the world back into the state captured by :meth:`snapshot`.

        Equivalent to ``reset(seed=...)`` for the same instance, without regenerating the grid.
        """
        self.grid.grid[:] = snap.cells
        for obj, cur_pos, is_open, is_locked in snap.objects:
            obj.cur_pos = cur_pos
            if isinstance(obj, Door):
                obj.is_open = is_open
                obj.is_locked = is_locked
        for name, value in snap.attrs:
            setattr(self, name, value)
        self.agent_pos = snap.agent_pos
        self.agent_dir = snap.agent_dir
        self.carrying = None
        self.step_count = 0
        self._doors = tuple(obj for obj, *_ in snap.objects if isinstance(obj, Door))
        self._reset_flags()

    def front_cell(self) -> WorldObj | None:
        """The object in front of the agent (None for an empty cell)."""
        x, y = self.agent_pos
        dx, dy = DIR_VEC[self.agent_dir]
        return self.grid.grid[(y + dy) * self.grid.width + x + dx]

    def state_key(self) -> tuple:
        """A value equal for two states iff minigrid's hash inputs are equal.

        The reference hashes (grid encoding, agent position, direction). Within one episode,
        objects only move between cells or change door state, and every movable object has a
        unique (type, colour), so the identities of the cell contents plus the door states
        determine the encoding exactly.
        """
        doors = tuple((d.is_open, d.is_locked) for d in self._doors)
        return (*self.agent_pos, self.agent_dir, tuple(self.grid.grid), doors)

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step of minigrid's dynamics (task rewards are applied by the subclasses).

        With ``observe`` set this is exactly ``MiniGridEnv.step``. Otherwise the same rules run
        on plain ints, without numpy vectors, enum comparisons or an observation: the hot loop
        of evaluation. tests/envs/test_minigrid_worlds.py checks both paths step for step.
        """
        if self.observe or self.render_mode is not None:
            obs, reward, terminated, truncated, info = MiniGridEnv.step(self, action)
            self._normalise_pos()
            return obs, reward, terminated, truncated, info
        self.step_count += 1
        reward, terminated = 0.0, False
        if action == _LEFT:
            self.agent_dir = (self.agent_dir - 1) % 4
        elif action == _RIGHT:
            self.agent_dir = (self.agent_dir + 1) % 4
        else:
            reward, terminated = self._act_on_front(action)
        return {}, reward, terminated, self.step_count >= self.max_steps, {}

    def _act_on_front(self, action: int) -> tuple[float, bool]:
        x, y = self.agent_pos
        dx, dy = DIR_VEC[self.agent_dir]
        fx, fy = x + dx, y + dy
        index = fy * self.grid.width + fx
        cell = self.grid.grid[index]
        if action == _FORWARD:
            if cell is None or cell.can_overlap():
                self.agent_pos = (fx, fy)
            if cell is not None and cell.type == "goal":
                return self._reward(), True
            return 0.0, cell is not None and cell.type == "lava"
        if action == _PICKUP:
            if cell is not None and cell.can_pickup() and self.carrying is None:
                self.carrying = cell
                cell.cur_pos = np.array([-1, -1])
                self.grid.grid[index] = None
        elif action == _DROP:
            if cell is None and self.carrying is not None:
                self.grid.grid[index] = self.carrying
                self.carrying.cur_pos = (fx, fy)
                self.carrying = None
        elif action == _TOGGLE:
            if cell is not None:
                cell.toggle(self, (fx, fy))
        else:
            raise ValueError(f"unknown Minigrid action {action!r}")
        return 0.0, False


class LavaGapWorld(MinigridWorld, LavaGapEnv):
    """LavaGap, 6×6.

    ## Description
    The agent starts at (1, 1) facing east and must reach the goal at (4, 4) through the one gap
    of a vertical lava column at x = randint(2, 4), gap at y = randint(1, 5) (minigrid's own
    ``LavaGapEnv`` layout).

    ## Rewards
    +1 for reaching the goal, -1 for stepping into lava (minigrid's 0 is remapped to -1).
    Reproduced quirk: the remap looks at minigrid's time-discounted goal reward
    ``1 - 0.9 * step / 144``, which is exactly 0.0 at step 160, so reaching the goal with the
    160th action scores -1.

    ## Termination
    Reaching the goal or stepping into lava. ``max_steps`` = 144 only truncates, which the
    benchmark ignores.
    """

    _instance_attrs = ("goal_pos", "gap_pos", "mission")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(size=6, **kwargs)

    def state_key(self) -> tuple:
        """Position and direction: nothing in a LavaGap grid can move or change state."""
        return (*self.agent_pos, self.agent_dir)

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """minigrid's step with the benchmark's terminal rewards (goal +1, lava -1)."""
        obs, reward, terminated, truncated, info = super().step(action)
        if terminated:
            reward = -1.0 if reward == 0 else 1.0
        return obs, float(reward), terminated, truncated, info


class RedBlueDoorWorld(MinigridWorld, RedBlueDoorEnv):
    """RedBlueDoor, size 6 (a 12×6 grid).

    ## Description
    The agent is placed at random (position and direction) in the middle room, between a red
    door in the left wall (x = 3) and a blue door in the right wall (x = 8); the task is to open
    the red door, then the blue one (minigrid's own ``RedBlueDoorEnv`` layout).

    ## Rewards
    +0.5 the first time the red door is opened; +0.5 for opening the blue door while the red one
    is open; -1 for opening the blue door while the red one is closed.

    ## Termination
    Opening the blue door. ``max_steps`` = 720 only truncates, which the benchmark ignores.
    """

    _instance_attrs = ("red_door", "blue_door", "mission")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(size=6, **kwargs)

    def _reset_flags(self) -> None:
        self.first_red_reward_given = False

    def state_key(self) -> tuple:
        """Position, direction and door states: nothing else in this grid can change."""
        red, blue = self.red_door, self.blue_door
        return (*self.agent_pos, self.agent_dir, red.is_open, red.is_locked, blue.is_open,
                blue.is_locked)  # fmt: skip

    def _gen_grid(self, width: int, height: int) -> None:
        super()._gen_grid(width, height)
        self._reset_flags()

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """minigrid's dynamics with the benchmark's door-order rewards."""
        red_before = self.red_door.is_open
        blue_before = self.blue_door.is_open
        obs, _, terminated, truncated, info = MinigridWorld.step(self, action)
        reward = 0.0
        if self.blue_door.is_open:
            # Only "currently open" counts: a red door opened and closed again does not.
            reward = 0.5 if red_before else -1.0
            terminated = True
        elif self.red_door.is_open:
            if blue_before:
                reward, terminated = -1.0, True
            elif not red_before and not self.first_red_reward_given:
                reward = 0.5
                self.first_red_reward_given = True
        return obs, reward, terminated, truncated, info


class PutNearWorld(MinigridWorld, PutNearEnv):
    """PutNear, 6×6 with two objects: put the ball near the box.

    ## Description
    A ball of a random colour, then a box of a random colour, are placed at random cells not
    next to an earlier object (diagonals included); then the agent is placed at random. The
    reference fixes the types (ball to move, box as target) where minigrid's ``PutNearEnv``
    draws them.

    ## Rewards
    +0.5 the first time the ball is picked up; -1 for picking up anything else; +0.5 for
    dropping the ball within one cell of the box (both axes, diagonals count).

    ## Termination
    Picking up the wrong object, or any drop while carrying. ``max_steps`` = 30 only truncates,
    which the benchmark ignores.
    """

    _instance_attrs = (
        "move_type", "moveColor", "move_pos", "target_type", "target_color", "target_pos",
        "mission",
    )  # fmt: skip

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(size=6, numObjs=2, **kwargs)

    def _reset_flags(self) -> None:
        self.first_pickup_reward_given = False

    def _gen_grid(self, width: int, height: int) -> None:
        # Same RNG draw order as the reference: ball colour, ball cell, box colour, box cell,
        # agent cell, agent direction.
        self.grid = Grid(width, height)
        self.grid.wall_rect(0, 0, width, height)
        placed: list[tuple[int, int]] = []

        def next_to_placed(_env: MiniGridEnv, pos: tuple[int, int]) -> bool:
            return any(abs(pos[0] - p[0]) <= 1 and abs(pos[1] - p[1]) <= 1 for p in placed)

        ball = Ball(self._rand_elem(COLOR_NAMES))
        placed.append(self.place_obj(ball, reject_fn=next_to_placed))
        box = Box(self._rand_elem(COLOR_NAMES))
        placed.append(self.place_obj(box, reject_fn=next_to_placed))
        self.place_agent()
        self.move_type, self.moveColor, self.move_pos = "ball", ball.color, placed[0]
        self.target_type, self.target_color, self.target_pos = "box", box.color, placed[1]
        self.mission = f"put the {ball.color} ball near the {box.color} box"
        self._reset_flags()

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """minigrid's dynamics with the benchmark's pick-up and drop rules."""
        carried_before = self.carrying
        obs, _, terminated, truncated, info = MinigridWorld.step(self, action)
        reward = 0.0
        if action == Actions.pickup and self.carrying is not None:
            if self.carrying.type != self.move_type or self.carrying.color != self.moveColor:
                reward, terminated = -1.0, True
            elif not self.first_pickup_reward_given:
                reward = 0.5
                self.first_pickup_reward_given = True
        if action == Actions.drop and carried_before is not None:
            x, y = self.agent_pos
            dx, dy = DIR_VEC[self.agent_dir]
            fx, fy = x + dx, y + dy
            if self.grid.get(fx, fy) is carried_before:
                tx, ty = self.target_pos
                if abs(fx - tx) <= 1 and abs(fy - ty) <= 1:
                    reward = 0.5
            terminated = True
        return obs, reward, terminated, truncated, info


WORLDS: dict[str, type[MinigridWorld]] = {
    "LavaGap": LavaGapWorld,
    "PutNear": PutNearWorld,
    "RedBlueDoor": RedBlueDoorWorld,
}
