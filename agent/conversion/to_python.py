"""DSL -> Python printer, the inverse of the converter (used in prompts, feedback and results).

``python_to_program(to_python(p)) == p`` for every program of the search space, and for programs
with ``and``/``or``/``not`` conditions too, except that ``IF c( and ... )`` without ELSE comes back
as the equivalent nested IFs and boolean literals are folded (docs/pythonic-dsl.md).

Example:
    >>> from envs.dsl import parse
    >>> print(to_python(parse("DEF run m( REPEAT R=2 r( move r) m)")), end="")
    def run():
        for _ in range(2):
            move()
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from agent.conversion.limits import cond_size
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
from envs.dsl.parser import ensure_program


@dataclass(frozen=True)
class PythonRendering:
    """A program printed as Python.

    Attributes:
        text: The Python source, ending with a newline.
        lines: Pre-order location (index into :func:`envs.dsl.preorder`) -> 1-based line of the
            statement that node belongs to (a condition maps to its ``if``/``while`` line).
    """

    text: str
    lines: MappingProxyType


def condition_python(cond: Cond) -> str:
    """A DSL condition as a Python expression, e.g. ``not frontIsClear()``."""
    if isinstance(cond, Perception):
        return f"{cond.name}()" if cond.arg is None else f'{cond.name}("{cond.arg}")'
    if isinstance(cond, BoolConst):
        return "True" if cond.value else "False"
    if isinstance(cond, Not):
        inner = condition_python(cond.cond)
        return f"not ({inner})" if isinstance(cond.cond, And | Or) else f"not {inner}"
    word = "and" if isinstance(cond, And) else "or"
    parts = []
    for side in (cond.left, cond.right):
        text = condition_python(side)
        parts.append(f"({text})" if isinstance(side, And | Or) else text)
    return f" {word} ".join(parts)


class _Printer:
    def __init__(self, indent: str) -> None:
        self.indent = indent
        self.out: list[str] = []
        self.lines: dict[int, int] = {}
        self.loc = 0

    def emit(self, depth: int, text: str) -> int:
        self.out.append(self.indent * depth + text)
        return len(self.out)

    def mark(self, line: int, count: int = 1) -> None:
        for _ in range(count):
            self.lines[self.loc] = line
            self.loc += 1

    def block(self, stmts: tuple[Stmt, ...], depth: int) -> None:
        for stmt in stmts:
            self.statement(stmt, depth)

    def statement(self, stmt: Stmt, depth: int, keyword: str = "if") -> None:
        if isinstance(stmt, Action):
            self.mark(self.emit(depth, f"{stmt.name}()"))
        elif isinstance(stmt, Repeat):
            self.mark(self.emit(depth, f"for _ in range({stmt.n}):"))
            self.block(stmt.body, depth + 1)
        elif isinstance(stmt, While):
            line = self.emit(depth, f"while {condition_python(stmt.cond)}:")
            self.mark(line, 1 + cond_size(stmt.cond))
            self.block(stmt.body, depth + 1)
        else:
            line = self.emit(depth, f"{keyword} {condition_python(stmt.cond)}:")
            self.mark(line, 1 + cond_size(stmt.cond))
            self.block(stmt.body, depth + 1)
            if isinstance(stmt, IfElse):
                self.orelse(stmt.orelse, depth)

    def orelse(self, orelse: tuple[Stmt, ...], depth: int) -> None:
        if len(orelse) == 1 and isinstance(orelse[0], If | IfElse):
            self.statement(orelse[0], depth, keyword="elif")  # same AST, flatter text
            return
        self.emit(depth, "else:")
        self.block(orelse, depth + 1)


def to_python_with_lines(
    program: Program | str, domain: str = "karel", *, name: str = "run", indent: int = 4
) -> PythonRendering:
    """Print a program as a Python function and map each pre-order location to its line.

    Args:
        program: A Program or DSL text.
        domain: Domain used to parse text.
        name: Name of the function.
        indent: Spaces per indentation level.

    Raises:
        DSLSyntaxError: ``program`` is text that does not parse.
    """
    prog = ensure_program(program, domain)
    printer = _Printer(" " * indent)
    printer.mark(printer.emit(0, f"def {name}():"))
    printer.block(prog.body, 1)
    return PythonRendering("\n".join(printer.out) + "\n", MappingProxyType(printer.lines))


def to_python(
    program: Program | str, domain: str = "karel", *, name: str = "run", indent: int = 4
) -> str:
    """Print a program as Python source (a ``def run():`` function), ending with a newline.

    Raises:
        DSLSyntaxError: ``program`` is text that does not parse.
    """
    return to_python_with_lines(program, domain, name=name, indent=indent).text
