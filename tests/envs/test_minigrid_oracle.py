"""The fast Minigrid executor against a slow, independent interpreter (a test oracle).

It follows the reference structure literally (spec/benchmark.md §2 and §5): a generator that
yields after each action, a crashed flag that makes later actions no-ops while perceptions are
still evaluated, the episode loop that adds rewards after each yielded action and breaks on
``terminated``, a fresh ``reset(seed=...)`` per episode, and WHILE memories of the full grid
encoding. The fast executor ends episodes early and restores snapshots instead; agreeing with
this oracle is what shows that those shortcuts are exact.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from envs.dsl import parse
from envs.dsl.ast import (
    Action,
    And,
    BoolConst,
    Cond,
    If,
    IfElse,
    Not,
    Or,
    Perception,
    Program,
    Repeat,
    Stmt,
    While,
)
from envs.minigrid.executor import ACTION_CODES, MinigridConfig
from envs.minigrid.task import MinigridTask
from envs.minigrid.worlds import DIR_VEC, WORLDS, MinigridWorld
from search.space import random_program


class OracleEnv:
    """The reference wrapper's bookkeeping around one world."""

    def __init__(self, world: MinigridWorld, seed: int, max_calls: int = 1000) -> None:
        self.world = world
        self.seed = seed
        self.max_calls = max_calls

    def reset(self) -> None:
        self.world.reset(seed=self.seed)
        self.calls = 0
        self.crashed = False
        self.reward = 0.0
        self.terminated = False
        self.memories: dict[tuple, list[tuple]] = {}
        self.calls_at_end: int | None = None

    def crash(self) -> None:
        if self.calls_at_end is None:
            self.calls_at_end = self.calls
        self.crashed = True

    def state(self) -> tuple:
        w = self.world
        return (w.grid.encode().tobytes(), tuple(int(v) for v in w.agent_pos), int(w.agent_dir))

    def act(self, name: str) -> None:
        self.calls += 1
        _, self.reward, self.terminated, _, _ = self.world.step(ACTION_CODES[name])
        if self.calls >= self.max_calls:
            self.crash()

    def perceive(self, p: Perception) -> bool:
        self.calls += 1
        if self.calls >= self.max_calls:
            self.crash()
        w = self.world
        x, y = w.agent_pos
        dx, dy = DIR_VEC[w.agent_dir]
        cell = w.grid.get(int(x) + dx, int(y) + dy)
        if p.name == "front_is_clear":
            return cell is None or cell.can_overlap()
        if p.name == "front_object_type":
            return cell is not None and cell.type == p.arg
        if p.name == "front_object_color":
            return cell is not None and cell.color == p.arg
        return w.carrying is not None


def _cond(env: OracleEnv, c: Cond) -> bool:
    if isinstance(c, Perception):
        return env.perceive(c)
    if isinstance(c, BoolConst):
        return c.value
    if isinstance(c, Not):
        return not _cond(env, c.cond)
    if isinstance(c, And):
        return _cond(env, c.left) and _cond(env, c.right)
    if isinstance(c, Or):
        return _cond(env, c.left) or _cond(env, c.right)
    raise TypeError(c)


def _block(env: OracleEnv, block: tuple[Stmt, ...], path: tuple) -> Iterator[None]:
    for i, s in enumerate(block):
        yield from _stmt(env, s, (*path, i))


def _stmt(env: OracleEnv, s: Stmt, path: tuple) -> Iterator[None]:
    if isinstance(s, Action):
        if not env.crashed:
            env.act(s.name)
            yield None
    elif isinstance(s, Repeat):
        for _ in range(s.n):
            yield from _block(env, s.body, (*path, "r"))
    elif isinstance(s, If):
        if _cond(env, s.cond):
            yield from _block(env, s.body, (*path, "i"))
    elif isinstance(s, IfElse):
        if _cond(env, s.cond):
            yield from _block(env, s.body, (*path, "i"))
        else:
            yield from _block(env, s.orelse, (*path, "e"))
    elif isinstance(s, While):
        seen = env.memories.setdefault(path, [])
        while _cond(env, s.cond):
            state = env.state()
            if state in seen:
                env.crash()
            seen.append(state)
            if env.crashed:
                return
            yield from _block(env, s.body, (*path, "w"))


def oracle_return(
    world: MinigridWorld, seed: int, program: Program, max_calls: int = 1000
) -> tuple[float, bool, int]:
    """(return, crashed, calls when the episode ended) of ``program``, the reference's way."""
    env = OracleEnv(world, seed, max_calls)
    env.reset()
    total = 0.0
    for _ in _block(env, program.body, ()):
        reward, terminated = env.reward, env.terminated
        env.reward = 0.0
        total += reward
        if terminated:
            if env.calls_at_end is None:
                env.calls_at_end = env.calls
            return total, False, env.calls_at_end
    if env.calls_at_end is None:
        return total, False, env.calls
    return total, True, env.calls_at_end


# -- the differential tests ---------------------------------------------------------------

HAND_PROGRAMS = (
    "DEF run m( WHILE c( not c( front_object_type h( goal h) c) c) w( IFELSE c( "
    "front_object_type h( lava h) c) i( right forward left i) ELSE e( IFELSE c( front_is_clear "
    "c) i( forward i) ELSE e( right e) e) w) forward m)",
    "DEF run m( WHILE c( not c( front_object_type h( ball h) c) c) w( IFELSE c( front_is_clear "
    "c) i( forward i) ELSE e( right e) w) pickup right drop m)",
    "DEF run m( WHILE c( not c( front_object_color h( red h) c) c) w( IFELSE c( front_is_clear "
    "c) i( forward i) ELSE e( left e) w) toggle toggle toggle m)",
    "DEF run m( REPEAT R=19 r( WHILE c( front_is_clear c) w( forward w) left toggle pickup r) m)",
    "DEF run m( WHILE c( True c) w( IF c( and c( front_is_clear c) c( not c( is_carrying_object "
    "c) c) c) i( forward i) right pickup w) m)",
    "DEF run m( WHILE c( or c( front_is_clear c) c( is_carrying_object c) c) w( forward WHILE c( "
    "front_is_clear c) w( forward right w) w) m)",
)


def _programs(count: int, seed: int) -> list[Program]:
    rng = np.random.RandomState(seed)
    progs = [parse(p, "minigrid") for p in HAND_PROGRAMS]
    progs += [random_program("minigrid", rng) for _ in range(count)]
    return progs


@pytest.mark.parametrize("name", ["LavaGap", "PutNear", "RedBlueDoor"])
@pytest.mark.parametrize("max_calls", [1000, 7])
def test_fast_executor_matches_reference_style_oracle(name: str, max_calls: int) -> None:
    task = MinigridTask(name, n=4, seed=3, config=MinigridConfig(max_calls=max_calls))
    oracle_world = WORLDS[name]()
    for program in _programs(60, seed=len(name) + max_calls):
        fast = [task.rollout(program, i, trace=False) for i in range(4)]
        fast_out = [(r.total_return, r.crashed, r.calls) for r in fast]
        slow = [oracle_return(oracle_world, 3 + i, program, max_calls) for i in range(4)]
        assert fast_out == slow, str(program)
        assert task.returns(program) == [r[0] for r in slow]


def test_oracle_sees_rewards_and_crashes() -> None:
    # Guard against a vacuous differential test: the programs above must produce non-zero
    # returns and both kinds of crash on these instances.
    task = MinigridTask("LavaGap", n=4, seed=3)
    assert any(r != 0.0 for r in task.returns(HAND_PROGRAMS[0]))
    loop = "DEF run m( WHILE c( True c) w( left w) m)"
    assert task.rollout(loop, 0, trace=False).crashed
    budget = MinigridTask("LavaGap", n=1, config=MinigridConfig(max_calls=7))
    ro = budget.rollout("DEF run m( REPEAT R=10 r( left r) m)", 0, trace=False)
    assert ro.crashed and ro.calls == 7
