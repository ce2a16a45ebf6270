"""A library of program fragments that the mosaic search splices into its programs.

Moraes and Lelis (2024) report better sample efficiency when a neighbour may replace a subtree
with a piece of a known program instead of only a random one. The library collects the
statements, statement blocks and conditions of the programs it is given (a model's proposals,
a user's programs, the best programs of earlier climbs) and hands out random ones. It holds no
program of its own: what it contains comes only from the caller and from the search itself.

Example:
    >>> lib = Library("karel")
    >>> lib.add("DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft m)")
    >>> sorted(map(str, lib.statements))
    ['WHILE c( frontIsClear c) w( move w)', 'move', 'turnLeft']
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from envs.dsl.ast import Action, Cond, IfElse, Not, Program, Stmt
from envs.dsl.parser import ensure_program

Block = tuple[Stmt, ...]


class Library:
    """Distinct statements, blocks and conditions of the programs added, newest kept.

    Args:
        domain: DSL domain of the programs.
        capacity: Fragments kept per kind; the oldest are dropped first.
    """

    def __init__(self, domain: str, capacity: int = 4000) -> None:
        self.domain = domain
        self.capacity = capacity
        self.statements: list[Stmt] = []
        self.blocks: list[Block] = []
        self.conditions: list[Cond] = []
        self._seen: set[object] = set()
        self.programs = 0

    def __len__(self) -> int:
        return len(self.statements) + len(self.blocks) + len(self.conditions)

    def add(self, program: Program | str) -> None:
        """Add every fragment of a program (text is parsed in the library's domain).

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        parsed = ensure_program(program, self.domain)
        self.programs += 1
        self._block(parsed.body)

    def extend(self, programs: Iterable[Program | str]) -> None:
        """Add several programs (see :meth:`add`)."""
        for program in programs:
            self.add(program)

    def _keep(self, store: list, item: object) -> None:
        if item in self._seen:
            return
        self._seen.add(item)
        store.append(item)
        if len(store) > self.capacity:
            self._seen.discard(store.pop(0))

    def _block(self, block: Block) -> None:
        if len(block) > 1:
            self._keep(self.blocks, block)
        for stmt in block:
            if not isinstance(stmt, Action):
                # Bare actions are what random growth already draws; keep them only once each.
                self._keep(self.statements, stmt)
                self._cond(getattr(stmt, "cond", None))
                self._block(stmt.body)
                if isinstance(stmt, IfElse):
                    self._block(stmt.orelse)
            else:
                self._keep(self.statements, stmt)

    def _cond(self, cond: Cond | None) -> None:
        if cond is None:
            return
        self._keep(self.conditions, cond)
        if isinstance(cond, Not):
            self._keep(self.conditions, cond.cond)

    # -- draws (the Mutator's fragment source) ------------------------------------------------
    def statement(self, rng: random.Random) -> Stmt | None:
        """A random statement fragment, or None when the library is empty."""
        return rng.choice(self.statements) if self.statements else None

    def block(self, rng: random.Random) -> Block | None:
        """A random block of two or more statements, or None."""
        return rng.choice(self.blocks) if self.blocks else None

    def condition(self, rng: random.Random) -> Cond | None:
        """A random condition, or None."""
        return rng.choice(self.conditions) if self.conditions else None
