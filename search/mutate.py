"""Structural edits of programs for the mosaic search (fast, on Python's own RNG).

Scheduled HC's neighbourhood (:mod:`search.space`) replaces one node with a freshly grown
subtree, drawing every choice exactly as the reference does. That is slow (numpy scalar draws)
and cannot make the small structural changes a good program often needs: put an existing
statement under a new ``IF``, delete one statement, swap two, move a statement into a loop.
This module's :class:`Mutator` makes those edits directly, plus the reference's kind of
subtree regrowth and splices of library fragments (:mod:`search.library`), drawing from one
``random.Random``. Every edit returns a new immutable program or None when it does not apply;
callers check the size limits (:func:`search.limits.within_limits`).

Nothing here knows a task: edits use only the domain's grammar (actions, perceptions and the
production probabilities of spec/benchmark.md §6.1).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Any

from envs.dsl.ast import Action, Cond, If, IfElse, Not, Perception, Program, Repeat, Stmt, While
from envs.dsl.grammar import MAX_REPEAT, grammar
from search.limits import MAX_HEIGHT, MAX_SEQUENCE, block_tokens, stmt_tokens
from search.space import _get, _update

Path = tuple[Any, ...]
Block = tuple[Stmt, ...]
_MAX_DEPTH = MAX_HEIGHT - 1  # control structures that may nest


@dataclass(frozen=True)
class Vocabulary:
    """A domain's actions and perceptions with their draw tables (spec §6.1)."""

    actions: tuple[str, ...]
    action_cdf: tuple[float, ...]
    perceptions: tuple[Perception, ...]
    perception_cdf: tuple[float, ...]
    not_prob: float


def _cdf(weights: list[float]) -> tuple[float, ...]:
    total = sum(weights)
    return tuple(x / total for x in accumulate(weights))


@cache
def vocabulary(domain: str) -> Vocabulary:
    """The actions and perceptions of ``domain`` (``"karel"`` or ``"minigrid"``)."""
    gram = grammar(domain)
    percepts: list[Perception] = []
    weights: list[float] = []
    for name, p in gram.perception_probs.items():
        args = gram.perception_args.get(name)
        if args:
            percepts += [Perception(name, a) for a in args]
            weights += [p / len(args)] * len(args)
        else:
            percepts.append(Perception(name))
            weights.append(p)
    return Vocabulary(
        actions=tuple(gram.action_probs),
        action_cdf=_cdf(list(gram.action_probs.values())),
        perceptions=tuple(percepts),
        perception_cdf=_cdf(weights),
        not_prob=float(gram.bool_probs.get("Not", 0.0)),
    )


def _pick(rng: random.Random, items: tuple[Any, ...], cdf: tuple[float, ...]) -> Any:
    return items[min(bisect_right(cdf, rng.random()), len(items) - 1)]


@dataclass(frozen=True, slots=True)
class Spot:
    """A statement position: ``block`` at ``path`` (inside ``depth`` control structures)."""

    path: Path
    depth: int
    length: int


class Spots(list):
    """The blocks of a program (a list of :class:`Spot`) plus indexes of its statements.

    Attributes:
        stmts: Every statement as ``(spot, index)``.
        controls: The control structures among them.
        conds: The statements with a condition (WHILE, IF, IFELSE).
    """

    def __init__(self) -> None:
        super().__init__()
        self.stmts: list[tuple[Spot, int]] = []
        self.controls: list[tuple[Spot, int]] = []
        self.conds: list[tuple[Spot, int]] = []


def spots(program: Program) -> Spots:
    """Every statement block of ``program`` with its nesting depth, root block first."""
    out = Spots()

    def walk(block: Block, path: Path, depth: int) -> None:
        spot = Spot(path, depth, len(block))
        out.append(spot)
        for i, stmt in enumerate(block):
            out.stmts.append((spot, i))
            if isinstance(stmt, Action):
                continue
            out.controls.append((spot, i))
            if not isinstance(stmt, Repeat):
                out.conds.append((spot, i))
            walk(stmt.body, (*path, i, "body"), depth + 1)
            if isinstance(stmt, IfElse):
                walk(stmt.orelse, (*path, i, "orelse"), depth + 1)

    walk(program.body, ("body",), 0)
    return out


def _height(stmt: Stmt) -> int:
    if isinstance(stmt, Action):
        return 0
    inner = max((_height(s) for s in stmt.body), default=0)
    if isinstance(stmt, IfElse):
        inner = max(inner, max((_height(s) for s in stmt.orelse), default=0))
    return 1 + inner


Edit = Callable[[random.Random, Program, "Spots"], "Program | None"]


class Mutator:
    """Random edits of programs of one domain.

    Args:
        domain: ``"karel"`` or ``"minigrid"``.
        fragments: Optional source of library fragments: an object with ``statement(rng)``,
            ``block(rng)`` and ``condition(rng)`` returning a fragment or None
            (:class:`search.library.Library`).
    """

    def __init__(self, domain: str, fragments: Any = None) -> None:
        self.domain = domain
        self.vocab = vocabulary(domain)
        self.fragments = fragments
        # (edit, weight): weights favour small local edits; splices need a library.
        # (edit, weight). Deletes, swaps, unwraps and negations are also enumerated once per
        # parent (local_edits), and small edits soon repeat programs already seen, so the
        # weights favour edits with large neighbourhoods (measured duplicate rates).
        self.edits: list[tuple[Edit, float]] = [
            (self.regrow, 4.0), (self.insert, 2.0), (self.delete, 0.1), (self.wrap, 1.5),
            (self.unwrap, 0.05), (self.swap, 0.05), (self.move_stmt, 0.4), (self.recondition, 0.4),
            (self.retouch, 0.5), (self.splice, 2.0), (self.splice_block, 0.7),
        ]  # fmt: skip
        self._edit_cdf = _cdf([w for _, w in self.edits])
        self.spare = 1 << 30
        """Tokens the current parent may still grow by; set by the caller per parent."""

    # -- random material ----------------------------------------------------------------
    def action(self, rng: random.Random) -> Action:
        return Action(_pick(rng, self.vocab.actions, self.vocab.action_cdf))

    def condition(self, rng: random.Random, allow_not: bool = True) -> Cond:
        if self.fragments is not None and rng.random() < 0.25:
            cond = self.fragments.condition(rng)
            if cond is not None and (allow_not or not isinstance(cond, Not)):
                return cond
        p = _pick(rng, self.vocab.perceptions, self.vocab.perception_cdf)
        if allow_not and rng.random() < self.vocab.not_prob:
            return Not(p)
        return p

    def statement(self, rng: random.Random, room: int, size: int = 2) -> Stmt:
        """A random statement nesting at most ``room`` control structures, ~``size`` actions."""
        if room <= 0 or rng.random() < 0.45:
            return self.action(rng)
        body = self.block(rng, room - 1, max(1, size - 1))
        kind = rng.random()
        if kind < 0.4:
            return While(self.condition(rng), body)
        if kind < 0.65:
            return If(self.condition(rng), body)
        if kind < 0.85:
            orelse = self.block(rng, room - 1, 1)
            return IfElse(self.condition(rng, allow_not=False), body, orelse)
        return Repeat(rng.randint(2, MAX_REPEAT), body)

    def block(self, rng: random.Random, room: int, size: int) -> Block:
        n = 1 + int(rng.random() * size)
        return tuple(self.statement(rng, room, 1) for _ in range(n))

    def _fragment(self, rng: random.Random, room: int) -> Stmt | None:
        if self.fragments is None:
            return None
        stmt = self.fragments.statement(rng)
        if stmt is None or _height(stmt) > room:
            return None
        return stmt

    # -- edits ---------------------------------------------------------------------------
    def mutate(self, rng: random.Random, program: Program, spot_list: Spots) -> Program | None:
        """One random edit of ``program`` (None if the drawn edit does not apply)."""
        edit = self.edits[min(bisect_right(self._edit_cdf, rng.random()), len(self.edits) - 1)]
        return edit[0](rng, program, spot_list)  # type: ignore[call-arg]

    def regrow(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Replace one statement, or the rest of a block from it, by a fresh random one."""
        spot, i = rng.choice(sp.stmts)
        room = _MAX_DEPTH - spot.depth
        new = (self.statement(rng, room, 3),)
        if rng.random() < 0.3:
            new = self.block(rng, room, 3)
        # Like the reference's Concatenate node, sometimes replace the whole rest of the block.
        end = spot.length if rng.random() < 0.3 else i + 1
        old = _get(program, spot.path)[i:end]
        if block_tokens(new) - block_tokens(old) > self.spare:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], *new, *b[end:]))

    def insert(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Insert a random (or library) statement anywhere."""
        spot = rng.choice(sp)
        if spot.length >= MAX_SEQUENCE:
            return None
        i = rng.randrange(spot.length + 1)
        room = _MAX_DEPTH - spot.depth
        new = self._fragment(rng, room) if rng.random() < 0.3 else None
        if new is None:
            new = self.statement(rng, room, 2) if rng.random() < 0.5 else self.action(rng)
        if stmt_tokens(new) > self.spare:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], new, *b[i:]))

    def delete(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Delete one statement (blocks keep at least one)."""
        spot, i = rng.choice(sp.stmts)
        if spot.length < 2:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], *b[i + 1 :]))

    def wrap(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Put a run of 1-3 statements under a new WHILE, IF, IFELSE or REPEAT."""
        spot, i = rng.choice(sp.stmts)
        j = min(spot.length, i + 1 + int(rng.random() ** 2 * 3))
        block = _get(program, spot.path)
        inner = block[i:j]
        if max(_height(s) for s in inner) + 1 > _MAX_DEPTH - spot.depth:
            return None
        kind = rng.random()
        if kind < 0.35:
            new: Stmt = While(self.condition(rng), inner)
        elif kind < 0.7:
            new = If(self.condition(rng), inner)
        elif kind < 0.85:
            room = _MAX_DEPTH - spot.depth - 1
            other = (self.statement(rng, room, 1),)
            cond = self.condition(rng, allow_not=False)
            new = IfElse(cond, inner, other) if rng.random() < 0.5 else IfElse(cond, other, inner)
        else:
            new = Repeat(rng.randint(2, MAX_REPEAT), inner)
        if stmt_tokens(new) - block_tokens(inner) > self.spare:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], new, *b[j:]))

    def unwrap(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Replace a control structure by its body (or its else branch)."""
        if not sp.controls:
            return None
        spot, i = rng.choice(sp.controls)
        stmt = _get(program, spot.path)[i]
        inner = stmt.orelse if isinstance(stmt, IfElse) and rng.random() < 0.5 else stmt.body
        return _update(program, spot.path, lambda b: (*b[:i], *inner, *b[i + 1 :]))

    def swap(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Swap two neighbouring statements, or the branches of an IFELSE."""
        spot = rng.choice(sp)
        if spot.length < 2:
            return None
        i = rng.randrange(spot.length - 1)
        return _update(program, spot.path, lambda b: (*b[:i], b[i + 1], b[i], *b[i + 2 :]))

    def move_stmt(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Move one statement to another position of the same block, or into/out of a body."""
        spot, i = rng.choice(sp.stmts)
        stmt = _get(program, spot.path)[i]
        if spot.length > 1 and rng.random() < 0.5:
            j = rng.randrange(spot.length)
            rest = _get(program, spot.path)[:i] + _get(program, spot.path)[i + 1 :]
            return _update(program, spot.path, lambda b: (*rest[:j], stmt, *rest[j:]))
        # Into the body of a neighbouring control structure (first or last position).
        block = _get(program, spot.path)
        k = i + (1 if rng.random() < 0.5 else -1)
        if not 0 <= k < len(block) or isinstance(block[k], Action) or spot.length < 2:
            return None
        target = block[k]
        if _height(stmt) + spot.depth + 1 > _MAX_DEPTH:
            return None
        body = (stmt, *target.body) if k > i else (*target.body, stmt)
        moved = _replace_body(target, body)
        out = list(block)
        out[k] = moved
        del out[i]
        return _update(program, spot.path, lambda _: tuple(out))

    def recondition(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Change the condition of a control structure (new perception, negation)."""
        if not sp.conds:
            return None
        spot, i = rng.choice(sp.conds)
        stmt = _get(program, spot.path)[i]
        if isinstance(stmt, IfElse):
            if rng.random() < 0.3:
                new: Stmt = IfElse(stmt.cond, stmt.orelse, stmt.body)
            else:
                new = IfElse(self.condition(rng, allow_not=False), stmt.body, stmt.orelse)
        elif rng.random() < 0.3:
            c = stmt.cond
            new = type(stmt)(c.cond if isinstance(c, Not) else Not(c), stmt.body)
        else:
            new = type(stmt)(self.condition(rng), stmt.body)
        return _update(program, (*spot.path, i), lambda _: new)

    def retouch(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Change one action, a REPEAT count, or turn a control structure into another kind."""
        spot, i = rng.choice(sp.stmts)
        stmt = _get(program, spot.path)[i]
        if isinstance(stmt, Action):
            new: Stmt = self.action(rng)
        elif isinstance(stmt, Repeat):
            step = rng.choice((-2, -1, 1, 2)) if rng.random() < 0.7 else None
            n = rng.randint(0, MAX_REPEAT) if step is None else stmt.n + step
            new = Repeat(min(max(n, 0), MAX_REPEAT), stmt.body)
        elif isinstance(stmt, IfElse):
            new = If(stmt.cond, stmt.body)
        else:
            kinds = [k for k in (While, If) if k is not type(stmt)]
            new = (
                kinds[0](stmt.cond, stmt.body)
                if rng.random() < 0.7
                else Repeat(rng.randint(2, MAX_REPEAT), stmt.body)
            )
        return _update(program, (*spot.path, i), lambda _: new)

    def splice(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Replace a statement by a library fragment, or wrap a fragment's control around it."""
        spot, i = rng.choice(sp.stmts)
        room = _MAX_DEPTH - spot.depth
        frag = self._fragment(rng, room)
        if frag is None:
            return None
        if rng.random() < 0.3 and not isinstance(frag, Action):
            # Keep the fragment's control and condition, put our statement in its body.
            old = _get(program, spot.path)[i]
            if _height(old) + 1 > room:
                return None
            frag = _replace_body(frag, (old,))
        if stmt_tokens(frag) - stmt_tokens(_get(program, spot.path)[i]) > self.spare:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], frag, *b[i + 1 :]))

    def splice_block(self, rng: random.Random, program: Program, sp: Spots) -> Program | None:
        """Replace a whole block (or its tail) by a library block."""
        if self.fragments is None:
            return None
        spot = rng.choice(sp)
        block = self.fragments.block(rng)
        if block is None or max(_height(s) for s in block) > _MAX_DEPTH - spot.depth:
            return None
        i = rng.randrange(spot.length) if rng.random() < 0.5 else 0
        if block_tokens(block) - block_tokens(_get(program, spot.path)[i:]) > self.spare:
            return None
        return _update(program, spot.path, lambda b: (*b[:i], *block))


def local_edits(program: Program, sp: Spots) -> list[Callable[[], Program]]:
    """Every small deterministic edit: delete, swap neighbours, unwrap, negate, flip branches.

    These neighbourhoods are tiny (a few per statement), so they are enumerated once per
    parent instead of being drawn at random again and again. Each comes as a thunk, so only
    the ones actually tried are built.
    """
    out: list[Callable[[], Program]] = []
    for spot in sp:
        block = _get(program, spot.path)
        n, path = len(block), spot.path
        for i, stmt in enumerate(block):
            if n > 1:
                out.append(lambda i=i, p=path: _update(program, p, lambda b: (*b[:i], *b[i + 1 :])))
            if i + 1 < n:
                out.append(
                    lambda i=i, p=path: _update(
                        program, p, lambda b: (*b[:i], b[i + 1], b[i], *b[i + 2 :])
                    )
                )
            if isinstance(stmt, Action):
                continue
            for inner in (stmt.body, stmt.orelse) if isinstance(stmt, IfElse) else (stmt.body,):
                out.append(
                    lambda i=i, p=path, x=inner: _update(
                        program, p, lambda b: (*b[:i], *x, *b[i + 1 :])
                    )
                )
            here = (*path, i)
            if isinstance(stmt, IfElse):
                flipped: Stmt = IfElse(stmt.cond, stmt.orelse, stmt.body)
                plain: Stmt = If(stmt.cond, stmt.body)
                for new in (flipped, plain):
                    out.append(lambda h=here, x=new: _update(program, h, lambda _: x))
            elif isinstance(stmt, While | If):
                c = stmt.cond
                negated = type(stmt)(c.cond if isinstance(c, Not) else Not(c), stmt.body)
                kind = If if isinstance(stmt, While) else While
                other: Stmt = kind(c, stmt.body)
                for new in (negated, other):
                    out.append(lambda h=here, x=new: _update(program, h, lambda _: x))
    return out


def _replace_body(stmt: Stmt, body: Block) -> Stmt:
    if isinstance(stmt, Repeat):
        return Repeat(stmt.n, body)
    if isinstance(stmt, IfElse):
        return IfElse(stmt.cond, body, stmt.orelse)
    return type(stmt)(stmt.cond, body)  # type: ignore[call-arg, union-attr]
