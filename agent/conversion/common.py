"""Pieces shared by the Python converter and the DSL extractor: limits, names, exact REPEATs.

Every name a model may write is resolved against the grammar data of ``envs.dsl.grammar``, so
the converter, the extractor and the prompts read one vocabulary and cannot drift apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from envs.dsl.ast import Repeat, Stmt
from envs.dsl.grammar import MAX_REPEAT, Grammar
from envs.errors import ConversionError

MAX_INPUT_CHARS = 100_000
"""Answers longer than this are refused before any parsing."""

MAX_NESTING = 40
"""Deepest nesting of statements, conditions or helper calls the converters follow."""

MAX_STATEMENTS = 5_000
"""Most DSL statements one conversion may produce (helper inlining can multiply code)."""

MAX_REPEAT_COUNT = 10**9
"""Largest loop count turned into nested REPEATs; larger counts are refused."""

NameKind = Literal["action", "perception"]


@dataclass(frozen=True)
class ResolvedName:
    """A model-written name mapped onto the grammar.

    Attributes:
        kind: ``"action"`` or ``"perception"``.
        name: The DSL spelling, e.g. ``"turnLeft"``.
    """

    kind: NameKind
    name: str


def _key(name: str) -> str:
    # camelCase, snake_case and lower case all meet here: turn_left, turnLeft, TurnLeft.
    return name.replace("_", "").lower()


def resolve_name(name: str, gram: Grammar) -> ResolvedName | None:
    """Map ``name`` (any casing, with or without underscores) to an action or perception.

    Args:
        name: The identifier the model wrote, e.g. ``"turn_left"``.
        gram: The domain's grammar.

    Returns:
        The resolved name, or None when the domain has no such action or perception.
    """
    key = _key(name)
    for action in gram.actions:
        if _key(action) == key:
            return ResolvedName("action", action)
    for perception in gram.perceptions:
        if _key(perception) == key:
            return ResolvedName("perception", perception)
    return None


def suggestion(name: str, gram: Grammar) -> str:
    """A short "did you mean" hint listing the closest known names, or the whole vocabulary."""
    known = [*gram.actions, *gram.perceptions]
    by_key = {_key(k): k for k in known}
    close = difflib.get_close_matches(_key(name), list(by_key), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"{by_key[c]}()" for c in close) + "?"
    return (
        "known actions: "
        + ", ".join(f"{a}()" for a in gram.actions)
        + "; perceptions: "
        + (", ".join(f"{p}()" for p in gram.perceptions))
    )


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


class Budget:
    """Counts produced statements so that helper inlining cannot blow up."""

    def __init__(self, limit: int = MAX_STATEMENTS) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, n: int, line: int | None) -> None:
        """Account for ``n`` more statements; raise once the limit is passed."""
        self.used += n
        if self.used > self.limit:
            raise ConversionError(
                f"the program grows past {self.limit} DSL statements (helpers inlined); "
                "write a shorter program",
                reason="too_large",
                line=line,
            )
