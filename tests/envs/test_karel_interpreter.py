"""The reference interpreter: the spec's 14 test vectors bit for bit, and §2's edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from envs.dsl import parse, preorder
from envs.errors import ConfigError, DSLSyntaxError, ProgramRuntimeError
from envs.karel.interpreter import run_program
from envs.karel.task import KarelTask
from envs.karel.tasks import KarelOptions
from envs.karel.vectors import TEST_VECTORS
from envs.karel.world import KarelWorld

# (task, program, score) from spec/benchmark.md §4; == comparison, not approx.
VECTORS = [(v.task, v.program, v.score) for v in TEST_VECTORS]


@pytest.mark.parametrize(("name", "program", "score"), VECTORS)
def test_spec_vectors_bit_for_bit(name: str, program: str, score: float) -> None:
    task = KarelTask(name, engine="python")
    assert task.evaluate(program) == score
    returns = task.returns(program)
    assert len(returns) == 32 and all(isinstance(r, float) for r in returns)


def _noop_reward(world: KarelWorld) -> tuple[bool, float]:
    return False, 0.0


CORRIDOR = "######\n#>...#\n######"


def test_while_repeat_crashes_silently() -> None:
    # turnLeft x4 returns to the same fingerprint: the second visit crashes the world.
    program = parse("DEF run m( WHILE c( frontIsClear c) w( turnLeft turnLeft turnLeft "
                    "turnLeft w) move m)")  # fmt: skip
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, _noop_reward)
    assert result.crashed and not result.terminated and result.total_return == 0.0
    assert world.agent == (1, 1, 1)  # the trailing move never ran


def test_while_memory_persists_across_reentries_of_an_inner_loop() -> None:
    # The inner loop sees the same state again on its second entry (the outer REPEAT makes no
    # change in between), so the world crashes; a fresh memory per entry would not.
    program = parse("DEF run m( REPEAT R=2 r( WHILE c( noMarkersPresent c) w( putMarker w) "
                    "pickMarker r) m)")  # fmt: skip
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, _noop_reward)
    assert result.crashed


def test_equal_loops_at_different_places_have_separate_memories() -> None:
    loop = "WHILE c( noMarkersPresent c) w( putMarker w) pickMarker"
    program = parse(f"DEF run m( {loop} {loop} move m)")
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, _noop_reward)
    assert not result.crashed and world.col == 2


def test_call_budget_on_an_action_still_runs_and_scores_it() -> None:
    program = parse("DEF run m( move move move m)")
    world = KarelWorld.from_string(CORRIDOR, max_calls=2)
    rewards = []

    def reward(w: KarelWorld) -> tuple[bool, float]:
        rewards.append(w.col)
        return False, 1.0

    result = run_program(program, world, reward)
    # The third call exceeds the budget: the world is crashed before it, so the move becomes
    # a 180-degree turn, its reward still counts, and the episode ends.
    assert result.crashed and result.total_return == 3.0 and result.calls == 3
    assert rewards == [2, 3, 3] and world.facing == "W"


def test_call_budget_spent_by_a_perception_ends_without_reward() -> None:
    program = parse("DEF run m( IF c( frontIsClear c) i( move i) move m)")
    world = KarelWorld.from_string(CORRIDOR, max_calls=0)
    result = run_program(program, world, lambda w: (False, 1.0))
    assert result.crashed and result.total_return == 0.0 and world.col == 1


def test_rewards_only_after_actions_and_termination_stops() -> None:
    program = parse("DEF run m( IF c( frontIsClear c) i( move move move i) m)")
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, lambda w: (w.col == 3, 0.5))
    assert result.terminated and result.total_return == 1.0 and world.col == 3


def test_trace_records_actions_and_perceptions_with_locations() -> None:
    program = parse("DEF run m( IF c( not c( frontIsClear c) c) i( turnLeft i) move m)")
    nodes = preorder(program)
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, lambda w: (False, 0.25), trace=True)
    kinds = [(s.kind, s.name, s.result) for s in result.steps]
    assert kinds == [("perception", "frontIsClear", True), ("action", "move", None)]
    perception, move = result.steps
    assert str(nodes[perception.location]) == "frontIsClear"
    assert str(nodes[move.location]) == "move" and move.location == len(nodes) - 1
    assert move.position == (1, 2) and move.facing == "E" and move.reward == 0.25
    assert (perception.calls, move.calls) == (1, 2)


def test_rollout_trace_matches_returns() -> None:
    name, program, _ = VECTORS[11]  # DoorKey
    task = KarelTask(name, n=4, engine="python")
    for i, ret in enumerate(task.returns(program)):
        rollout = task.rollout(program, i)
        assert rollout.total_return == ret
        assert sum(s.reward for s in rollout.steps) == pytest.approx(ret)
        assert rollout.to_dict()["steps"][0]["kind"] in ("action", "perception")


def test_penalize_crash_option() -> None:
    program = "DEF run m( WHILE c( frontIsClear c) w( turnLeft turnLeft turnLeft turnLeft w) m)"
    plain = KarelTask("Harvester", n=2, engine="python")
    fixed = KarelTask("Harvester", n=2, engine="python",
                      options=KarelOptions(penalize_crash=True))  # fmt: skip
    assert plain.returns(program) == [0.0, 0.0]
    assert fixed.returns(program) == [-1.0, -1.0]


def test_and_or_constants_short_circuit() -> None:
    program = parse("DEF run m( IF c( or c( True c) c( frontIsClear c) c) i( move i) "
                    "IF c( and c( False c) c( frontIsClear c) c) i( move i) m)")  # fmt: skip
    world = KarelWorld.from_string(CORRIDOR)
    result = run_program(program, world, _noop_reward)
    assert world.col == 2 and result.calls == 1


def test_errors() -> None:
    task = KarelTask("Maze", n=1, engine="python")
    with pytest.raises(DSLSyntaxError):
        task.evaluate("DEF run m( move")
    with pytest.raises(ProgramRuntimeError):
        task.evaluate(parse("DEF run m( forward m)", "minigrid"))
    with pytest.raises(ConfigError):
        task.rollout("DEF run m( move m)", instance=1)
    with pytest.raises(ConfigError):
        KarelTask("Maze", n=0)
    with pytest.raises(ConfigError, match="engine must be"):
        KarelTask("Maze", n=1, engine="fast")  # type: ignore[arg-type]


def test_episodes_do_not_leak_state() -> None:
    task = KarelTask("DoorKey", n=3, engine="python")
    program = VECTORS[11][1]
    first = task.returns(program)
    assert task.returns(program) == first
    assert np.array_equal(task.initial_world(0).walls, task.instances[0].walls)


class _FakeCompiled:
    """Stands in for envs.karel.compiled.CompiledKarelEvaluator."""

    supported_options = frozenset({"max_calls"})
    refuse = False

    def __init__(self, task: KarelTask) -> None:
        if self.refuse:
            raise ConfigError("not for this task")
        self.n = task.n

    def returns(self, program: object) -> list[float]:
        return [0.125] * self.n


def test_engine_selection_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    import envs.karel.task as module

    monkeypatch.setattr(module, "compiled_evaluator_class", lambda: _FakeCompiled)
    task = KarelTask("Harvester", n=2)
    assert task.engine == "compiled" and task.returns("DEF run m( move m)") == [0.125, 0.125]
    assert KarelTask("Harvester", n=2, options=KarelOptions(max_calls=5)).engine == "compiled"
    unsupported = KarelOptions(penalize_crash=True)
    assert KarelTask("Harvester", n=2, options=unsupported).engine == "python"
    with pytest.raises(ConfigError):
        KarelTask("Harvester", n=2, options=unsupported, engine="compiled")
    monkeypatch.setattr(_FakeCompiled, "refuse", True)
    auto = KarelTask("Harvester", n=2)
    assert auto.returns("DEF run m( pickMarker m)") == [1 / 36, 1 / 36]
    assert auto.engine == "python"
    with pytest.raises(ConfigError):
        KarelTask("Harvester", n=2, engine="compiled").returns("DEF run m( move m)")
