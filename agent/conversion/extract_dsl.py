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
* ``REPEAT R=n`` is clamped into 0..19, as the reference's normaliser does (§7.4, step 8);
  only ASCII digits count, and a count of any length is read without converting it whole.

Limits: the answer is at most ``MAX_INPUT_CHARS`` long, tokenising is linear in it (no regular
expression here can backtrack over more than one token), and the program nests at most
:data:`~envs.limits.MAX_NESTING` brackets, counting the ones this reader supplies.

Unlike the reference, ``not c( markersPresent c)`` is *not* rewritten to ``noMarkersPresent``
(they are different perceptions in our DSL) and ``WHILE c( True c)`` is kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.conversion.limits import Budget, check_program
from agent.conversion.source import check_size
from agent.conversion.vocabulary import resolve_name
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
from envs.dsl.parser import parse
from envs.errors import ConversionError, DSLSyntaxError
from envs.limits import MAX_NESTING

# One left-to-right pass. A dotted word is matched greedily and always succeeds, and its
# optional ``()`` suffix is tried once at its end: a pattern that could fail after a long
# dotted name (``a.a.a...``) and be retried at every later position would be quadratic.
_TOKEN = re.compile(
    r"(?P<open>\b[mcwierh]\s*\(|[({])|(?P<close>\b[mcwierh]\s*\)|[)}])"
    r"|R\s*=\s*(?P<repeat>-?[0-9]+)|(?P<number>\b[0-9]+\b)"
    r"|(?P<word>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?P<call>\s*\(\s*\))?|(?P<other>\S)"
)
_SPACE = re.compile(r"\s+")
_STRAY = {"c", "i", "m", "e", "r", "w", "h"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # open, close, repeat, number, word
    text: str
    offset: int


def _tokenise(text: str, gram: Grammar) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        word = m.group("word")
        if word is not None:
            name = word.rsplit(".", 1)[-1]  # karel.move -> move
            out.append(_Tok("word", name, m.start()))
            call = m.group("call")
            if call is not None and resolve_name(name, gram) is None:
                # Not a DSL name: its "()" are brackets, as if the suffix were not attached.
                start = m.start("call")
                out.append(_Tok("open", "(", start + call.index("(")))
                out.append(_Tok("close", ")", start + call.index(")")))
            continue
        kind = m.lastgroup or "other"
        if kind == "other":
            continue  # quotes, ';', ':', ',', backticks: noise around the tokens
        value = m.group(kind)
        if kind in ("open", "close"):
            value = _SPACE.sub("", value)
        out.append(_Tok(kind, value, m.start()))
    return out


def _clamped_count(text: str) -> int:
    """``R=n`` clamped into 0..MAX_REPEAT (spec §7.4) without converting a long digit string."""
    if text.startswith("-"):
        return 0
    digits = text.lstrip("0") or "0"
    return MAX_REPEAT if len(digits) > 2 else min(int(digits), MAX_REPEAT)


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

    # ``depth`` is the number of DSL brackets open around what is being read (``m(`` is 1),
    # counting the ones this reader supplies, so the program it returns nests at most
    # MAX_NESTING brackets and the recursion here is bounded by the same number.
    def program(self) -> Program:
        self.take("word", "DEF")
        self.take("word", "run")
        self.take("open")
        body = self.block(1)
        if not body:
            raise ConversionError("the DSL program is empty", reason="empty_program")
        return Program(body)

    def too_deep(self) -> ConversionError:
        return self.fail(
            f"at most {MAX_NESTING} nested brackets (the program nests too deeply)", "too_deep"
        )

    def block(self, depth: int) -> tuple[Stmt, ...]:
        if depth > MAX_NESTING:
            raise self.too_deep()
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
                return (Repeat(_clamped_count(count.text), self.body(depth, "REPEAT")),)
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
            raise self.too_deep()
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
        if depth + 1 > MAX_NESTING:  # the argument's h( ... h)
            raise self.too_deep()
        bracketed = self.take("open")
        arg = self.peek()
        if arg is None or arg.kind != "word":
            raise self.fail(f"a value for {resolved.name}")
        self.pos += 1
        if bracketed:
            self.take("close")
        return Perception(resolved.name, arg.text.lower())


def extract_program(text: str, domain: str = "karel") -> Program:
    """Extract the DSL program of a model answer as a parsed :class:`Program`.

    Raises:
        ConversionError: As :func:`extract_dsl`, or the program is too large or nests too
            deeply (reasons ``"too_large"``, ``"too_deep"``).
    """
    gram = grammar(domain)
    text = check_size(text)
    tokens = _span(_tokenise(text, gram))
    program = _Reader(tokens, gram, text).program()
    check_program(program)
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
