"""Extract and repair a DSL program written by a model (spec/benchmark.md §7.4, done exactly).

The reference rewrites strings until they parse. This extractor tokenises the answer and reads
the program with a *tolerant* recursive-descent parser that repairs only what has one meaning:

* ``move()`` / ``turn_left()`` / ``karel.move`` spellings become DSL names (any casing);
  quotes, ``;``, ``:``, commas and backticks are dropped; ``{``/``}`` and ``(``/``)`` act as
  brackets; stray bracket letters (``c i m e r w``) are dropped.
* The program is the text from the last ``DEF`` before the first ``m)`` up to that ``m)`` (or to
  the end when no ``m)`` follows, closing what is open).
* Missing ``c(``/``c)`` around conditions and ``h(``/``h)`` around Minigrid arguments are
  supplied; closing brackets are matched to the innermost open construct whatever their letter.
* ``IF`` and ``IFELSE`` are chosen by whether ``ELSE`` follows the body.
* ``true``/``false`` become ``True``/``False`` and ``not`` of a literal is folded.
* ``REPEAT R=n`` with n > 19 becomes the exactly equivalent nested REPEATs (never clamped).

Unlike the reference, ``not c( markersPresent c)`` is *not* rewritten to ``noMarkersPresent``
(they are different perceptions in our DSL) and ``WHILE c( True c)`` is kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.conversion.common import MAX_NESTING, Budget, repeat_exactly, resolve_name
from agent.conversion.source import check_size
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
    Stmt,
    While,
)
from envs.dsl.grammar import Grammar, grammar
from envs.dsl.parser import parse
from envs.errors import ConversionError, DSLSyntaxError

_TOKEN = re.compile(
    r"(?P<open>\b[mcwierh]\s*\(|[({])|(?P<close>\b[mcwierh]\s*\)|[)}])"
    r"|R\s*=\s*(?P<repeat>\d+)|(?P<number>\b\d+\b)|(?P<word>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|(?P<other>\S)"
)
_EMPTY_CALL = re.compile(r"\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(\s*\)")
_STRAY = {"c", "i", "m", "e", "r", "w", "h"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # open, close, repeat, number, word
    text: str
    offset: int


def _tokenise(text: str, gram: Grammar) -> list[_Tok]:
    def unparen(match: re.Match) -> str:
        name = match.group(1).rsplit(".", 1)[-1]
        return name if resolve_name(name, gram) is not None else match.group(0)

    text = _EMPTY_CALL.sub(lambda m: unparen(m).ljust(len(m.group(0))), text)
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "other":
            continue  # quotes, ';', ':', ',', backticks: noise around the tokens
        value = m.group(kind)
        if kind in ("open", "close"):
            value = value.replace(" ", "").replace("\t", "").replace("\n", "")
        if kind == "word":
            value = value.rsplit(".", 1)[-1]  # karel.move -> move
        out.append(_Tok(kind, value, m.start()))
    return out


def _span(tokens: list[_Tok]) -> list[_Tok]:
    defs = [k for k, t in enumerate(tokens) if t.kind == "word" and t.text == "DEF"]
    if not defs:
        raise ConversionError(
            "no DSL program found: it must start with DEF run m(", reason="no_dsl"
        )
    for k, tok in enumerate(tokens):
        if tok.kind == "close" and tok.text == "m)":
            before = [d for d in defs if d < k]
            if before:
                return tokens[before[-1] : k + 1]
    return tokens[defs[-1] :]


class _Reader:
    def __init__(self, tokens: list[_Tok], gram: Grammar, text: str) -> None:
        self.tokens = tokens
        self.gram = gram
        self.text = text
        self.pos = 0
        self.budget = Budget()

    def peek(self) -> _Tok | None:
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            if tok.kind == "word" and tok.text in _STRAY:
                self.pos += 1  # a bracket letter that lost its parenthesis
                continue
            return tok
        return None

    def fail(self, expected: str, reason: str = "dsl_syntax") -> ConversionError:
        tok = self.peek()
        if tok is None:
            message = f"the DSL program ends early: expected {expected}"
            return ConversionError(message, reason=reason)
        snippet = self.text[max(tok.offset - 30, 0) : tok.offset + 30].replace("\n", " ")
        return ConversionError(
            f"unexpected {tok.text!r} in the DSL program near {snippet!r}: expected {expected}",
            reason=reason,
        )

    def take(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == kind and (text is None or tok.text == text):
            self.pos += 1
            return True
        return False

    def program(self) -> Program:
        self.take("word", "DEF")
        self.take("word", "run")
        self.take("open")
        body = self.block(0)
        if not body:
            raise ConversionError("the DSL program is empty", reason="empty_program")
        return Program(body)

    def block(self, depth: int) -> tuple[Stmt, ...]:
        if depth > MAX_NESTING:
            raise self.fail(f"at most {MAX_NESTING} nested blocks", "too_deep")
        stmts: list[Stmt] = []
        while (tok := self.peek()) is not None and tok.kind != "close":
            stmts.extend(self.statement(depth))
        self.take("close")
        self.budget.spend(len(stmts), None)
        return tuple(stmts)

    def body(self, depth: int, what: str) -> tuple[Stmt, ...]:
        self.take("open")
        stmts = self.block(depth + 1)
        if not stmts:
            raise ConversionError(f"empty {what} body in the DSL program", reason="dsl_syntax")
        return stmts

    def statement(self, depth: int) -> tuple[Stmt, ...]:
        tok = self.peek()
        if tok is not None and tok.kind == "word":
            if tok.text in ("WHILE", "IF", "IFELSE"):
                self.pos += 1
                cond = self.slot(depth)
                body = self.body(depth, tok.text)
                if tok.text == "WHILE":
                    return (While(cond, body),)
                if self.take("word", "ELSE"):
                    return (IfElse(cond, body, self.body(depth, "ELSE")),)
                return (If(cond, body),)
            if tok.text == "REPEAT":
                self.pos += 1
                count = self.peek()
                if count is None or count.kind not in ("repeat", "number"):
                    raise self.fail("a repeat count R=n")
                self.pos += 1
                return repeat_exactly(int(count.text), self.body(depth, "REPEAT"))
            resolved = resolve_name(tok.text, self.gram)
            if resolved is not None and resolved.kind == "action":
                self.pos += 1
                return (Action(resolved.name),)
        actions = ", ".join(self.gram.actions)
        raise self.fail(f"an action ({actions}) or WHILE, IF, IFELSE, REPEAT")

    def slot(self, depth: int) -> Cond:
        bracketed = self.take("open")
        cond = self.condition(depth + 1)
        if bracketed or (tok := self.peek()) is not None and tok.text == "c)":
            self.take("close")
        return cond

    def condition(self, depth: int) -> Cond:
        if depth > MAX_NESTING:
            raise self.fail(f"a condition nested at most {MAX_NESTING} deep", "too_deep")
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise self.fail("a condition")
        self.pos += 1
        word = tok.text
        if word == "not":
            inner = self.slot(depth)
            return BoolConst(not inner.value) if isinstance(inner, BoolConst) else Not(inner)
        if word in ("and", "or"):
            left, right = self.slot(depth), self.slot(depth)
            return And(left, right) if word == "and" else Or(left, right)
        if word.lower() in ("true", "false"):
            return BoolConst(word.lower() == "true")
        resolved = resolve_name(word, self.gram)
        if resolved is None or resolved.kind != "perception":
            self.pos -= 1
            raise self.fail("a perception (" + ", ".join(self.gram.perceptions) + ")")
        if not self.gram.takes_arg(resolved.name):
            return Perception(resolved.name)
        bracketed = self.take("open")
        arg = self.peek()
        if arg is None or arg.kind != "word":
            raise self.fail(f"a value for {resolved.name}")
        self.pos += 1
        if bracketed:
            self.take("close")
        return Perception(resolved.name, arg.text.lower())


def extract_program(text: str, domain: str = "karel") -> Program:
    """Extract the DSL program of a model answer as a parsed :class:`Program`."""
    gram = grammar(domain)
    text = check_size(text)
    tokens = _span(_tokenise(text, gram))
    program = _Reader(tokens, gram, text).program()
    try:
        parse(str(program), domain)
    except DSLSyntaxError as err:
        raise ConversionError(f"the extracted program is not valid DSL: {err}") from err
    return program


def extract_dsl(text: str, domain: str = "karel") -> str:
    """Extract a DSL program from a model answer and return it as canonical DSL text.

    Args:
        text: The whole answer; the program starts at the last ``DEF`` before the first ``m)``.
        domain: ``"karel"`` or ``"minigrid"``.

    Returns:
        Canonical DSL text.

    Raises:
        ConversionError: No program was found (reason ``"no_dsl"``) or it cannot be repaired
            (reason ``"dsl_syntax"``, the message names the token and its surroundings).
    """
    return str(extract_program(text, domain))
