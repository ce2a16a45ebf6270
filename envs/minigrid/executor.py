"""Compile Minigrid DSL programs into Python closures and run them with the wrapper semantics.

This executor drives minigrid's own world, so rollouts, traces and rendered frames use it;
``MinigridTask.returns`` (the search's hot path) runs the numba kernel of
:mod:`envs.minigrid.compiled` instead, which gives the same returns and call counts
(tests/envs/test_minigrid_compiled.py).

The semantics are the reference ``ProgramWrapper`` plus the shared program semantics
(spec/benchmark.md §2 and §5):

* every action and every perception evaluation adds 1 to the call counter; when the counter
  reaches ``max_calls`` (>=, unlike Karel's >) the episode crashes after that call, and an
  action's reward still counts;
* an action steps the world once; its reward is added to the return, and ``terminated`` ends
  the episode (minigrid's truncation is ignored);
* if an action leaves the state unchanged, ``crash_penalty`` is added (0 in every experiment)
  and, with ``crashable``, the episode crashes;
* each WHILE node remembers the states (grid contents, agent position, direction) in which it
  started an iteration during this episode; meeting one again crashes the episode silently.

Beyond the reference, an episode may take at most :func:`~envs.limits.max_free_steps` steps
that cost no call (entering a REPEAT, starting one of its iterations, evaluating ``True`` or
``False``); one more crashes the episode like the call budget. The reference would keep running
such a loop and agrees with this cap on every episode that stays within it.

A crash ends the episode: after it the reference skips every action and only evaluates
perceptions, which cannot change the return. Ending early is therefore exact, and it is what
makes an episode cost microseconds. The stop is an exception raised once per episode.

WHILE states are compared exactly (see ``MinigridWorld.state_key``). The reference hashes
``str(agent_pos)``, which reads ``[1 1]`` for LavaGap's numpy start position but ``(1, 1)``
once the agent has moved, so it can miss the first return to the start pose and crash one
cycle later. Returns are unaffected: a repeated cycle cannot earn reward (every rewarded event
either ends the episode or is paid once), only the call count at the crash can differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from minigrid.core.actions import Actions

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
from envs.errors import ProgramRuntimeError
from envs.limits import max_free_steps
from envs.minigrid.worlds import FACING, MinigridWorld, Snapshot
from envs.task import TraceStep

ACTION_CODES: dict[str, int] = {
    "left": int(Actions.left),
    "right": int(Actions.right),
    "forward": int(Actions.forward),
    "pickup": int(Actions.pickup),
    "drop": int(Actions.drop),
    "toggle": int(Actions.toggle),
}


@dataclass(frozen=True, slots=True)
class MinigridConfig:
    """Wrapper settings of the Minigrid tasks (the reference CLI's values by default).

    Attributes:
        max_calls: Call budget per episode (actions plus perceptions); the episode crashes
            when the counter reaches it.
        crash_penalty: Reward added when an action leaves the state unchanged.
        crashable: Whether an action that leaves the state unchanged crashes the episode.
    """

    max_calls: int = 1000
    crash_penalty: float = 0.0
    crashable: bool = False


class _Stop(Exception):
    """Raised inside a compiled program to end the episode (termination or crash)."""


class _Episode:
    """Mutable bookkeeping of the episode being run by one compiled program."""

    __slots__ = ("calls", "free", "total", "terminated", "crashed", "memories", "trace", "frames")

    def __init__(self, n_loops: int) -> None:
        self.calls = 0
        self.free = 0
        self.total = 0.0
        self.terminated = False
        self.crashed = False
        self.memories: list[set[tuple]] = [set() for _ in range(n_loops)]
        self.trace: list[TraceStep] | None = None
        self.frames: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """Outcome of one compiled episode (see :class:`envs.task.Rollout` for the fields)."""

    total_return: float
    terminated: bool
    crashed: bool
    calls: int
    steps: tuple[TraceStep, ...] = ()


class CompiledProgram:
    """A program compiled against one world; :meth:`run` plays one instance.

    Args:
        program: The parsed program.
        world: The world it acts in (its instances are restored from snapshots).
        config: Wrapper settings.
        trace: Whether to record a :class:`TraceStep` per call (slower; for rollouts).
    """

    def __init__(
        self,
        program: Program,
        world: MinigridWorld,
        config: MinigridConfig,
        trace: bool = False,
    ) -> None:
        self.world = world
        self.config = config
        self._free_limit = max_free_steps(config.max_calls)
        self.tracing = trace
        self._location = 0
        self._n_loops = 0
        self._ep = _Episode(0)
        self._next_location()  # the Program node itself is location 0
        self._body = self._block(program.body)
        self._ep.memories = [set() for _ in range(self._n_loops)]

    def run(self, snapshot: Snapshot, on_action: Callable[[], None] | None = None) -> EpisodeResult:
        """Play one episode from ``snapshot``.

        Args:
            snapshot: The instance's initial state.
            on_action: Called after every executed action (e.g. to grab a rendered frame).
        """
        self.world.restore(snapshot)
        ep = self._ep
        ep.calls, ep.free, ep.total, ep.terminated, ep.crashed = 0, 0, 0.0, False, False
        for memory in ep.memories:
            memory.clear()
        ep.trace = [] if self.tracing else None
        ep.frames = on_action
        try:
            self._body()
        except _Stop:
            pass
        steps = tuple(ep.trace) if ep.trace is not None else ()
        return EpisodeResult(ep.total, ep.terminated, ep.crashed, ep.calls, steps)

    # -- compilation ---------------------------------------------------------------------
    def _next_location(self) -> int:
        # Locations are handed out in the exact visiting order of envs.dsl.preorder.
        loc = self._location
        self._location += 1
        return loc

    def _block(self, block: tuple[Stmt, ...]) -> Callable[[], None]:
        fns = [self._stmt(s) for s in block]
        if len(fns) == 1:
            return fns[0]

        def seq() -> None:
            for fn in fns:
                fn()

        return seq

    def _stmt(self, stmt: Stmt) -> Callable[[], None]:
        loc = self._next_location()
        if isinstance(stmt, Action):
            return self._action(stmt.name, loc)
        if isinstance(stmt, Repeat):
            body = self._block(stmt.body)
            times = range(stmt.n)
            ep, stop = self._ep, self._free_steps_spent
            limit = self._free_limit

            def repeat() -> None:
                # Free steps counted inline (a method call per iteration costs measurably).
                ep.free += 1
                if ep.free > limit:
                    stop()
                for _ in times:
                    ep.free += 1
                    if ep.free > limit:
                        stop()
                    body()

            return repeat
        if isinstance(stmt, While):
            return self._while(stmt, loc)
        if isinstance(stmt, If):
            cond = self._cond(stmt.cond)
            body = self._block(stmt.body)

            def if_() -> None:
                if cond():
                    body()

            return if_
        if isinstance(stmt, IfElse):
            cond = self._cond(stmt.cond)
            body = self._block(stmt.body)
            orelse = self._block(stmt.orelse)

            def ifelse() -> None:
                if cond():
                    body()
                else:
                    orelse()

            return ifelse
        raise ProgramRuntimeError(f"not a Minigrid statement: {stmt!r}")

    def _free_step(self) -> None:
        # A step that costs no call (see the module docstring).
        ep = self._ep
        ep.free += 1
        if ep.free > self._free_limit:
            self._free_steps_spent()

    def _free_steps_spent(self) -> None:
        self._ep.crashed = True
        raise _Stop

    def _while(self, stmt: While, loc: int) -> Callable[[], None]:
        cond = self._cond(stmt.cond)
        body = self._block(stmt.body)
        index = self._n_loops
        self._n_loops += 1
        ep = self._ep
        state_key = self.world.state_key

        def while_() -> None:
            seen = ep.memories[index]
            while cond():
                key = state_key()
                if key in seen:
                    ep.crashed = True
                    raise _Stop
                seen.add(key)
                body()

        return while_

    def _cond(self, cond: Cond) -> Callable[[], bool]:
        loc = self._next_location()
        if isinstance(cond, Perception):
            return self._perception(cond, loc)
        if isinstance(cond, BoolConst):
            value = cond.value
            free_step = self._free_step

            def const() -> bool:
                free_step()
                return value

            return const
        if isinstance(cond, Not):
            inner = self._cond(cond.cond)
            return lambda: not inner()
        if isinstance(cond, And | Or):
            left = self._cond(cond.left)
            right = self._cond(cond.right)
            if isinstance(cond, And):
                return lambda: left() and right()
            return lambda: left() or right()
        raise ProgramRuntimeError(f"not a Minigrid condition: {cond!r}")

    def _test(self, cond: Perception) -> Callable[[], bool]:
        world = self.world
        front = world.front_cell
        name, arg = cond.name, cond.arg
        if name == "front_is_clear" and arg is None:

            def clear() -> bool:
                cell = front()
                return cell is None or cell.can_overlap()

            return clear
        if name == "front_object_type" and arg is not None:

            def of_type() -> bool:
                cell = front()
                return cell is not None and cell.type == arg

            return of_type
        if name == "front_object_color" and arg is not None:

            def of_color() -> bool:
                cell = front()
                return cell is not None and cell.color == arg

            return of_color
        if name == "is_carrying_object" and arg is None:
            return lambda: world.carrying is not None
        raise ProgramRuntimeError(f"unknown Minigrid perception {str(cond)!r}")

    def _perception(self, cond: Perception, loc: int) -> Callable[[], bool]:
        test = self._test(cond)
        ep = self._ep
        max_calls = self.config.max_calls
        record = self._recorder("perception", str(cond), loc) if self.tracing else None

        def perceive() -> bool:
            ep.calls += 1
            value = test()
            if record is not None:
                record(value, 0.0)
            if ep.calls >= max_calls:
                ep.crashed = True
                raise _Stop
            return value

        return perceive

    def _action(self, name: str, loc: int) -> Callable[[], None]:
        if name not in ACTION_CODES:
            raise ProgramRuntimeError(f"unknown Minigrid action {name!r}")
        code = ACTION_CODES[name]
        ep = self._ep
        world = self.world
        cfg = self.config
        max_calls = cfg.max_calls
        # Comparing states before and after costs two state keys per action: only pay for it
        # when the unchanged-state rule can matter.
        check_unchanged = cfg.crashable or cfg.crash_penalty != 0.0
        record = self._recorder("action", name, loc) if self.tracing else None

        def act() -> None:
            ep.calls += 1
            before = world.state_key() if check_unchanged else None
            _, reward, terminated, _, _ = world.step(code)
            crash = False
            if check_unchanged and world.state_key() == before:
                reward += cfg.crash_penalty
                crash = cfg.crashable
            ep.total += reward
            if record is not None:
                record(None, reward)
            if ep.frames is not None:
                ep.frames()
            if terminated:
                ep.terminated = True
                raise _Stop
            if crash or ep.calls >= max_calls:
                ep.crashed = True
                raise _Stop

        return act

    def _recorder(self, kind: str, name: str, loc: int) -> Callable[[bool | None, float], None]:
        ep = self._ep
        world = self.world

        def record(result: bool | None, reward: float) -> None:
            x, y = world.agent_pos
            step = TraceStep(
                kind, name, result, (x, y), FACING[world.agent_dir], reward, loc, ep.calls
            )
            ep.trace.append(step)

        return record
