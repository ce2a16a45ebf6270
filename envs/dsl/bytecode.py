"""Flat bytecode of a DSL program's control flow, shared by the Karel and Minigrid kernels.

Layout: one opcode word followed by its operands; jump targets are absolute word offsets.

* ``WHILE c( x c) w( B w)``: ``top: <jump to end if x is false>; WCHECK node; B; JMP top``;
* ``REPEAT R=n r( B r)``: ``RSET slot n; top: RDEC slot end; B; JMP top`` (one counter slot per
  REPEAT node; a node never runs inside itself, there is no recursion);
* ``IF`` / ``IFELSE``: a conditional jump over the body, and a ``JMP`` over the ``ELSE`` block.

A condition that is a perception or ``not`` of one is one conditional jump; any other
(``True``/``False``, ``and``, ``or``, accepted from model text) is computed into a flag register
with Python's short-circuit evaluation. What an action or perception operand means belongs to
each domain (:mod:`envs.karel.bytecode`, :mod:`envs.minigrid.bytecode`); the kernels
(``envs.karel._kernels``, ``envs.minigrid._kernel``) repeat these opcode values as literals so
that numba's on-disk cache sees every constant in the kernel's own file.
"""

from __future__ import annotations

from collections.abc import Callable

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


class CodeWriter:
    """Compiles statements into code words; counts WHILE nodes, REPEAT slots, call-free WHILEs.

    Args:
        action_code: A domain's operand of an action name.
        perception_code: A domain's operand of a perception.
        domain: The domain's name, for errors.

    Both callables raise :class:`~envs.errors.ProgramRuntimeError` for what the domain lacks.
    """

    __slots__ = ("code", "n_while", "n_repeat", "n_free", "_action", "_perception", "_domain")

    def __init__(
        self,
        action_code: Callable[[str], int],
        perception_code: Callable[[Perception], int],
        domain: str,
    ) -> None:
        self.code: list[int] = []
        self.n_while = 0
        self.n_repeat = 0
        self.n_free = 0  # WHILE nodes whose condition can be evaluated without any call
        self._action = action_code
        self._perception = perception_code
        self._domain = domain

    def program(self, body: tuple[Stmt, ...]) -> list[int]:
        """Compile a program's body followed by ``HALT``; return the code words.

        Raises:
            ProgramRuntimeError: The body uses an action or perception the domain lacks.
        """
        self.block(body)
        self.code.append(HALT)
        return self.code

    def block(self, block: tuple[Stmt, ...]) -> None:
        for stmt in block:
            self.stmt(stmt)

    def stmt(self, stmt: Stmt) -> None:
        """Emit the code of one statement.

        Raises:
            ProgramRuntimeError: ``stmt`` is not a statement, or uses what the domain lacks.
        """
        code = self.code
        kind = type(stmt)
        if kind is Action:
            code += (ACT, self._action(stmt.name))
        elif kind is While:
            node = self.n_while
            self.n_while += 1
            self.n_free += _may_skip_calls(stmt.cond)
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
            raise ProgramRuntimeError(f"cannot compile statement {stmt!r} for {self._domain}")

    def jump_if_false(self, cond: Cond) -> int:
        """Emit a test of ``cond`` that jumps when it is false; return the target's index."""
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (JNP, self._perception(cond), -1)
        elif kind is Not and type(cond.cond) is Perception:
            code += (JP, self._perception(cond.cond), -1)
        else:
            self.flag(cond)
            code += (JF, -1)
        return len(code) - 1

    def flag(self, cond: Cond) -> None:
        """Emit code that leaves the value of ``cond`` in the flag register.

        Raises:
            ProgramRuntimeError: ``cond`` is not a condition, or uses a perception the domain
                lacks.
        """
        code = self.code
        kind = type(cond)
        if kind is Perception:
            code += (PERC, self._perception(cond))
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
            raise ProgramRuntimeError(f"cannot compile condition {cond!r} for {self._domain}")


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
