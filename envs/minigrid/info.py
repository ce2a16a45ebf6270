"""What the three Minigrid tasks ask, in plain words: light data for the registry and prompts.

This module does not import ``minigrid``, so listing tasks stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The paper's search budget for the Minigrid tasks (max_program_nums = 1e4).
DEFAULT_BUDGET = 10_000


@dataclass(frozen=True, slots=True)
class MinigridTaskInfo:
    """What a Minigrid task asks, for the registry, the prompts and task matching.

    Attributes:
        name: Short name (the part after ``minigrid/``).
        description: The task in plain words, as a prompt would state it.
        synonyms: Other phrasings a user may type for it.
        default_budget: Default number of program evaluations for a search.
        grid: Grid size as (height, width) in cells, as in :class:`envs.TaskInfo`.
    """

    name: str
    description: str
    synonyms: tuple[str, ...]
    default_budget: int
    grid: tuple[int, int]

    @property
    def id(self) -> str:
        """Registry id, e.g. ``"minigrid/LavaGap"``."""
        return f"minigrid/{self.name}"


TASK_INFO: dict[str, MinigridTaskInfo] = {
    "LavaGap": MinigridTaskInfo(
        name="LavaGap",
        description=(
            "A 6x6 room. The agent starts in the top-left corner facing east; the goal is in "
            "the bottom-right corner. A vertical column of lava cuts the room in two, with a "
            "single gap. Walk through the gap to the goal without touching lava: reaching the "
            "goal gives +1, stepping into lava gives -1 and ends the episode."
        ),
        synonyms=(
            "cross the lava gap and reach the goal",
            "avoid the lava and get to the green goal square",
            "find the gap in the lava wall and go to the goal",
            "lava gap",
        ),
        default_budget=DEFAULT_BUDGET,
        grid=(6, 6),
    ),
    "PutNear": MinigridTaskInfo(
        name="PutNear",
        description=(
            "A 6x6 room with a ball and a box of random colours and the agent at a random "
            "place. Pick up the ball (+0.5) and drop it next to the box, diagonals included "
            "(+0.5). Picking up the box gives -1 and ends the episode; any drop while carrying "
            "ends the episode."
        ),
        synonyms=(
            "put the ball near the box",
            "pick up the ball and drop it next to the box",
            "move the ball next to the box",
            "put near",
        ),
        default_budget=DEFAULT_BUDGET,
        grid=(6, 6),
    ),
    "RedBlueDoor": MinigridTaskInfo(
        name="RedBlueDoor",
        description=(
            "The agent is in a room with a red door in the left wall and a blue door in the "
            "right wall. Open the red door first (+0.5), then the blue door (+0.5, ends the "
            "episode). Opening the blue door while the red one is closed gives -1 and ends "
            "the episode."
        ),
        synonyms=(
            "open the red door then the blue door",
            "open the red door first and then the blue door",
            "red blue doors",
            "red blue door",
        ),
        default_budget=DEFAULT_BUDGET,
        grid=(6, 12),
    ),
}
