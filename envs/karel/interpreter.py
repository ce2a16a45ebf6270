"""The reference interpreter: exact, plain-Python execution of a Karel program.

This is the oracle the compiled evaluator (:mod:`envs.karel.compiled`) is tested against, and
the engine behind traces. It follows spec/benchmark.md §2 to the letter:

- the program runs once; an action is skipped when the world is crashed;
- every action and every perception costs one call (``REPEAT`` counts cost nothing); once the
  counter exceeds ``max_calls`` the world is crashed before the call, which still runs;
- each WHILE node remembers the exact fingerprints (agent row, column, facing and the whole
  marker grid) it has seen this episode, across re-entries, and crashes the world on a repeat;
- the task's reward rule runs after every executed action, never after a perception; the
  episode stops when the rule says terminated or the world is crashed;
- beyond the reference, an episode may take at most :func:`~envs.limits.max_free_steps` steps
  that cost no call (entering a REPEAT, starting one of its iterations, evaluating ``True`` or
  ``False``); one more crashes the world like the call budget. The reference would keep
  running such a loop (six nested ``REPEAT R=19`` around ``IF c( False c)`` take 19**6
  iterations) and agrees with this cap on every episode that stays within it.

Once the world is crashed no further action can run, so no reward can follow: the interpreter
stops there instead of walking the rest of the program (the only visible difference from the
reference's generator is that ``calls`` stops counting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
from envs.karel.world import KarelWorld
from envs.limits import max_free_steps
from envs.task import TraceStep

RewardFn = Callable[[KarelWorld], tuple[bool, float]]

ACTIONS: dict[str, Callable[[KarelWorld], None]] = {
    "move": KarelWorld.move,
    "turnLeft": KarelWorld.turn_left,
    "turnRight": KarelWorld.turn_right,
    "pickMarker": KarelWorld.pick_marker,
    "putMarker": KarelWorld.put_marker,
}
PERCEPTIONS: dict[str, Callable[[KarelWorld], bool]] = {
    "frontIsClear": KarelWorld.front_is_clear,
    "leftIsClear": KarelWorld.left_is_clear,
    "rightIsClear": KarelWorld.right_is_clear,
    "markersPresent": KarelWorld.markers_present,
    "noMarkersPresent": KarelWorld.no_markers_present,
}


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of one episode run by :func:`run_program`.

    Attributes:
        total_return: Sum of the step rewards, added left to right.
        terminated: The task's rule ended the episode.
        crashed: The world crashed (repeating WHILE loop, call budget, or a crashable move).
        calls: Actions plus perceptions executed.
        steps: The trace when requested, else empty.
    """

    total_return: float
    terminated: bool
    crashed: bool
    calls: int
    steps: tuple[TraceStep, ...] = ()


class _Stop(Exception):
    """Unwinds the recursion when the episode ends."""


# Located nodes: the AST annotated with pre-order locations (an equal subtree appearing twice
# is two loops with two memories, so nodes cannot be told apart by equality or identity).
@dataclass(frozen=True, slots=True)
class _Node:
    kind: str
    loc: int
    name: str = ""
    n: int = 0
    value: bool = False
    cond: _Node | None = None
    other: _Node | None = None
    body: tuple[_Node, ...] = ()
    orelse: tuple[_Node, ...] = ()


def _locate(program: Program) -> tuple[_Node, ...]:
    counter = [0]

    def nxt() -> int:
        counter[0] += 1
        return counter[0]

    def cond(c: Cond) -> _Node:
        loc = nxt()
        if isinstance(c, Perception):
            if c.name not in PERCEPTIONS or c.arg is not None:
                raise ProgramRuntimeError(f"{c} is not a Karel perception")
            return _Node("perception", loc, name=c.name)
        if isinstance(c, BoolConst):
            return _Node("const", loc, value=c.value)
        if isinstance(c, Not):
            return _Node("not", loc, cond=cond(c.cond))
        if isinstance(c, And | Or):
            left = cond(c.left)
            return _Node(type(c).__name__.lower(), loc, cond=left, other=cond(c.right))
        raise ProgramRuntimeError(f"unknown condition {c!r}")

    def stmt(s: Stmt) -> _Node:
        loc = nxt()
        if isinstance(s, Action):
            if s.name not in ACTIONS:
                raise ProgramRuntimeError(f"{s.name!r} is not a Karel action")
            return _Node("action", loc, name=s.name)
        if isinstance(s, Repeat):
            return _Node("repeat", loc, n=s.n, body=block(s.body))
        if isinstance(s, While | If | IfElse):
            c = cond(s.cond)
            body = block(s.body)
            if isinstance(s, IfElse):
                return _Node("ifelse", loc, cond=c, body=body, orelse=block(s.orelse))
            return _Node(type(s).__name__.lower(), loc, cond=c, body=body)
        raise ProgramRuntimeError(f"unknown statement {s!r}")

    def block(stmts: tuple[Stmt, ...]) -> tuple[_Node, ...]:
        return tuple(stmt(s) for s in stmts)

    return block(program.body)


class _Run:
    def __init__(self, world: KarelWorld, reward: RewardFn, trace: bool) -> None:
        self.world = world
        self.reward = reward
        self.total = 0.0
        self.terminated = False
        self.free = 0
        self.max_free = max_free_steps(world.max_calls)
        self.memory: dict[int, set[tuple[int, int, int, bytes]]] = {}
        self.steps: list[TraceStep] | None = [] if trace else None

    def record(self, kind: str, node: _Node, result: bool | None, reward: float) -> None:
        if self.steps is None:
            return
        w = self.world
        self.steps.append(
            TraceStep(kind, node.name, result, (w.row, w.col), w.facing, reward, node.loc, w.calls)
        )

    def free_step(self) -> None:
        # A step that costs no call; see the module docstring.
        self.free += 1
        if self.free > self.max_free:
            self.world.crashed = True
            raise _Stop

    def block(self, nodes: tuple[_Node, ...]) -> None:
        for node in nodes:
            self.stmt(node)

    def stmt(self, node: _Node) -> None:
        kind = node.kind
        world = self.world
        if kind == "action":
            if world.crashed:
                return
            world.count_call()
            ACTIONS[node.name](world)
            terminated, r = self.reward(world)
            self.total += r
            self.record("action", node, None, r)
            if terminated:
                self.terminated = True
                raise _Stop
            if world.crashed:
                raise _Stop
        elif kind == "repeat":
            self.free_step()
            for _ in range(node.n):
                self.free_step()
                self.block(node.body)
        elif kind == "while":
            seen = self.memory.setdefault(node.loc, set())
            while self.cond(node.cond):
                fingerprint = world.fingerprint()
                if fingerprint in seen:
                    world.crashed = True
                    raise _Stop
                seen.add(fingerprint)
                self.block(node.body)
        elif kind == "if":
            if self.cond(node.cond):
                self.block(node.body)
        else:  # ifelse
            self.block(node.body if self.cond(node.cond) else node.orelse)

    def cond(self, node: _Node | None) -> bool:
        if node is None:
            raise ProgramRuntimeError("condition missing")
        kind = node.kind
        if kind == "perception":
            world = self.world
            world.count_call()
            result = PERCEPTIONS[node.name](world)
            self.record("perception", node, result, 0.0)
            if world.crashed:
                # Call budget spent by a perception: no action can run any more.
                raise _Stop
            return result
        if kind == "not":
            return not self.cond(node.cond)
        if kind == "and":
            return self.cond(node.cond) and self.cond(node.other)
        if kind == "or":
            return self.cond(node.cond) or self.cond(node.other)
        self.free_step()
        return node.value


def run_program(
    program: Program, world: KarelWorld, reward: RewardFn, *, trace: bool = False
) -> RunResult:
    """Run ``program`` once on ``world`` (mutated in place), scoring actions with ``reward``.

    Args:
        program: A parsed Karel program.
        world: The episode's world, already reset to the instance's initial state.
        reward: The task's rule, called after every executed action; ``(terminated, r)``.
        trace: Record a :class:`~envs.task.TraceStep` for every action and perception.

    Returns:
        The episode's :class:`RunResult`.

    Raises:
        ProgramRuntimeError: The program uses an action or perception Karel does not have.
    """
    nodes = _locate(program)
    run = _Run(world, reward, trace)
    try:
        run.block(nodes)
    except _Stop:
        pass
    return RunResult(
        total_return=float(run.total),
        terminated=run.terminated,
        crashed=world.crashed,
        calls=world.calls,
        steps=tuple(run.steps or ()),
    )
