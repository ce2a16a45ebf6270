"""KarelWorld: actions, perceptions, flags, call budget, text and tensor forms (spec §1)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.errors import ConfigError
from envs.karel.world import Channel, Direction, KarelWorld

ROOM = """
#####
#>.2#
#...#
#####
"""


def test_text_round_trip_and_parsed_state() -> None:
    world = KarelWorld.from_string(ROOM)
    assert world.shape == (4, 5)
    assert world.agent == (1, 1, Direction.E)
    assert world.markers[1, 3] == 2
    assert world.walls[0].all() and not world.walls[1, 2]
    assert world.to_string() == ROOM.strip()


def test_bad_maps_are_rejected() -> None:
    with pytest.raises(ConfigError, match="exactly one agent"):
        KarelWorld.from_string("###\n#.#\n###")
    with pytest.raises(ConfigError, match="unknown map character"):
        KarelWorld.from_string("#>?#")
    with pytest.raises(ConfigError, match="equal length"):
        KarelWorld.from_string("###\n#>")


def test_blocked_move_turns_around_under_leaps_behaviour() -> None:
    world = KarelWorld.from_string("####\n#>.#\n####")
    world.move()
    assert world.agent == (1, 2, Direction.E)
    world.move()  # wall ahead: a 180-degree turn, no crash
    assert world.agent == (1, 2, Direction.W) and not world.crashed


def test_blocked_move_without_leaps_behaviour_stays() -> None:
    world = KarelWorld.from_string("###\n#>#\n###", leaps_behaviour=False)
    world.move()
    assert world.agent == (1, 1, Direction.E) and not world.crashed


def test_crashable_world_crashes_and_crashed_moves_turn_around() -> None:
    world = KarelWorld.from_string("####\n#.>#\n####", crashable=True)
    world.move()
    assert world.crashed and world.dir == Direction.W
    world.move()  # the cell ahead is clear but a crashed agent does not move
    assert world.agent == (1, 2, Direction.E)


def test_markers_saturate_at_zero_and_ten_without_crashing() -> None:
    world = KarelWorld.from_string("###\n#>#\n###")
    world.pick_marker()
    assert world.markers[1, 1] == 0 and not world.crashed
    for _ in range(12):
        world.put_marker()
    assert world.markers[1, 1] == 10 and not world.crashed
    crashy = KarelWorld.from_string("###\n#>#\n###", crashable=True)
    crashy.pick_marker()
    assert crashy.crashed


def test_perceptions_are_relative_to_facing() -> None:
    world = KarelWorld.from_string("#####\n#...#\n#.^.#\n#...#\n##.##")
    world.walls[1, 2] = True  # block north
    assert not world.front_is_clear()
    assert world.left_is_clear() and world.right_is_clear()
    world.turn_left()  # facing west
    assert world.front_is_clear() and world.left_is_clear() and not world.right_is_clear()
    assert world.no_markers_present() and not world.markers_present()


def test_turns_cycle_through_facings() -> None:
    world = KarelWorld.from_string("###\n#^#\n###")
    facings = []
    for _ in range(4):
        world.turn_right()
        facings.append(world.facing)
    assert facings == ["E", "S", "W", "N"]
    world.turn_left()
    assert world.facing == "W"


def test_call_budget_crashes_before_the_call_that_exceeds_it() -> None:
    world = KarelWorld.from_string("####\n#>.#\n####", max_calls=2)
    world.count_call()
    world.count_call()
    assert not world.crashed
    world.count_call()
    assert world.crashed and world.calls == 3


def test_tensor_round_trip_and_channels() -> None:
    world = KarelWorld.from_string(ROOM)
    state = world.to_tensor()
    assert state.shape == (16, 4, 5) and state.dtype == bool
    assert state[Channel.AGENT_E, 1, 1] and state[: Channel.WALL].sum() == 1
    assert state[Channel.markers(2), 1, 3] and state[Channel.MARKERS_0, 1, 2]
    assert (state[Channel.WALL] == world.walls).all()
    assert KarelWorld.from_tensor(state) == world


def test_from_tensor_tolerates_unset_zero_channel() -> None:
    state = KarelWorld.from_string(ROOM).to_tensor()
    state[Channel.MARKERS_0] = False  # the reference's generators often leave it unset
    assert KarelWorld.from_tensor(state).markers[1, 2] == 0


def test_copy_is_independent() -> None:
    world = KarelWorld.from_string(ROOM)
    other = world.copy()
    other.put_marker()
    other.move()
    assert world.markers[1, 1] == 0 and world.agent == (1, 1, Direction.E)
    assert other != world


def test_fingerprint_ignores_walls_but_not_markers() -> None:
    world = KarelWorld.from_string(ROOM)
    before = world.fingerprint()
    world.walls[2, 2] = True
    assert world.fingerprint() == before
    world.put_marker()
    assert world.fingerprint() != before


def test_invalid_construction() -> None:
    with pytest.raises(ConfigError):
        KarelWorld(np.zeros((3, 3), bool), np.zeros((3, 4)), (1, 1, 0))
    with pytest.raises(ConfigError):
        KarelWorld(np.zeros((3, 3), bool), np.zeros((3, 3)), (5, 1, 0))
    with pytest.raises(ConfigError):
        KarelWorld(np.zeros((3, 3), bool), np.full((3, 3), 11), (1, 1, 0))
