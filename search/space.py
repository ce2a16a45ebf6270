"""The programmatic search space: random programs and neighbours (spec/benchmark.md §6.1-6.3).

The reference grows programs top-down from production probabilities and mutates them by
replacing one uniformly chosen AST node with a freshly grown one. Its AST writes a block of n
statements as n-1 right-nested ``Concatenate`` nodes; ours keeps tuple blocks, so this module
emulates the reference's node list: a block contributes, per position i < n-1, a
``Concatenate`` (the suffix of the block from i) followed by statement i, and then its last
statement. Choosing a ``Concatenate`` replaces that whole suffix with one freshly drawn
statement slot, which may itself be a ``Concatenate``, i.e. a new sequence. The mutation
distribution therefore matches the reference's.

Every random draw is one ``RandomState.random_sample()`` looked up in the same normalised
cumulative table that ``RandomState.choice(p=...)`` builds, so a draw consumes exactly what the
reference's ``choice`` consumes and picks the same entry (checked in the tests). Node choice
uses ``RandomState.randint`` as the reference's ``choice(list)`` does.

Limits (the reference's acceptance check, applied to every random program and neighbour):
height <= 4, at most 6 statements in a sequence, at most 45 tokens including ``DEF run m( m)``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from envs.dsl.ast import Action as ActionNode
from envs.dsl.ast import (
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
from envs.dsl.grammar import MAX_REPEAT, Grammar, grammar
from envs.dsl.parser import ensure_program
from search.limits import (
    MAX_HEIGHT,
    MAX_SEQUENCE,
    MAX_TOKENS,
    block_tokens,
    cond_tokens,
    program_tokens,
    within_limits,
)

# Statement kinds in the reference's probability-table order (dict order drives the draws).
_WHILE, _REPEAT, _CONCAT, _IF, _IFELSE, _ACTION = range(6)
_CONTROL = (_WHILE, _REPEAT, _IF, _IFELSE)
_FEATURE, _NOT = range(2)

# Slot types of the reference's production rules.
STMTS, STMTS_NO_CONCAT, BOOLS, BOOLS_NO_NOT, INT = range(5)


def _cdf(weights: tuple[float, ...], normalise: bool) -> tuple[float, ...]:
    """The cumulative table ``RandomState.choice`` builds from ``p``, as the reference passes it.

    The reference normalises filtered tables with ``list / np.sum(list)`` before calling
    ``choice``; leaf tables are passed as they are. ``choice`` then takes ``cumsum`` and divides
    by the last entry. Reproducing both steps with numpy keeps the float boundaries identical.
    """
    p = np.asarray(weights, dtype=np.float64)
    if normalise:
        p = np.asarray(list(weights)) / np.sum(list(weights))
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return tuple(float(x) for x in cdf)


def draw(rng: np.random.RandomState, cdf: tuple[float, ...]) -> int:
    """Index drawn with one uniform double, exactly as ``rng.choice(len(cdf), p=...)`` would."""
    return bisect_right(cdf, rng.random_sample())


@dataclass(frozen=True)
class _Tables:
    """Cumulative draw tables of one domain, precomputed once."""

    gram: Grammar
    actions: tuple[str, ...]
    action_cdf: tuple[float, ...]
    features: tuple[str, ...]
    feature_cdf: tuple[float, ...]
    arg_values: dict[str, tuple[str, ...]]
    arg_cdfs: dict[str, tuple[float, ...]]
    int_cdf: tuple[float, ...]
    const_cdf: tuple[float, ...]

    def stmt_cdf(self, allow_concat: bool, allow_control: bool) -> tuple[float, ...]:
        return _stmt_cdf(self.gram.domain, allow_concat, allow_control)

    def bool_cdf(self, allow_not: bool) -> tuple[float, ...]:
        return _bool_cdf(self.gram.domain, allow_not)


@cache
def _stmt_cdf(domain: str, allow_concat: bool, allow_control: bool) -> tuple[float, ...]:
    weights = list(grammar(domain).statement_probs.values())
    if not allow_control:
        for kind in _CONTROL:
            weights[kind] = 0.0
    if not allow_concat:
        weights[_CONCAT] = 0.0
    return _cdf(tuple(weights), normalise=True)


@cache
def _bool_cdf(domain: str, allow_not: bool) -> tuple[float, ...]:
    weights = list(grammar(domain).bool_probs.values())
    if not allow_not:
        weights[_NOT] = 0.0
    return _cdf(tuple(weights), normalise=True)


@cache
def tables(domain: str) -> _Tables:
    """The draw tables of a domain (``"karel"`` or ``"minigrid"``)."""
    gram = grammar(domain)
    arg_values = {name: tuple(values) for name, values in gram.perception_args.items()}
    return _Tables(
        gram=gram,
        actions=tuple(gram.action_probs),
        action_cdf=_cdf(tuple(gram.action_probs.values()), normalise=False),
        features=tuple(gram.perception_probs),
        feature_cdf=_cdf(tuple(gram.perception_probs.values()), normalise=False),
        arg_values=arg_values,
        arg_cdfs={
            name: _cdf(tuple(1.0 / len(values) for _ in values), normalise=False)
            for name, values in arg_values.items()
        },
        int_cdf=_cdf((1.0,), normalise=True),
        const_cdf=_cdf(tuple(1 / (MAX_REPEAT + 1) for _ in range(MAX_REPEAT + 1)), False),
    )


class _Grower:
    """Grows subtrees top-down like the reference's ``_fill_children``.

    ``h`` is the running height (sum of the height weights of a node and its ancestors) and
    ``seq`` the Concatenate-chain counter; both only restrict what may be drawn below.
    """

    def __init__(self, tab: _Tables, rng: np.random.RandomState) -> None:
        self.tab = tab
        self.rng = rng

    def stmt_slot(self, h: int, allow_concat: bool, in_concat: bool, seq: int) -> tuple[Stmt, ...]:
        """Fill one statement slot of a node with height ``h`` (Concatenate: counter ``seq``)."""
        if in_concat and seq + 1 >= MAX_SEQUENCE:
            allow_concat = False
        kind = draw(self.rng, self.tab.stmt_cdf(allow_concat, h < MAX_HEIGHT))
        return self.build_stmt(kind, h, seq + 1 if in_concat else 1)

    def build_stmt(self, kind: int, parent_h: int, seq: int) -> tuple[Stmt, ...]:
        """Grow a statement of ``kind``; a Concatenate comes back as its flattened sequence."""
        if kind == _ACTION:
            return (ActionNode(self.tab.actions[draw(self.rng, self.tab.action_cdf)]),)
        if kind == _CONCAT:
            first = self.stmt_slot(parent_h, False, True, seq)
            return first + self.stmt_slot(parent_h, True, True, seq)
        h = parent_h + 1
        if kind == _REPEAT:
            draw(self.rng, self.tab.int_cdf)  # the IntNode slot holds only ConstInt
            n = draw(self.rng, self.tab.const_cdf)
            return (Repeat(n, self.stmt_slot(h, True, False, seq)),)
        cond = self.bool_slot(allow_not=kind != _IFELSE)
        body = self.stmt_slot(h, True, False, seq)
        if kind == _WHILE:
            return (While(cond, body),)
        if kind == _IF:
            return (If(cond, body),)
        return (IfElse(cond, body, self.stmt_slot(h, True, False, seq)),)

    def bool_slot(self, allow_not: bool) -> Cond:
        """Fill one condition slot."""
        return self.build_bool(draw(self.rng, self.tab.bool_cdf(allow_not)))

    def build_bool(self, kind: int) -> Cond:
        if kind == _NOT:
            return Not(self.bool_slot(allow_not=False))
        name = self.tab.features[draw(self.rng, self.tab.feature_cdf)]
        if name in self.tab.arg_values:
            arg = self.tab.arg_values[name][draw(self.rng, self.tab.arg_cdfs[name])]
            return Perception(name, arg)
        return Perception(name)


def random_program(domain: str, rng: np.random.RandomState) -> Program:
    """Draw a random program from the reference's probabilistic grammar (spec §6.2).

    Programs are grown top-down and re-drawn until they pass :func:`within_limits`.

    Args:
        domain: ``"karel"`` or ``"minigrid"``.
        rng: The search RNG (numpy legacy ``RandomState``, as the reference uses).

    Returns:
        A program within the limits (height <= 4, <= 6 statements per sequence, <= 45 tokens).
    """
    grower = _Grower(tables(domain), rng)
    while True:
        program = Program(grower.stmt_slot(1, True, False, 0))
        if within_limits(program):
            return program


# -- neighbours ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    """One node of the reference's AST, addressed in our tuple AST.

    Attributes:
        kind: ``"suffix"`` (a Concatenate: block[index:]), ``"stmt"`` (block[index], not the
            last one of its block), ``"last"`` (the last statement of its block), ``"cond"``
            (a condition) or ``"int"`` (a REPEAT count).
        path: Steps from the Program to the block (suffix/stmt/last) or the node (cond) or
            the Repeat statement (int): ints index tuples, strings name fields.
        index: Position in the block (block sites only).
        slot: The production slot the node fills (``STMTS``, ``STMTS_NO_CONCAT``, ``BOOLS``,
            ``BOOLS_NO_NOT``, ``INT``).
        height: Sum of the height weights of the node and its ancestors (the Program counts 1).
    """

    kind: str
    path: tuple[int | str, ...]
    index: int
    slot: int
    height: int


def _cond_sites(cond: Cond, path: tuple, slot: int, h: int, out: list[Site]) -> None:
    out.append(Site("cond", path, -1, slot, h))
    if isinstance(cond, Not):
        _cond_sites(cond.cond, (*path, "cond"), BOOLS_NO_NOT, h, out)
    elif isinstance(cond, And | Or):
        _cond_sites(cond.left, (*path, "left"), BOOLS, h, out)
        _cond_sites(cond.right, (*path, "right"), BOOLS, h, out)


def _block_sites(block: tuple[Stmt, ...], path: tuple, h: int, out: list[Site]) -> None:
    last = len(block) - 1
    for i, stmt in enumerate(block):
        own = 1 if not isinstance(stmt, ActionNode) else 0
        if i < last:
            out.append(Site("suffix", path, i, STMTS, h))
            out.append(Site("stmt", path, i, STMTS_NO_CONCAT, h + own))
        else:
            out.append(Site("last", path, i, STMTS, h + own))
        here = (*path, i)
        if isinstance(stmt, Repeat):
            out.append(Site("int", here, -1, INT, h + own))
        elif not isinstance(stmt, ActionNode):
            slot = BOOLS_NO_NOT if isinstance(stmt, IfElse) else BOOLS
            _cond_sites(stmt.cond, (*here, "cond"), slot, h + own, out)
        if not isinstance(stmt, ActionNode):
            _block_sites(stmt.body, (*here, "body"), h + own, out)
        if isinstance(stmt, IfElse):
            _block_sites(stmt.orelse, (*here, "orelse"), h + own, out)


def sites(program: Program) -> list[Site]:
    """Every node of the program but the root, in the reference's pre-order."""
    out: list[Site] = []
    _block_sites(program.body, ("body",), 1, out)
    return out


def _with(obj: Any, field: str, value: Any) -> Any:
    """Copy of a frozen node with one field changed (faster than ``dataclasses.replace``)."""
    if isinstance(obj, Program):
        return Program(value)
    if isinstance(obj, Not):
        return Not(value)
    if isinstance(obj, And | Or):
        return type(obj)(value, obj.right) if field == "left" else type(obj)(obj.left, value)
    if isinstance(obj, Repeat):
        return Repeat(value, obj.body) if field == "n" else Repeat(obj.n, value)
    if isinstance(obj, IfElse):
        if field == "cond":
            return IfElse(value, obj.body, obj.orelse)
        if field == "body":
            return IfElse(obj.cond, value, obj.orelse)
        return IfElse(obj.cond, obj.body, value)
    if field == "cond":
        return type(obj)(value, obj.body)
    return type(obj)(obj.cond, value)


def _update(obj: Any, path: tuple, fn: Callable[[Any], Any]) -> Any:
    """Copy of ``obj`` with the part at ``path`` replaced by ``fn(part)`` (path copying)."""
    if not path:
        return fn(obj)
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        return (*obj[:step], _update(obj[step], rest, fn), *obj[step + 1 :])
    return _with(obj, step, _update(getattr(obj, step), rest, fn))


def _get(obj: Any, path: tuple) -> Any:
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


def _draw_replacement(grower: _Grower, site: Site) -> Any:
    """Grow the node that replaces the one at ``site`` (spec §6.3 steps 3-4).

    Returns an int (REPEAT count), a condition, or a tuple of statements (a statement, or
    the flattened sequence of a new Concatenate).
    """
    rng, tab = grower.rng, grower.tab
    if site.slot == INT:
        draw(rng, tab.int_cdf)
        return draw(rng, tab.const_cdf)
    if site.slot in (BOOLS, BOOLS_NO_NOT):
        return grower.build_bool(draw(rng, tab.bool_cdf(site.slot == BOOLS)))
    # No height restriction on the replacing node itself; its subtree is grown below the
    # height of the node it replaces. The reference's sequence counter is always 1 here.
    kind = draw(rng, tab.stmt_cdf(site.slot == STMTS, True))
    return grower.build_stmt(kind, site.height, 1)


def _replaced_tokens(program: Program, site: Site) -> int:
    """Tokens of the part of ``program`` that a replacement at ``site`` removes."""
    part = _get(program, site.path)
    if site.slot == INT:
        return 0  # R=n stays one token
    if site.slot in (BOOLS, BOOLS_NO_NOT):
        return cond_tokens(part)
    if site.kind == "stmt":
        return block_tokens(part[site.index : site.index + 1])
    return block_tokens(part[site.index :])


def _new_tokens(new: Any) -> int:
    if isinstance(new, int):
        return 0
    if isinstance(new, tuple):
        return block_tokens(new)
    return cond_tokens(new)


def _apply(program: Program, site: Site, new: Any) -> Program:
    if site.slot == INT:
        return _update(program, (*site.path, "n"), lambda _: new)
    if site.slot in (BOOLS, BOOLS_NO_NOT):
        return _update(program, site.path, lambda _: new)
    i = site.index
    if site.kind == "stmt":
        return _update(program, site.path, lambda b: (*b[:i], *new, *b[i + 1 :]))
    return _update(program, site.path, lambda b: (*b[:i], *new))


def neighbours(
    program: Program | str, rng: np.random.RandomState, domain: str
) -> Iterator[Program]:
    """Lazily yield neighbours of a program, one mutation each, forever.

    Each neighbour re-draws (node choice and replacement) until it passes
    :func:`within_limits`, so neighbours of an over-long program are forced back inside the
    limits, as in the reference. Take as many as you need with ``itertools.islice``.

    Args:
        program: The parent program (text in the domain's DSL, or a parsed Program).
        rng: The RNG the draws come from.
        domain: ``"karel"`` or ``"minigrid"``.

    Yields:
        Mutated programs (they may equal the parent or each other, as in the reference).
    """
    parent = ensure_program(program, domain)
    grower = _Grower(tables(domain), rng)
    parent_sites = sites(parent)
    n_sites = len(parent_sites)
    parent_tokens = program_tokens(parent)
    removed: dict[int, int] = {}  # site index -> tokens its replacement removes
    while True:
        while True:
            index = rng.randint(0, n_sites)
            site = parent_sites[index]
            new = _draw_replacement(grower, site)
            if index not in removed:
                removed[index] = _replaced_tokens(parent, site)
            # Cheap token test first: most rejected candidates are too long.
            if parent_tokens - removed[index] + _new_tokens(new) > MAX_TOKENS:
                continue
            child = _apply(parent, site, new)
            if within_limits(child):
                break
        yield child


def neighbour(program: Program | str, rng: np.random.RandomState, domain: str) -> Program:
    """One neighbour of ``program`` (see :func:`neighbours`)."""
    return next(neighbours(program, rng, domain))


__all__ = [
    "MAX_HEIGHT", "MAX_SEQUENCE", "MAX_TOKENS", "Site", "draw", "neighbour", "neighbours",
    "random_program", "sites", "tables", "within_limits",
]  # fmt: skip
