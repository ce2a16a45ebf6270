"""The Karel world: walls, markers and one agent (spec/benchmark.md §1).

:class:`KarelWorld` is the small mutable state the reference interpreter runs on: a wall grid,
an integer marker grid, the agent's row/column/facing, a crashed flag and the call counter.
Copying it copies two small arrays; nothing here hashes or deep-copies per step.

The benchmark's tensor view (``bool[16, H, W]``, channels in :class:`Channel`) is produced on
demand by :meth:`KarelWorld.to_tensor` and read back by :meth:`KarelWorld.from_tensor`; the
integer marker grid is what drives perceptions and rewards, as in the reference.

Text form (``from_string`` / ``to_string``), one line per row::

    #####
    #>.2#      '#' wall, '.' empty, '1'..'9' marker counts, 'X' ten markers,
    #####      '^' '>' 'v' '<' the agent facing N, E, S, W

The agent's cell shows the agent, so markers under the agent are not part of the text form.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from envs.errors import ConfigError

MAX_MARKERS = 10
"""Most markers one cell can hold."""

DEFAULT_MAX_CALLS = 10000
"""The call budget every benchmark experiment uses."""

#: Row and column offsets of a step facing N, E, S, W.
DELTAS: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))
AGENT_CHARS = "^>v<"
FACINGS = "NESW"


class Direction(IntEnum):
    """The agent's facing; ``turnRight`` adds 1 modulo 4."""

    N = 0
    E = 1
    S = 2
    W = 3


class Channel(IntEnum):
    """Channels of the benchmark's ``bool[16, H, W]`` state tensor."""

    AGENT_N = 0
    AGENT_E = 1
    AGENT_S = 2
    AGENT_W = 3
    WALL = 4
    MARKERS_0 = 5
    MARKERS_1 = 6
    MARKERS_2 = 7
    MARKERS_3 = 8
    MARKERS_4 = 9
    MARKERS_5 = 10
    MARKERS_6 = 11
    MARKERS_7 = 12
    MARKERS_8 = 13
    MARKERS_9 = 14
    MARKERS_10 = 15

    @staticmethod
    def markers(count: int) -> int:
        """Channel meaning "exactly ``count`` markers" (0..10)."""
        return Channel.MARKERS_0 + count


NUM_CHANNELS = len(Channel)


class KarelWorld:
    """Mutable Karel state with the reference's actions and perceptions.

    Args:
        walls: ``bool[H, W]`` wall grid (copied).
        markers: ``int[H, W]`` marker counts 0..10 (copied).
        agent: ``(row, col, direction)``, direction N=0, E=1, S=2, W=3.
        crashable: A blocked move, or picking from an empty / putting on a full cell, crashes
            the world. False in every benchmark experiment.
        leaps_behaviour: A move that does not happen turns the agent around (two left turns).
            True in every benchmark experiment.
        max_calls: Call budget; once the counter exceeds it the world is crashed.

    Raises:
        ConfigError: ``walls`` and ``markers`` are not 2-D grids of one shape, a marker count
            is outside 0..10, or the agent is off the grid or faces no direction.
    """

    __slots__ = (
        "walls", "markers", "row", "col", "dir", "crashed", "calls",
        "crashable", "leaps_behaviour", "max_calls",
    )  # fmt: skip

    def __init__(
        self,
        walls: np.ndarray,
        markers: np.ndarray,
        agent: tuple[int, int, int],
        *,
        crashable: bool = False,
        leaps_behaviour: bool = True,
        max_calls: int = DEFAULT_MAX_CALLS,
    ) -> None:
        walls = np.array(walls, dtype=bool)
        markers = np.array(markers, dtype=np.int32)
        if walls.ndim != 2 or walls.shape != markers.shape:
            raise ConfigError(f"walls {walls.shape} and markers {markers.shape} must be equal 2-D")
        if markers.size and (markers.min() < 0 or markers.max() > MAX_MARKERS):
            raise ConfigError(f"marker counts must lie in 0..{MAX_MARKERS}")
        row, col, direction = (int(v) for v in agent)
        h, w = walls.shape
        if not (0 <= row < h and 0 <= col < w and 0 <= direction < 4):
            raise ConfigError(f"agent {agent} is outside the {h}x{w} grid or has a bad facing")
        self.walls = walls
        self.markers = markers
        self.row, self.col, self.dir = row, col, direction
        self.crashed = False
        self.calls = 0
        self.crashable = crashable
        self.leaps_behaviour = leaps_behaviour
        self.max_calls = max_calls

    # -- construction and copies ---------------------------------------------------------
    def copy(self) -> KarelWorld:
        """An independent copy (arrays copied, flags and counters kept)."""
        new = KarelWorld.__new__(KarelWorld)
        new.walls = self.walls.copy()
        new.markers = self.markers.copy()
        new.row, new.col, new.dir = self.row, self.col, self.dir
        new.crashed = self.crashed
        new.calls = self.calls
        new.crashable = self.crashable
        new.leaps_behaviour = self.leaps_behaviour
        new.max_calls = self.max_calls
        return new

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)``."""
        return (int(self.walls.shape[0]), int(self.walls.shape[1]))

    @property
    def agent(self) -> tuple[int, int, int]:
        """``(row, col, direction)``."""
        return (self.row, self.col, self.dir)

    @property
    def facing(self) -> str:
        """The facing as a letter: ``"N"``, ``"E"``, ``"S"`` or ``"W"``."""
        return FACINGS[self.dir]

    def total_markers(self) -> int:
        """Number of markers on the whole grid."""
        return int(self.markers.sum())

    def fingerprint(self) -> tuple[int, int, int, bytes]:
        """Agent row, column, facing and the whole marker grid (walls excluded): the exact
        state a WHILE loop remembers to detect that it is repeating itself."""
        return (self.row, self.col, self.dir, self.markers.tobytes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KarelWorld):
            return NotImplemented
        return (
            self.agent == other.agent
            and np.array_equal(self.walls, other.walls)
            and np.array_equal(self.markers, other.markers)
            and self.crashed == other.crashed
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"KarelWorld({self.shape[0]}x{self.shape[1]}, agent={self.agent})\n{self}"

    def __str__(self) -> str:
        return self.to_string()

    # -- geometry and perceptions --------------------------------------------------------
    def is_clear(self, row: int, col: int) -> bool:
        """Inside the grid and not a wall."""
        h, w = self.walls.shape
        return 0 <= row < h and 0 <= col < w and not self.walls[row, col]

    def _clear_towards(self, direction: int) -> bool:
        dr, dc = DELTAS[direction % 4]
        return self.is_clear(self.row + dr, self.col + dc)

    def front_is_clear(self) -> bool:
        """The cell ahead is clear."""
        return self._clear_towards(self.dir)

    def left_is_clear(self) -> bool:
        """The cell to the agent's left is clear (west when facing north)."""
        return self._clear_towards(self.dir + 3)

    def right_is_clear(self) -> bool:
        """The cell to the agent's right is clear (east when facing north)."""
        return self._clear_towards(self.dir + 1)

    def markers_present(self) -> bool:
        """The agent's cell holds at least one marker."""
        return bool(self.markers[self.row, self.col] > 0)

    def no_markers_present(self) -> bool:
        """The agent's cell holds no marker."""
        return bool(self.markers[self.row, self.col] == 0)

    # -- actions -------------------------------------------------------------------------
    def move(self) -> None:
        """Step forward; a blocked (or crashed) move turns around under leaps behaviour."""
        dr, dc = DELTAS[self.dir]
        row, col = self.row + dr, self.col + dc
        clear = self.is_clear(row, col)
        if not clear and self.crashable:
            self.crashed = True
        if not self.crashed and clear:
            self.row, self.col = row, col
        elif self.leaps_behaviour:
            self.dir = (self.dir + 2) % 4

    def turn_left(self) -> None:
        """Turn 90° counter-clockwise (runs even when crashed)."""
        self.dir = (self.dir + 3) % 4

    def turn_right(self) -> None:
        """Turn 90° clockwise (runs even when crashed)."""
        self.dir = (self.dir + 1) % 4

    def pick_marker(self) -> None:
        """Take one marker from the agent's cell (nothing, or a crash, when it has none)."""
        self.pick_marker_at(self.row, self.col)

    def put_marker(self) -> None:
        """Put one marker on the agent's cell (nothing, or a crash, when it holds 10)."""
        self.put_marker_at(self.row, self.col)

    def pick_marker_at(self, row: int, col: int) -> None:
        """Take one marker from any cell; tasks use this to edit the world (Snake)."""
        if self.markers[row, col] == 0:
            if self.crashable:
                self.crashed = True
        else:
            self.markers[row, col] -= 1

    def put_marker_at(self, row: int, col: int) -> None:
        """Put one marker on any cell; tasks use this to edit the world (Snake)."""
        if self.markers[row, col] == MAX_MARKERS:
            if self.crashable:
                self.crashed = True
        else:
            self.markers[row, col] += 1

    def count_call(self) -> None:
        """Charge one action or perception to the budget; exceeding it crashes the world
        before the call runs (the call itself still runs)."""
        self.calls += 1
        if self.calls > self.max_calls:
            self.crashed = True

    # -- text and tensor forms -----------------------------------------------------------
    @classmethod
    def from_string(cls, text: str, **flags: object) -> KarelWorld:
        """Parse the text form (see the module docstring); ``flags`` go to the constructor.

        Raises:
            ConfigError: ragged rows, an unknown character, or not exactly one agent.
        """
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines or any(len(line) != len(lines[0]) for line in lines):
            raise ConfigError("a Karel map needs non-empty rows of equal length")
        h, w = len(lines), len(lines[0])
        walls = np.zeros((h, w), dtype=bool)
        markers = np.zeros((h, w), dtype=np.int32)
        agents = []
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                if ch == "#":
                    walls[r, c] = True
                elif ch.isdigit():
                    markers[r, c] = int(ch)
                elif ch == "X":
                    markers[r, c] = MAX_MARKERS
                elif ch in AGENT_CHARS:
                    agents.append((r, c, AGENT_CHARS.index(ch)))
                elif ch != ".":
                    raise ConfigError(f"unknown map character {ch!r} at row {r}, column {c}")
        if len(agents) != 1:
            raise ConfigError(f"a Karel map needs exactly one agent, found {len(agents)}")
        return cls(walls, markers, agents[0], **flags)  # type: ignore[arg-type]

    def to_string(self) -> str:
        """The text form, one line per row (the agent hides markers under it)."""
        rows = []
        for r in range(self.walls.shape[0]):
            chars = []
            for c in range(self.walls.shape[1]):
                count = int(self.markers[r, c])
                if (r, c) == (self.row, self.col):
                    chars.append(AGENT_CHARS[self.dir])
                elif self.walls[r, c]:
                    chars.append("#")
                elif count:
                    chars.append("X" if count == MAX_MARKERS else str(count))
                else:
                    chars.append(".")
            rows.append("".join(chars))
        return "\n".join(rows)

    def to_tensor(self) -> np.ndarray:
        """The benchmark's ``bool[16, H, W]`` state (every cell has one marker channel set)."""
        h, w = self.walls.shape
        state = np.zeros((NUM_CHANNELS, h, w), dtype=bool)
        state[Channel.AGENT_N + self.dir, self.row, self.col] = True
        state[Channel.WALL] = self.walls
        for count in range(MAX_MARKERS + 1):
            state[Channel.markers(count)] = self.markers == count
        return state

    @classmethod
    def from_tensor(cls, state: np.ndarray, **flags: object) -> KarelWorld:
        """Read a ``bool[16, H, W]`` state: markers are the argmax of channels 5..15.

        Raises:
            ConfigError: wrong shape, or not exactly one agent cell.
        """
        state = np.asarray(state, dtype=bool)
        if state.ndim != 3 or state.shape[0] != NUM_CHANNELS:
            raise ConfigError(f"expected a [16, H, W] tensor, got shape {state.shape}")
        d, r, c = np.nonzero(state[: Channel.WALL])
        if len(d) != 1:
            raise ConfigError(f"expected exactly one agent cell, found {len(d)}")
        markers = state[Channel.MARKERS_0 :].argmax(axis=0)
        return cls(state[Channel.WALL], markers, (int(r[0]), int(c[0]), int(d[0])), **flags)  # type: ignore[arg-type]
