"""Grammar data per domain: the one source for parser, prompts, converter and search.

Everything a domain's DSL knows lives here: its actions and perceptions (with the Python names
a model writes and one-line meanings for prompts), the values allowed inside ``h( ... h)``, and
the production probabilities of the reference's search space (spec/benchmark.md §6.1). Dict
order matters: the search draws from these tables in this order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from envs.errors import ConfigError

Domain = Literal["karel", "minigrid"]

MAX_REPEAT = 19
"""REPEAT counts are 0..MAX_REPEAT (tokens ``R=0`` .. ``R=19``)."""


def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Grammar:
    """The vocabulary and search-space probabilities of one DSL domain.

    Attributes:
        domain: ``"karel"`` or ``"minigrid"``.
        actions: Action names, in token-index order, mapped to a one-line meaning.
        perceptions: Perception names mapped to a one-line meaning.
        perception_args: For perceptions written ``name h( value h)``: the values the search
            samples (the parser accepts any word there, as the reference does).
        statement_probs: Statement production probabilities (``Concatenate`` is a sequence).
        bool_probs: ``Feature`` (a perception) vs ``Not``.
        action_probs: Probability of each action when an action is drawn.
        perception_probs: Probability of each perception when a perception is drawn.
    """

    domain: str
    actions: MappingProxyType
    perceptions: MappingProxyType
    perception_args: MappingProxyType = field(default_factory=lambda: _frozen({}))
    statement_probs: MappingProxyType = field(default_factory=lambda: _frozen({}))
    bool_probs: MappingProxyType = field(default_factory=lambda: _frozen({}))
    action_probs: MappingProxyType = field(default_factory=lambda: _frozen({}))
    perception_probs: MappingProxyType = field(default_factory=lambda: _frozen({}))

    def is_action(self, name: str) -> bool:
        """Whether ``name`` is an action of this domain."""
        return name in self.actions

    def is_perception(self, name: str) -> bool:
        """Whether ``name`` is a perception of this domain."""
        return name in self.perceptions

    def takes_arg(self, name: str) -> bool:
        """Whether the perception is written ``name h( value h)``."""
        return name in self.perception_args


STATEMENT_PROBS = {
    "WHILE": 0.15,
    "REPEAT": 0.03,
    "Concatenate": 0.5,
    "IF": 0.08,
    "IFELSE": 0.04,
    "Action": 0.2,
}

KAREL = Grammar(
    domain="karel",
    actions=_frozen(
        {
            "move": "move one cell forward; if the cell ahead is a wall, turn left twice instead",
            "turnLeft": "turn 90 degrees to the left",
            "turnRight": "turn 90 degrees to the right",
            "pickMarker": "pick up one marker from the current cell (nothing if there is none)",
            "putMarker": "put one marker on the current cell (at most 10 per cell)",
        }
    ),
    perceptions=_frozen(
        {
            "frontIsClear": "True if the cell in front of the agent is not a wall",
            "leftIsClear": "True if the cell to the agent's left is not a wall",
            "rightIsClear": "True if the cell to the agent's right is not a wall",
            "markersPresent": "True if the current cell has at least one marker",
            "noMarkersPresent": "True if the current cell has no marker",
        }
    ),
    statement_probs=_frozen(STATEMENT_PROBS),
    bool_probs=_frozen({"Feature": 0.9, "Not": 0.1}),
    action_probs=_frozen(
        {"move": 0.5, "turnLeft": 0.15, "turnRight": 0.15, "putMarker": 0.1, "pickMarker": 0.1}
    ),
    perception_probs=_frozen(
        {
            "frontIsClear": 0.5,
            "leftIsClear": 0.15,
            "rightIsClear": 0.15,
            "markersPresent": 0.1,
            "noMarkersPresent": 0.1,
        }
    ),
)

MINIGRID = Grammar(
    domain="minigrid",
    actions=_frozen(
        {
            "forward": (
                "move one cell forward; walls, closed doors, balls and boxes block it (the agent "
                "stays); stepping onto lava ends the episode"
            ),
            "left": "turn 90 degrees to the left",
            "right": "turn 90 degrees to the right",
            "pickup": "pick up the ball or box in front of the agent (only when carrying nothing)",
            "drop": "drop the carried object onto the empty cell in front of the agent",
            "toggle": "open or close the door in front of the agent (a toggled box vanishes)",
        }
    ),
    perceptions=_frozen(
        {
            "front_is_clear": (
                "True if the agent can step forward: an empty cell, the goal, an open door, or "
                "lava (lava counts as clear)"
            ),
            "front_object_type": "True if the object in front has the given type",
            "front_object_color": "True if the object in front has the given colour (lava is red)",
            "is_carrying_object": "True if the agent carries an object",
        }
    ),
    perception_args=_frozen(
        {
            "front_object_type": ("lava", "door", "ball", "box"),
            "front_object_color": ("red", "blue"),
        }
    ),
    statement_probs=_frozen(STATEMENT_PROBS),
    bool_probs=_frozen({"Feature": 0.5, "Not": 0.5}),
    action_probs=_frozen(
        {"left": 0.15, "right": 0.15, "forward": 0.5, "pickup": 0.08, "drop": 0.08, "toggle": 0.04}
    ),
    perception_probs=_frozen(
        {
            "front_is_clear": 0.125,
            "front_object_type": 0.5,
            "front_object_color": 0.25,
            "is_carrying_object": 0.125,
        }
    ),
)

GRAMMARS: MappingProxyType = _frozen({"karel": KAREL, "minigrid": MINIGRID})


def grammar(domain: str) -> Grammar:
    """Return the grammar of a domain.

    Raises:
        ConfigError: The domain is not ``karel`` or ``minigrid``.
    """
    try:
        return GRAMMARS[domain]
    except KeyError:
        raise ConfigError(
            f"unknown DSL domain {domain!r}; choose one of {', '.join(GRAMMARS)}"
        ) from None
