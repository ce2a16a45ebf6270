"""Compile a Minigrid :class:`~envs.dsl.Program` into flat int64 bytecode for the numba kernel.

The kernel in :mod:`envs.minigrid._kernel` runs this code instead of calling closures that drive
minigrid's world. Layout: one opcode word followed by its operands; jump targets are absolute
word offsets. Control flow is the same as Karel's bytecode (:mod:`envs.karel.bytecode`):

* ``WHILE c( x c) w( B w)``: ``top: <jump to end if x is false>; WCHECK node; B; JMP top``;
* ``REPEAT R=n r( B r)``: ``RSET slot n; top: RDEC slot end; B; JMP top`` (one counter slot per
  REPEAT node; a node never runs inside itself, there is no recursion);
* ``IF`` / ``IFELSE``: a conditional jump over the body, and a ``JMP`` over the ``ELSE`` block.

A perception operand is ``kind * 64 + argument``: the kind is an index of :data:`PERCEPTIONS`,
the argument minigrid's index of the object type or colour named in ``h( ... h)``. The parser
accepts any word there; a word that names no type or colour gets :data:`NO_MATCH`, which no
object has, so the test is false exactly as ``cell.type == "foo"`` is.

Conditions other than a perception or ``not`` of one (``True``/``False``, ``and``, ``or``,
accepted from model text) compile to a flag register with Python's short-circuit evaluation.
"""

from __future__ import annotations

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

#: Action name -> minigrid's ``Actions`` value.
ACTIONS: dict[str, int] = {"left": 0, "right": 1, "forward": 2, "pickup": 3, "drop": 4, "toggle": 5}
#: Perception name -> kind; whether it takes an argument.
PERCEPTIONS: dict[str, tuple[int, bool]] = {
    "front_is_clear": (0, False),
    "front_object_type": (1, True),
    "front_object_color": (2, True),
    "is_carrying_object": (3, False),
}
#: minigrid's ``OBJECT_TO_IDX`` and ``COLOR_TO_IDX`` (minigrid 2.5 and 3.x agree).
OBJECT_TYPES: dict[str, int] = {
    "unseen": 0, "empty": 1, "wall": 2, "floor": 3, "door": 4, "key": 5, "ball": 6, "box": 7,
    "goal": 8, "lava": 9, "agent": 10,
}  # fmt: skip
COLORS: dict[str, int] = {"red": 0, "green": 1, "blue": 2, "purple": 3, "yellow": 4, "grey": 5}
#: Argument code of a word that names no object type or colour.
NO_MATCH = 63


def perception_code(p: Perception) -> int:
    """The operand of perception ``p`` (``kind * 64 + argument``).

    Raises:
        ProgramRuntimeError: ``p`` is not a Minigrid perception, or its argument is missing or
            unexpected.
    """
    entry = PERCEPTIONS.get(p.name)
    if entry is None or entry[1] != (p.arg is not None):
        raise ProgramRuntimeError(f"unknown Minigrid perception {str(p)!r}")
    kind, _ = entry
    if kind == 1:
        return kind * 64 + OBJECT_TYPES.get(p.arg or "", NO_MATCH)
    if kind == 2:
        return kind * 64 + COLORS.get(p.arg or "", NO_MATCH)
    return kind * 64


class _CodeWriter:
    """Accumulates code words and counts WHILE nodes and REPEAT slots."""

    __slots__ = ("code", "n_while", "n_repeat")

    def __init__(self) -> None:
        self.code: list[int] = []
        self.n_while = 0
        self.n_repeat = 0

    def block(self, block: tuple[Stmt, ...]) -> None:
        for stmt in block:
            self.stmt(stmt)

    def stmt(self, stmt: Stmt) -> None:
        code = self.code
        kind = type(stmt)
        if kind is Action:
            index = ACTIONS.get(stmt.name)
            if index is None:
                raise ProgramRuntimeError(f"unknown Minigrid action {stmt.name!r}")
            code += (ACT, index)
        elif kind is While:
            node = self.n_while
            self.n_while += 1
            top = len(code)
            patch = self.jump_if_false(stmt.cond)
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
            patch = self.jump_if_false(stmt.cond)
            self.block(stmt.body)
            code[patch] = len(code)
        elif kind is IfElse:
            patch = self.jump_if_false(stmt.cond)
            self.block(stmt.body)
            code += (JMP, -1)
            end_patch = len(code) - 1
            code[patch] = len(code)
            self.block(stmt.orelse)
            code[end_patch] = len(code)
        else:
            raise ProgramRuntimeError(f"not a Minigrid statement: {stmt!r}")

    def jump_if_false(self, cond: Cond) -> int:
        """Emit a test of ``cond`` that jumps when it is false; return the target's index."""
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (JNP, perception_code(cond), -1)
        elif kind is Not and type(cond.cond) is Perception:
            code += (JP, perception_code(cond.cond), -1)
        else:
            self.flag(cond)
            code += (JF, -1)
        return len(code) - 1

    def flag(self, cond: Cond) -> None:
        """Emit code that leaves the value of ``cond`` in the flag register."""
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (PERC, perception_code(cond))
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
            raise ProgramRuntimeError(f"not a Minigrid condition: {cond!r}")


def compile_words(program: Program) -> tuple[list[int], int, int]:
    """Bytecode words of one program, its REPEAT slots and its WHILE nodes.

    Raises:
        ProgramRuntimeError: The program uses an action or perception Minigrid does not have.
    """
    em = _CodeWriter()
    em.block(program.body)
    em.code.append(HALT)
    return em.code, em.n_repeat, em.n_while
