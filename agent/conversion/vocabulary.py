"""The model's vocabulary: names as a model writes them, resolved against the domain's grammar.

Every name a model may write is resolved against the grammar data of ``envs.dsl.grammar``, so
the converter, the extractor and the prompts read one vocabulary and cannot drift apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from envs.dsl.grammar import Grammar

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
