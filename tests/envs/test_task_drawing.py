"""Every task draws itself: callers ask the task, never dispatch on its domain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import envs
from envs.errors import ConfigError
from envs.karel.render import save_gif, save_png
from envs.minigrid.render import render_rollout
from envs.task import Rollout, Task

PROGRAMS = {"karel": "DEF run m( move turnLeft move m)", "minigrid": "DEF run m( forward m)"}


@pytest.mark.parametrize("task_id", ["karel/DoorKey", "minigrid/LavaGap"])
def test_drawings_are_the_domain_renderers_output(task_id: str, tmp_path: Path) -> None:
    task = envs.make(task_id, n=3)
    program = PROGRAMS[task.domain]
    start = task.render_start(tmp_path / "start.png", 2, cell=16)
    episode = task.render_episode(program, tmp_path / "episode.gif", 2, cell=16)
    assert start is not None and episode is not None
    if task.domain == "karel":
        expected_start = save_png(task.initial_world(2), tmp_path / "ref.png", 16)
        expected_episode = save_gif(task, program, tmp_path / "ref.gif", 2, cell=16)
        assert task.render_text(2) == task.initial_world(2).to_string()
    else:
        expected_start = render_rollout(task, program, 2, tmp_path / "ref.png", tile_size=16)
        expected_episode = render_rollout(task, program, 2, tmp_path / "ref.gif", tile_size=16)
        assert task.render_text(2) is None  # `llmgs render` prints no text grid for Minigrid
    assert start.read_bytes() == expected_start.read_bytes()
    assert episode.read_bytes() == expected_episode.read_bytes()
    assert Image.open(episode).n_frames > 1
    assert np.asarray(Image.open(start)).shape[:2] == np.asarray(Image.open(episode)).shape[:2]


@pytest.mark.parametrize("task_id", ["karel/DoorKey", "minigrid/LavaGap"])
def test_an_instance_out_of_range_is_a_config_error(task_id: str, tmp_path: Path) -> None:
    task = envs.make(task_id, n=2)
    with pytest.raises(ConfigError):
        task.render_start(tmp_path / "x.png", 2)
    with pytest.raises(ConfigError):
        task.render_episode(PROGRAMS[task.domain], tmp_path / "x.gif", 5)


class _Blind(Task):
    id, domain, n, seed, description = "test/Blind", "karel", 1, 0, "draws nothing"

    def returns(self, program: object) -> list[float]:
        return [0.0]

    def rollout(self, program: object, instance: int = 0, trace: bool = True) -> Rollout:
        return Rollout(instance, 0.0, True, False, 0)


def test_a_task_that_cannot_draw_says_so_with_none(tmp_path: Path) -> None:
    task = _Blind()
    assert task.render_text() is None
    assert task.render_start(tmp_path / "s.png") is None
    assert task.render_episode("DEF run m( move m)", tmp_path / "e.gif") is None
    assert not list(tmp_path.iterdir())
