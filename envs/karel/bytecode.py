"""Compile a Karel :class:`~envs.dsl.Program` into flat int32 bytecode for the numba kernel.

The kernel in :mod:`envs.karel._kernels` runs this code instead of walking the AST. Layout: one
opcode word followed by its operands; jump targets are absolute word offsets inside the
program's own code. Control flow:

* ``WHILE c( x c) w( B w)``::

      top:  <jump to end if x is false>
            WCHECK node          # fingerprint check (spec §2 steps 2-5); a repeat ends the episode
            B
            JMP top
      end:

* ``REPEAT R=n r( B r)``: ``RSET slot n; top: RDEC slot end; B; JMP top; end:`` with one counter
  slot per REPEAT node (a node is never re-entered while it runs: there is no recursion).
* ``IF`` / ``IFELSE``: a conditional jump over the body, and a ``JMP`` over the ``ELSE`` block.

Conditions that are a perception or ``not`` of a perception compile to one fused
test-and-jump (``JNP``/``JP``), which is everything the search generates. ``True``/``False``,
``and`` and ``or`` (accepted by the parser from model text) compile to a flag register with the
reference's short-circuit evaluation: ``and``/``or`` are Python's, so the right operand is
not evaluated (and costs no call) when the left one decides.
"""

from __future__ import annotations

import numpy as np

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

# Opcodes (operands in brackets).
HALT = 0
ACT = 1  # [action]
JMP = 2  # [target]
JNP = 3  # [perception, target]: evaluate; jump when false
JP = 4  # [perception, target]: evaluate; jump when true
WCHECK = 5  # [while node]
RSET = 6  # [slot, n]
RDEC = 7  # [slot, target]: jump when the counter is 0, else decrement
PERC = 8  # [perception]: flag <- perception
NOT = 9  # flag <- not flag
CONST = 10  # [value]: flag <- value
JF = 11  # [target]: jump when flag is false
JT = 12  # [target]: jump when flag is true

ACTIONS: dict[str, int] = {
    "move": 0,
    "turnLeft": 1,
    "turnRight": 2,
    "pickMarker": 3,
    "putMarker": 4,
}
PERCEPTIONS: dict[str, int] = {
    "frontIsClear": 0,
    "leftIsClear": 1,
    "rightIsClear": 2,
    "markersPresent": 3,
    "noMarkersPresent": 4,
}


class _CodeWriter:
    """Accumulates code words and counts WHILE nodes and REPEAT slots."""

    __slots__ = ("code", "n_while", "n_repeat", "n_free")

    def __init__(self) -> None:
        self.code: list[int] = []
        self.n_while = 0
        self.n_repeat = 0
        self.n_free = 0  # WHILE nodes whose condition can be evaluated without any call

    def block(self, block: tuple[Stmt, ...]) -> None:
        for stmt in block:
            self.stmt(stmt)

    def stmt(self, stmt: Stmt) -> None:
        code = self.code
        kind = type(stmt)
        if kind is Action:
            index = ACTIONS.get(stmt.name)
            if index is None:
                raise ProgramRuntimeError(f"{stmt.name!r} is not a Karel action")
            code += (ACT, index)
        elif kind is While:
            node = self.n_while
            self.n_while += 1
            self.n_free += _may_skip_calls(stmt.cond)
            top = len(code)
            patch = self.cond_jump_if_false(stmt.cond)
            code += (WCHECK, node)
            self.block(stmt.body)
            code += (JMP, top)
            code[patch] = len(code)
        elif kind is Repeat:
            slot = self.n_repeat
            self.n_repeat += 1
            code += (RSET, slot, stmt.n)
            top = len(code)
            code += (RDEC, slot, -1)
            patch = len(code) - 1
            self.block(stmt.body)
            code += (JMP, top)
            code[patch] = len(code)
        elif kind is If:
            patch = self.cond_jump_if_false(stmt.cond)
            self.block(stmt.body)
            code[patch] = len(code)
        elif kind is IfElse:
            patch = self.cond_jump_if_false(stmt.cond)
            self.block(stmt.body)
            code += (JMP, -1)
            end_patch = len(code) - 1
            code[patch] = len(code)
            self.block(stmt.orelse)
            code[end_patch] = len(code)
        else:
            raise ProgramRuntimeError(f"cannot compile statement {stmt!r} for Karel")

    def cond_jump_if_false(self, cond: Cond) -> int:
        """Emit a test of ``cond`` that jumps when it is false; return the target's index."""
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (JNP, _perception(cond), -1)
        elif kind is Not and type(cond.cond) is Perception:
            code += (JP, _perception(cond.cond), -1)
        else:
            self.flag(cond)
            code += (JF, -1)
        return len(code) - 1

    def flag(self, cond: Cond) -> None:
        """Emit code that leaves the value of ``cond`` in the flag register."""
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (PERC, _perception(cond))
        elif kind is Not:
            self.flag(cond.cond)
            code.append(NOT)
        elif kind is BoolConst:
            code += (CONST, 1 if cond.value else 0)
        elif kind is And or kind is Or:
            self.flag(cond.left)
            code += (JF if kind is And else JT, -1)
            patch = len(code) - 1
            self.flag(cond.right)
            code[patch] = len(code)
        else:
            raise ProgramRuntimeError(f"cannot compile condition {cond!r} for Karel")


def _may_skip_calls(cond: Cond) -> bool:
    """Whether evaluating ``cond`` can make no call at all (its first leaf is a constant)."""
    kind = type(cond)
    if kind is Perception:
        return False
    if kind is Not:
        return _may_skip_calls(cond.cond)
    if kind is And or kind is Or:
        return _may_skip_calls(cond.left)  # the left operand is always evaluated
    return True


def _perception(p: Perception) -> int:
    index = PERCEPTIONS.get(p.name)
    if index is None or p.arg is not None:
        raise ProgramRuntimeError(f"{p} is not a Karel perception")
    return index


def compile_words(program: Program) -> tuple[list[int], int, int]:
    """Bytecode words of one program, its REPEAT slots and its call-free WHILE nodes.

    A WHILE whose condition always makes a call runs its fingerprint check at most once per
    call; a call-free one (e.g. ``WHILE c( True c)``) at most once per distinct state. The
    evaluator sizes its fingerprint table from this count.

    Raises:
        ProgramRuntimeError: The program uses an action or perception Karel does not have.
    """
    em = _CodeWriter()
    em.block(program.body)
    em.code.append(HALT)
    return em.code, em.n_repeat, em.n_free


def compile_batch(programs: list[Program]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Concatenated bytecode of many programs.

    Returns:
        ``(code, starts, max_slots, max_free)``: program k occupies
        ``code[starts[k]:starts[k + 1]]`` and its jump targets are relative to ``starts[k]``;
        ``max_slots`` and ``max_free`` are the most REPEAT counters and call-free WHILE nodes
        (see :func:`compile_words`) any one program has.

    Raises:
        ProgramRuntimeError: A program uses an action or perception Karel does not have.
    """
    chunks: list[int] = []
    starts = np.empty(len(programs) + 1, dtype=np.int64)
    max_slots = max_free = 0
    for k, program in enumerate(programs):
        starts[k] = len(chunks)
        words, slots, free = compile_words(program)
        chunks += words
        max_slots = max(max_slots, slots)
        max_free = max(max_free, free)
    starts[len(programs)] = len(chunks)
    return np.asarray(chunks, dtype=np.int32), starts, max_slots, max_free
