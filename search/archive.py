"""The archive of climb end points that mosaic search restarts from.

An archive entry (:class:`Elite`) is a program with its per-instance returns. Restarts pick an
entry by lexicase selection on those returns (Spector 2012; Helmuth, Spector and Matheson
2015): instances are taken in a random order and only the entries best on each one survive,
so a program that is best on some instances is picked even with a lower mean return. When
the archive is full, the weakest entry that is not alone in being best on some instance is
dropped; with parsimony, the largest of the weakest goes first (lexicographic parsimony
pressure, Luke and Panait 2002).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from envs.dsl.ast import Program
from envs.errors import ConfigError
from search.limits import program_tokens


@dataclass
class Elite:
    """An archive entry: a climb's end point with its per-instance returns.

    Attributes:
        text: Canonical DSL text of the program.
        program: The program.
        returns: One return per searched instance.
        score: Mean of ``returns`` (the task's mean return).
    """

    text: str
    program: Program
    returns: tuple[float, ...]
    score: float

    @functools.cached_property
    def tokens(self) -> int:
        """Size in tokens (computed once: parsimony compares it for every equal neighbour)."""
        return program_tokens(self.program)


class Archive:
    """At most ``size`` distinct climb end points, for lexicase restarts.

    Args:
        size: The most entries kept.
        parsimony: Drop the largest of the weakest entries first.

    Raises:
        ConfigError: ``size`` is below 1.
    """

    def __init__(self, size: int, parsimony: bool) -> None:
        if size < 1:
            raise ConfigError(f"an archive keeps at least one entry, got size={size}")
        self.size = size
        self.parsimony = parsimony
        self.entries: list[Elite] = []

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Elite]:
        return iter(self.entries)

    def add(self, elite: Elite) -> bool:
        """Keep ``elite`` unless its text is already kept; trim to ``size`` (it may be the one
        dropped). Returns whether it was new."""
        if any(e.text == elite.text for e in self.entries):
            return False
        self.entries.append(elite)
        if len(self.entries) > self.size:
            self.entries.remove(self.weakest())
        return True

    def weakest(self) -> Elite:
        """The lowest-scoring entry that is not alone in being best on some instance.

        Raises:
            IndexError: The archive is empty.
        """
        entries = self.entries
        if not entries:
            raise IndexError("the archive is empty")
        n = len(entries[0].returns)
        tops = [max(e.returns[i] for e in entries) for i in range(n)]
        holders = [[e for e in entries if e.returns[i] == tops[i]] for i in range(n)]
        needed = {id(h[0]) for h in holders if len(h) == 1}
        spare = [e for e in entries if id(e) not in needed] or entries
        if self.parsimony:
            return min(spare, key=lambda e: (e.score, -e.tokens))
        return min(spare, key=lambda e: e.score)

    def lexicase(self, rng: random.Random) -> Elite:
        """An entry chosen by lexicase selection on the per-instance returns.

        Raises:
            IndexError: The archive is empty.
        """
        pool = list(self.entries)
        if not pool:
            raise IndexError("the archive is empty")
        order = list(range(len(pool[0].returns)))
        rng.shuffle(order)
        for i in order:
            best = max(e.returns[i] for e in pool)
            pool = [e for e in pool if e.returns[i] == best]
            if len(pool) == 1:
                break
        return rng.choice(pool)
