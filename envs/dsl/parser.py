"""Recursive-descent parser of the benchmark's token format (spec/benchmark.md §3).

``parse(text, domain)`` returns a :class:`~envs.dsl.ast.Program`; ``str(program)`` prints it back
(single spaces), and ``parse(str(p)) == p``. A failure raises :class:`DSLSyntaxError` naming the
offending token, its index and character column, and what was expected there, so that a model
reading the message can fix its program.
"""

from __future__ import annotations

import re

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
from envs.dsl.grammar import MAX_REPEAT, Grammar, grammar
from envs.errors import DSLSyntaxError
from envs.limits import MAX_NESTING

# ASCII digits only: ``\d`` would also accept Arabic-Indic and other Unicode digits.
_REPEAT_RE = re.compile(r"R=([0-9]+)")
_CLOSERS = {"m)", "w)", "i)", "e)", "r)", "c)", "h)"}
_OPENERS = {"m(", "w(", "i(", "e(", "r(", "c(", "h("}


class _Parser:
    def __init__(self, text: str, gram: Grammar) -> None:
        self.text = text
        self.gram = gram
        self.tokens: list[str] = []
        self.columns: list[int] = []
        for match in re.finditer(r"\S+", text):
            self.tokens.append(match.group())
            self.columns.append(match.start())
        self.pos = 0

    def check_nesting(self) -> None:
        """Refuse text nesting more than MAX_NESTING brackets, before any recursion.

        Every level the parser recurses into is opened by one of these brackets, so this one
        linear scan bounds the recursion of the parser and of every walker after it.
        """
        depth = 0
        for k, token in enumerate(self.tokens):
            if token in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    self.pos = k
                    raise self.fail(
                        f"at most {MAX_NESTING} nested brackets (the program nests too deeply)"
                    )
            elif token in _CLOSERS:
                depth -= 1

    def repeat_count(self) -> int:
        match = _REPEAT_RE.fullmatch(self.peek())
        # Leading zeros are harmless; more than two significant digits is always > 19 (and
        # int() of thousands of digits would raise ValueError).
        digits = (match.group(1).lstrip("0") or "0") if match is not None else ""
        if not digits or len(digits) > 2 or int(digits) > MAX_REPEAT:
            raise self.fail(f"a repeat count R=0 .. R={MAX_REPEAT}")
        self.pos += 1
        return int(digits)

    # -- helpers -------------------------------------------------------------------------
    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def fail(self, expected: str) -> DSLSyntaxError:
        at_end = self.pos >= len(self.tokens)
        token = "" if at_end else self.tokens[self.pos]
        column = len(self.text.rstrip()) if at_end else self.columns[self.pos]
        # A token can be thousands of characters long (R=999...); the message shows its start.
        shown = token if len(token) <= 40 else token[:40] + "..."
        where = "end of program" if at_end else f"token {self.pos} {shown!r} (column {column})"
        return DSLSyntaxError(
            f"unexpected {where}: expected {expected}",
            text=self.text,
            position=-1 if at_end else self.pos,
            token=token,
            expected=expected,
            column=column,
        )

    def expect(self, token: str) -> None:
        if self.peek() != token:
            raise self.fail(repr(token))
        self.pos += 1

    # -- grammar -------------------------------------------------------------------------
    def program(self) -> Program:
        self.expect("DEF")
        self.expect("run")
        self.expect("m(")
        body = self.block("m)")
        if self.pos != len(self.tokens):
            raise self.fail("nothing after the closing 'm)'")
        return Program(body)

    def block(self, closer: str) -> tuple[Stmt, ...]:
        stmts: list[Stmt] = []
        while self.peek() != closer:
            stmts.append(self.statement(closer, empty=not stmts))
        if not stmts:
            raise self.fail("a statement (a block may not be empty)")
        self.pos += 1
        return tuple(stmts)

    def _statement_expected(self, closer: str, empty: bool) -> str:
        actions = ", ".join(self.gram.actions)
        what = f"an action ({actions}) or WHILE, IF, IFELSE, REPEAT"
        return what if empty else f"{what}, or {closer!r}"

    def statement(self, closer: str, empty: bool) -> Stmt:
        tok = self.peek()
        if tok in ("WHILE", "IF", "IFELSE"):
            self.pos += 1
            cond = self.condition_slot()
            if tok == "WHILE":
                self.expect("w(")
                return While(cond, self.block("w)"))
            self.expect("i(")
            body = self.block("i)")
            if tok == "IF":
                return If(cond, body)
            self.expect("ELSE")
            self.expect("e(")
            return IfElse(cond, body, self.block("e)"))
        if tok == "REPEAT":
            self.pos += 1
            n = self.repeat_count()
            self.expect("r(")
            return Repeat(n, self.block("r)"))
        if self.gram.is_action(tok):
            self.pos += 1
            return Action(tok)
        raise self.fail(self._statement_expected(closer, empty))

    def condition_slot(self) -> Cond:
        self.expect("c(")
        cond = self.condition()
        self.expect("c)")
        return cond

    def condition(self) -> Cond:
        tok = self.peek()
        if tok == "not":
            self.pos += 1
            return Not(self.condition_slot())
        if tok in ("and", "or"):
            self.pos += 1
            left = self.condition_slot()
            right = self.condition_slot()
            return And(left, right) if tok == "and" else Or(left, right)
        if tok in ("True", "False"):
            self.pos += 1
            return BoolConst(tok == "True")
        if self.gram.is_perception(tok):
            self.pos += 1
            if not self.gram.takes_arg(tok):
                return Perception(tok)
            self.expect("h(")
            arg = self.peek()
            if not arg or arg in _CLOSERS or arg.endswith("("):
                values = ", ".join(self.gram.perception_args[tok])
                raise self.fail(f"a value for {tok} (one of {values})")
            self.pos += 1
            self.expect("h)")
            return Perception(tok, arg)
        perceptions = ", ".join(self.gram.perceptions)
        raise self.fail(f"a condition: a perception ({perceptions}) or 'not c( ... c)'")


def parse(text: str, domain: str = "karel") -> Program:
    """Parse DSL text into a Program.

    Args:
        text: Program in the benchmark's token format, tokens separated by whitespace.
        domain: ``"karel"`` or ``"minigrid"``; decides which actions and perceptions exist.

    Returns:
        The parsed program; ``str()`` of it is the canonical text.

    Raises:
        DSLSyntaxError: The text is not a program of the domain, or it nests more than
            :data:`~envs.limits.MAX_NESTING` brackets; the message names the offending token,
            its position and what was expected.
    """
    if not isinstance(text, str):
        raise DSLSyntaxError(f"a DSL program must be a string, got {type(text).__name__}")
    parser = _Parser(text, grammar(domain))
    parser.check_nesting()
    return parser.program()


def ensure_program(program: Program | str, domain: str = "karel") -> Program:
    """Return ``program`` parsed if it is text, unchanged if it is already a Program.

    Raises:
        DSLSyntaxError: ``program`` is text that does not parse.
    """
    if isinstance(program, Program):
        return program
    return parse(program, domain)
