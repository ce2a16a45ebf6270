"""The search space's size limits, computed in one pass (the hot path of neighbour generation).

The reference accepts a program when its height is at most 4 (at most 3 nested control
structures), no sequence has more than 6 statements and its text has at most 45 tokens
including ``DEF run m( m)``. ``envs.dsl.ast`` has one function per measure; neighbour
generation checks tens of thousands of candidates per second, so this module computes all
three in a single recursion and token counts arithmetically, without building token lists.
"""

from __future__ import annotations

from envs.dsl.ast import (
    Action,
    And,
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

MAX_HEIGHT = 4
MAX_SEQUENCE = 6
MAX_TOKENS = 45

_PROGRAM_TOKENS = 4  # DEF run m( m)


def cond_tokens(cond: Cond) -> int:
    """Tokens of a condition (``front_object_type h( ball h)`` is 4)."""
    if isinstance(cond, Perception):
        return 1 if cond.arg is None else 4
    if isinstance(cond, Not):
        return 3 + cond_tokens(cond.cond)
    if isinstance(cond, And | Or):
        return 5 + cond_tokens(cond.left) + cond_tokens(cond.right)
    return 1  # True / False


def block_tokens(block: tuple[Stmt, ...]) -> int:
    """Tokens of a statement sequence."""
    return sum(stmt_tokens(s) for s in block)


def stmt_tokens(stmt: Stmt) -> int:
    """Tokens of one statement and everything inside it."""
    if isinstance(stmt, Action):
        return 1
    if isinstance(stmt, Repeat):
        return 4 + block_tokens(stmt.body)  # REPEAT R=n r( ... r)
    if isinstance(stmt, IfElse):
        return 8 + cond_tokens(stmt.cond) + block_tokens(stmt.body) + block_tokens(stmt.orelse)
    return 5 + cond_tokens(stmt.cond) + block_tokens(stmt.body)  # WHILE / IF


def _block_metrics(block: tuple[Stmt, ...]) -> tuple[int, int, int]:
    """(tokens, control nesting, longest sequence) of a block."""
    tokens, depth, longest = 0, 0, len(block)
    for stmt in block:
        if isinstance(stmt, Action):
            tokens += 1
            continue
        t, d, s = _block_metrics(stmt.body)
        if isinstance(stmt, IfElse):
            t2, d2, s2 = _block_metrics(stmt.orelse)
            t, d, s = t + t2 + 3, max(d, d2), max(s, s2)
        tokens += t + (4 if isinstance(stmt, Repeat) else 5 + cond_tokens(stmt.cond))
        depth = max(depth, d + 1)
        longest = max(longest, s)
    return tokens, depth, longest


def within_limits(program: Program) -> bool:
    """The reference's acceptance check: height <= 4, sequences <= 6, tokens <= 45."""
    tokens, depth, longest = _block_metrics(program.body)
    return (
        tokens + _PROGRAM_TOKENS <= MAX_TOKENS
        and depth + 1 <= MAX_HEIGHT
        and longest <= MAX_SEQUENCE
    )


def program_tokens(program: Program) -> int:
    """Tokens of the canonical text, ``DEF run m( m)`` included."""
    return _PROGRAM_TOKENS + block_tokens(program.body)


def text_if_fits(program: Program, max_tokens: int) -> str | None:
    """``str(program)`` if it is non-empty and within the size limits, else None.

    The limits are the reference's height and sequence length and ``max_tokens`` tokens
    (``DEF run m( m)`` included).
    """
    out = ["DEF run m("]
    tokens, depth, longest = _measure(program.body, out)
    if tokens + 4 <= max_tokens and depth < MAX_HEIGHT and longest <= MAX_SEQUENCE and out[1:]:
        out.append("m)")
        return " ".join(out)
    return None


def _measure(block: tuple, out: list[str]) -> tuple[int, int, int]:
    """Append a block's text to ``out``; return its (tokens, control nesting, longest block).

    One pass for what ``str()`` and :func:`within_limits` each walk the tree
    for: every candidate needs both. (Memoising per node was measured slower.)
    """
    tokens, depth, longest = 0, 0, len(block)
    for stmt in block:
        kind = type(stmt)
        if kind is Action:
            out.append(stmt.name)
            tokens += 1
            continue
        if kind is Repeat:
            out.append(f"REPEAT R={stmt.n} r(")
            t, d, s = _measure(stmt.body, out)
            out.append("r)")
            t += 4
        else:
            out += (_HEADS[kind], "c(", str(stmt.cond), "c)", _OPEN[kind])
            t, d, s = _measure(stmt.body, out)
            out.append(_CLOSE[kind])
            t += 5 + cond_tokens(stmt.cond)
            if kind is IfElse:
                out.append("ELSE e(")
                t2, d2, s2 = _measure(stmt.orelse, out)
                out.append("e)")
                t, d, s = t + t2 + 3, max(d, d2), max(s, s2)
        tokens += t
        if d >= depth:
            depth = d + 1
        if s > longest:
            longest = s
    return tokens, depth, longest


_HEADS = {While: "WHILE", If: "IF", IfElse: "IFELSE"}
_OPEN = {While: "w(", If: "i(", IfElse: "i("}
_CLOSE = {While: "w)", If: "i)", IfElse: "i)"}
