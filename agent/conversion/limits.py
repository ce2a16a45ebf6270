"""How big a conversion may get, and the checks that hold it there.

The Python converter and the DSL extractor both count what they build against these limits
(:class:`Budget` while building, :func:`check_program` on the result), and both turn large loop
counts into exact nested REPEATs (:func:`repeat_exactly`). docs/pythonic-dsl.md section 10 lists
every limit and where it is checked.
"""

from __future__ import annotations

from envs.dsl.ast import (
    Action,
    And,
    If,
    IfElse,
    Node,
    Not,
    Or,
    Program,
    Repeat,
    Stmt,
    While,
    nesting,
)
from envs.dsl.grammar import MAX_REPEAT
from envs.errors import ConversionError
from envs.limits import MAX_NESTING as MAX_DSL_NESTING

MAX_INPUT_CHARS = 100_000
"""Answers longer than this are refused before any parsing."""

MAX_NESTING = 40
"""Deepest nesting of Python statements, conditions or helper calls the converter follows
(a limit on the model's Python; the DSL it produces is held to envs.limits.MAX_NESTING)."""

MAX_STATEMENTS = 5_000
"""Most DSL statements one conversion may produce (helper inlining can multiply code)."""

MAX_NODES = 50_000
"""Most DSL nodes (statements plus condition nodes) one conversion may produce."""

MAX_REPEAT_COUNT = 10**9
"""Largest loop count turned into nested REPEATs; larger counts are refused."""


def repeat_exactly(n: int, body: tuple[Stmt, ...], line: int | None = None) -> tuple[Stmt, ...]:
    """Statements that run ``body`` exactly ``n`` times using REPEAT counts 0..19 only.

    A count above 19 becomes ``q`` repetitions of ``REPEAT R=19`` (nested, recursively) followed
    by ``REPEAT R=r``: REPEAT has no state and costs no calls, so this is exactly equivalent.
    For example 25 becomes ``REPEAT R=19 r( body r) REPEAT R=6 r( body r)``.

    Raises:
        ConversionError: ``n`` is negative or above :data:`MAX_REPEAT_COUNT`.
    """
    if n < 0 or n > MAX_REPEAT_COUNT:
        raise ConversionError(
            f"line {line}: a loop count of {n} is out of range (0 .. {MAX_REPEAT_COUNT})",
            reason="repeat_count",
            line=line,
        )
    if n <= MAX_REPEAT:
        return (Repeat(n, body),)
    q, r = divmod(n, MAX_REPEAT)
    full = (Repeat(MAX_REPEAT, body),)
    out = full if q == 1 else repeat_exactly(q, full, line)
    if r:
        out = (*out, Repeat(r, body))
    return out


def _too_large(limit: int, what: str, line: int | None = None) -> ConversionError:
    return ConversionError(
        f"the program grows past {limit} DSL {what} (helpers inlined); write a shorter program",
        reason="too_large",
        line=line,
    )


class Budget:
    """Counts the statements and condition nodes a conversion creates, each once, so that
    helper inlining cannot blow up (a statement passed up from a helper or a folded branch is
    not counted again)."""

    def __init__(self, limit: int = MAX_STATEMENTS, node_limit: int = MAX_NODES) -> None:
        self.limit = limit
        self.node_limit = node_limit
        self.used = 0
        self.nodes = 0

    def spend(self, n: int, line: int | None, nodes: int = 0) -> None:
        """Account for ``n`` more statements and ``nodes`` more condition nodes; raise once a
        limit is passed.

        Raises:
            ConversionError: Reason ``"too_large"``.
        """
        self.used += n
        self.nodes += n + nodes
        if self.used > self.limit:
            raise _too_large(self.limit, "statements", line)
        if self.nodes > self.node_limit:
            raise _too_large(self.node_limit, "nodes", line)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Program | Repeat):
        return node.body
    if isinstance(node, While | If):
        return (node.cond, *node.body)
    if isinstance(node, IfElse):
        return (node.cond, *node.body, *node.orelse)
    if isinstance(node, Not):
        return (node.cond,)
    if isinstance(node, And | Or):
        return (node.left, node.right)
    return ()


def cond_size(cond: Node) -> int:
    """Number of nodes in a condition (iterative: conditions may be chains)."""
    count, stack = 0, [cond]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(_children(node))
    return count


def check_program(program: Program) -> None:
    """Refuse a converted program that is too big or nests too deeply, before anything
    recursive (printing, parsing) touches it.

    Sizes are counted as printed: a body shared by two REPEATs (see :func:`repeat_exactly`)
    counts twice, which a walk with a memo per node does without expanding it.

    Raises:
        ConversionError: Reason ``"too_large"`` (more than :data:`MAX_STATEMENTS` statements or
            :data:`MAX_NODES` nodes) or ``"too_deep"`` (more than
            :data:`envs.limits.MAX_NESTING` nested brackets).
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (statements, nodes), expanded
    stack: list[tuple[Node, bool]] = [(program, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        stmts = 1 if isinstance(node, Action | While | If | IfElse | Repeat) else 0
        nodes = 1
        for kid in kids:
            ks, kn = sizes[id(kid)]
            stmts, nodes = stmts + ks, nodes + kn
        sizes[id(node)] = (stmts, nodes)
    stmts, nodes = sizes[id(program)]
    if stmts > MAX_STATEMENTS:
        raise _too_large(MAX_STATEMENTS, "statements")
    if nodes > MAX_NODES:
        raise _too_large(MAX_NODES, "nodes")
    depth = nesting(program)
    if depth > MAX_DSL_NESTING:
        raise ConversionError(
            f"the program nests {depth} brackets deep, more than the limit of "
            f"{MAX_DSL_NESTING}: "
            "nest fewer loops and conditions, or split a long and/or chain",
            reason="too_deep",
        )
