"""MinigridTask through the registry: scoring, determinism, traces, errors, rendering, bench."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import envs
from envs.dsl import Action, Perception, parse, preorder
from envs.errors import ConfigError, DSLSyntaxError, TaskNotFound
from envs.minigrid import TASK_INFO, minigrid_bench, render_rollout
from envs.minigrid.task import MinigridTask
from search.space import random_program

LAVA_SOLVER = (
    "DEF run m( WHILE c( not c( front_object_type h( goal h) c) c) w( IFELSE c( "
    "front_object_type h( lava h) c) i( right forward left i) ELSE e( IFELSE c( front_is_clear "
    "c) i( forward i) ELSE e( right e) e) w) forward m)"
)
PROGRAMS = {
    "minigrid/LavaGap": LAVA_SOLVER,
    "minigrid/PutNear": "DEF run m( WHILE c( not c( front_object_type h( ball h) c) c) w( "
    "IFELSE c( front_is_clear c) i( forward i) ELSE e( right e) w) pickup right right drop m)",
    "minigrid/RedBlueDoor": "DEF run m( WHILE c( not c( front_object_color h( red h) c) c) w( "
    "IFELSE c( front_is_clear c) i( forward i) ELSE e( left e) w) toggle m)",
}


def test_registry_lists_and_builds_the_three_tasks() -> None:
    ids = [t.id for t in envs.tasks("minigrid")]
    assert ids == ["minigrid/LavaGap", "minigrid/PutNear", "minigrid/RedBlueDoor"]
    info = envs.info("minigrid/LavaGap")
    assert info.default_budget == 100_000 and info.benchmark
    assert "cross the lava gap and reach the goal" in info.synonyms
    assert envs.info("minigrid/RedBlueDoor").grid == (6, 12)
    task = envs.make("minigrid/PutNear", n=3, seed=5, max_calls=50)
    assert (task.id, task.domain, task.n, task.seed) == ("minigrid/PutNear", "minigrid", 3, 5)
    assert task.config.max_calls == 50
    assert set(TASK_INFO) == {"LavaGap", "PutNear", "RedBlueDoor"}


def test_lavagap_solver_solves_every_instance() -> None:
    task = envs.make("minigrid/LavaGap")
    assert task.returns(LAVA_SOLVER) == [1.0] * 32
    assert task.evaluate(LAVA_SOLVER) == 1.0
    assert task.evaluate("DEF run m( forward m)") < 0  # most gaps are not on row 1


def test_evaluate_is_the_mean_of_returns() -> None:
    task = envs.make("minigrid/RedBlueDoor")
    returns = task.returns(PROGRAMS["minigrid/RedBlueDoor"])
    total = 0.0
    for r in returns:
        total += r
    assert task.evaluate(PROGRAMS["minigrid/RedBlueDoor"]) == total / 32
    assert 0 < total / 32 < 1


_CHILD = """
import json, envs
out = {}
for task_id, program in json.loads(input()).items():
    out[task_id] = envs.make(task_id).returns(program)
print(json.dumps(out))
"""


def test_returns_are_identical_in_a_fresh_process() -> None:
    here = {task_id: envs.make(task_id).returns(p) for task_id, p in PROGRAMS.items()}
    again = {task_id: envs.make(task_id).returns(p) for task_id, p in PROGRAMS.items()}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(PROGRAMS),
        capture_output=True,
        text=True,
        check=True,
    )
    assert here == again == json.loads(child.stdout)
    assert any(r != 0.0 for rs in here.values() for r in rs)


@pytest.mark.parametrize("task_id", sorted(PROGRAMS))
def test_trace_points_at_the_executed_nodes(task_id: str) -> None:
    task = envs.make(task_id, n=4)
    program = parse(PROGRAMS[task_id], "minigrid")
    nodes = preorder(program)
    for instance in range(4):
        ro = task.rollout(program, instance)
        assert ro.steps and [s.calls for s in ro.steps] == list(range(1, ro.calls + 1))
        for step in ro.steps:
            node = nodes[step.location]
            if step.kind == "action":
                assert isinstance(node, Action) and node.name == step.name
                assert step.result is None
            else:
                assert isinstance(node, Perception) and str(node) == step.name
                assert isinstance(step.result, bool) and step.reward == 0.0
        assert sum(s.reward for s in ro.steps) == ro.total_return
        assert ro.total_return == task.returns(program)[instance]
        quiet = task.rollout(program, instance, trace=False)
        assert quiet.steps == () and quiet.calls == ro.calls
        assert ro.to_dict()["steps"][0]["facing"] in "NESW"


def test_trace_positions_follow_the_agent() -> None:
    task = envs.make("minigrid/LavaGap", n=1)
    ro = task.rollout("DEF run m( forward right forward m)", 0)
    assert [(s.position, s.facing) for s in ro.steps] == [((2, 1), "E"), ((2, 1), "S"),
                                                          ((2, 2), "S")]  # fmt: skip


def test_bad_programs_and_arguments_raise() -> None:
    task = envs.make("minigrid/LavaGap", n=2)
    with pytest.raises(DSLSyntaxError):
        task.evaluate("DEF run m( move m)")  # a Karel action
    with pytest.raises(DSLSyntaxError):
        task.rollout("DEF run m( forward", 0)
    with pytest.raises(ConfigError):
        task.rollout("DEF run m( forward m)", 2)
    with pytest.raises(ConfigError):
        MinigridTask("LavaGap", n=0)
    with pytest.raises(ConfigError):
        MinigridTask("LavaGap", seed=-1)
    with pytest.raises(TaskNotFound):
        envs.make("minigrid/LavaGapp")
    with pytest.raises(TaskNotFound):
        MinigridTask("DoorKey")


def test_any_word_is_accepted_inside_h_brackets() -> None:
    task = envs.make("minigrid/LavaGap", n=1)
    ro = task.rollout("DEF run m( IF c( front_object_color h( green h) c) i( left i) m)", 0)
    assert ro.steps[0].result is False and ro.calls == 1


def test_render_png_and_gif(tmp_path) -> None:
    task = envs.make("minigrid/LavaGap", n=1)
    program = "DEF run m( forward right forward m)"
    png = render_rollout(task, program, 0, tmp_path / "start.png", tile_size=16)
    with Image.open(png) as img:
        assert img.size == (96, 96)
    gif = render_rollout(task, program, 0, tmp_path / "run.gif", tile_size=16)
    with Image.open(gif) as img:
        assert img.n_frames == 4  # the start plus one frame per action
    last = render_rollout(task, program, 0, tmp_path / "end.png", tile_size=16, frame="last")
    with Image.open(png) as a, Image.open(last) as b:
        assert a.tobytes() != b.tobytes()
    with pytest.raises(ConfigError):
        render_rollout(task, program, 0, tmp_path / "run.mp4")


def test_bench_reports_a_row_per_task() -> None:
    rng = np.random.RandomState(0)
    rows = minigrid_bench([random_program("minigrid", rng) for _ in range(5)], n=2)
    assert [r.task for r in rows] == sorted(PROGRAMS)
    assert all(r.programs == 5 and r.instances == 2 and r.programs_per_s > 0 for r in rows)
    assert all(r.executor_per_s > 0 and r.speedup_vs_executor > 0 for r in rows)
    assert set(rows[0].to_dict()) >= {"task", "programs_per_s", "us_per_episode"}


def test_start_text_shows_the_instance() -> None:
    task = envs.make("minigrid/LavaGap", n=2)
    text = task.start_text(1).splitlines()
    assert len(text) == 6 and all(len(row) == 12 for row in text)
    assert text[1][2:4] == ">>" and text[4][8:10] == "GG"
    assert sum(row.count("VR") for row in text) == 3  # three red lava cells
