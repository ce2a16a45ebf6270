"""What each Karel task asks, in plain words, with phrasings a user might type for it.

Light data for the registry, prompts and offline task matching; it imports nothing heavy.
Descriptions say what the code really does (the reference prompts differ on two points:
MazeSparse has a fixed start, and OneStroke does not end when the agent touches its trail).
"""

from __future__ import annotations

#: The paper's search budget for the Karel tasks (max_program_nums = 1e6).
DEFAULT_BUDGET = 1_000_000

DESCRIPTIONS: dict[str, str] = {
    "StairClimber": (
        "A 12x12 grid with a diagonal staircase rising from the bottom-left to the top-right. "
        "The agent starts on a step facing east and must climb to the marker on a higher step. "
        "Each step gives the reduction of the distance to the marker (as a fraction of the "
        "initial distance); leaving the staircase gives -1 and ends the episode."
    ),
    "StairClimberSparse": (
        "A 12x12 grid with a diagonal staircase rising from the bottom-left to the top-right. "
        "The agent starts on a step facing east and must climb the stairs to the marker on a "
        "higher step: reaching it gives +1; leaving the staircase (the steps and the cell just "
        "above each) gives -1. Both end the episode."
    ),
    "Maze": (
        "An 8x8 random maze. The agent always starts in the bottom-left corner facing east and "
        "must reach the marker somewhere in the maze; each step gives the reduction of the "
        "Manhattan distance to it, as a fraction of the initial distance."
    ),
    "MazeSparse": (
        "An 8x8 random maze. The agent always starts in the bottom-left corner (a fixed start) "
        "facing east and must find the marker somewhere in the maze: reaching it gives +1 and "
        "ends the episode."
    ),
    "FourCorners": (
        "An empty 12x12 room. The agent starts on the bottom row facing east and must put one "
        "marker in each of the four corners (+0.25 each). A marker anywhere else gives -1 and "
        "ends the episode."
    ),
    "FourCornersSparse": (
        "An empty 12x12 room. Put one marker in each of the four corners: +1 when all four are "
        "marked; a marker anywhere else gives -1. Both end the episode."
    ),
    "TopOff": (
        "A 12x12 room. The agent starts at the bottom-left corner facing east; some cells of "
        "the bottom row hold one marker. Put one more marker on each of them so that every one "
        "holds exactly two (+1/n per cell, n marked cells). Emptying a marked cell or putting "
        "a marker on an unmarked cell gives -1 and ends the episode."
    ),
    "TopOffSparse": (
        "A 12x12 room whose bottom row has some cells with one marker. Add one marker on each "
        "of them: +1 when all hold two; a marker elsewhere or an emptied cell gives -1."
    ),
    "Harvester": (
        "An 8x8 room where every one of the 36 inner cells holds one marker. The agent starts "
        "on the bottom row facing east and must pick up all the markers (+1/36 each). Putting "
        "a marker down gives -1 and ends the episode."
    ),
    "HarvesterSparse": (
        "An 8x8 room full of markers (one per inner cell). Pick them all up: +1 when none is "
        "left; putting one down gives -1."
    ),
    "CleanHouse": (
        "A fixed 14x22 house of rooms and corridors. The agent starts near the top facing "
        "south; 11 markers lie along the walls (one always next to the start). Pick up all "
        "the markers (+1/11 each). Putting a marker down gives -1 and ends the episode."
    ),
    "CleanHouseSparse": (
        "A fixed 14x22 house of rooms with 11 markers along the walls. Pick them all up: +1 "
        "when none is left; putting one down gives -1."
    ),
    "DoorKey": (
        "An 8x8 grid split by a wall into a left and a right room, joined by a locked door. "
        "The agent starts in the left room facing east. Pick up the key marker in the left "
        "room (+0.5, the door opens), then go through the door and put a marker on the goal "
        "marker in the right room (+0.5, ends the episode). Any other marker change gives -1."
    ),
    "OneStroke": (
        "An empty 8x8 room. Visit as many cells as possible in one stroke: every cell the agent "
        "leaves turns into a wall (+1/35 per new cell, the episode ends after 35). Walking into "
        "the trail does not end the episode: it is a blocked move, so the agent turns around."
    ),
    "Seeder": (
        "An empty 8x8 room. The agent starts at a random cell facing east and must put exactly "
        "one marker on every one of the 36 inner cells (+1/36 each). Two markers on one cell, "
        "or picking a marker up, gives -1 and ends the episode."
    ),
    "Snake": (
        "An empty 8x8 room. The agent is the head of a snake that starts two cells long and "
        "leaves markers on its body. Eat the food marker (+1/20): the snake grows by one and "
        "new food appears at a random free cell. Running into its own body gives -1 and ends "
        "the episode; eating 20 times ends it too."
    ),
    "PathFollow": (
        "An 8x8 room with a trail of 11 markers climbing from the bottom-left corner to the "
        "top-right in random steps up and right. The agent starts at the bottom-left corner "
        "facing north and must follow the trail picking up every marker (+1/11 each). Leaving "
        "the trail and its neighbouring cells, or putting a marker down, gives -1."
    ),
    "WallAvoider": (
        "An 8-row by 5-column room. Put one marker on each of the 4 cells that do not touch a "
        "wall (column 2, rows 2 to 5; +1/4 each). A marker on a cell next to a wall, two "
        "markers on a cell, or picking one up gives -1 and ends the episode. The agent starts "
        "at a random place and facing (sometimes on the border wall, as in the reference)."
    ),
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "StairClimber": ("climb the stairs", "stair climber dense"),
    "StairClimberSparse": (
        "climb the stairs to the marker", "go up the staircase", "stair climber",
        "reach the marker at the top of the stairs",
    ),
    "Maze": ("solve the maze with distance reward", "maze dense"),
    "MazeSparse": (
        "find the marker in the maze", "solve the maze", "navigate the maze to the goal",
        "maze",
    ),
    "FourCorners": (
        "put a marker in each corner", "mark the four corners of the room", "four corners",
    ),
    "FourCornersSparse": ("mark all four corners, sparse reward",),
    "TopOff": (
        "add a marker on top of every marker", "top off the markers on the bottom row",
        "make every marked cell hold two markers", "top off",
    ),
    "TopOffSparse": ("top off every marker, sparse reward",),
    "Harvester": (
        "pick up all the markers", "harvest every marker in the field", "collect all markers",
        "harvester",
    ),
    "HarvesterSparse": ("harvest all markers, sparse reward",),
    "CleanHouse": (
        "clean the house", "pick up the markers scattered in the rooms",
        "collect the garbage along the walls", "clean house",
    ),
    "CleanHouseSparse": ("clean the house, sparse reward",),
    "DoorKey": (
        "pick up the key and open the door", "get the key, open the door, reach the goal",
        "unlock the door with the key and put it on the goal", "door key",
    ),
    "OneStroke": (
        "visit every cell without crossing your path", "draw the room in one stroke",
        "cover the grid in a single stroke", "one stroke",
    ),
    "Seeder": (
        "put a marker on every cell", "plant a seed in every cell", "fill the room with markers",
        "seeder",
    ),
    "Snake": (
        "play snake", "eat the food and grow without biting yourself", "snake game", "snake",
    ),
    "PathFollow": (
        "follow the trail of markers", "follow the path and pick up the markers",
        "walk along the marker path", "path follow",
    ),
    "WallAvoider": (
        "put markers on cells away from the walls", "mark the cells that do not touch a wall",
        "avoid the walls when placing markers", "wall avoider",
    ),
}  # fmt: skip
