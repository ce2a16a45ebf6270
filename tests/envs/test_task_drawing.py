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


class _Stamp(Task):
    """A user task of the Karel domain that draws itself its own way (fixed bytes)."""

    domain, description = "karel", "draws a stamp"

    def __init__(self, n: int = 32, seed: int = 0) -> None:
        self.id, self.n, self.seed = "karel/Stamp", n, seed

    def returns(self, program: object) -> list[float]:
        return [0.0] * self.n

    def rollout(self, program: object, instance: int = 0, trace: bool = True) -> Rollout:
        return Rollout(instance, 0.0, True, False, 0)

    def render_text(self, instance: int = 0) -> str:
        return f"stamp {instance}"

    def render_episode(
        self, program: object, path: str | Path, instance: int = 0, *, cell: int = 32
    ) -> Path:
        Path(path).write_bytes(b"GIF stamp %d" % instance)
        return Path(path)


def test_the_run_folder_the_service_and_render_ask_the_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main
    from agent.pipeline.rundir import RunDir
    from agent.service.worker import render_gif

    spec = envs.TaskSpec("karel/Stamp", "karel", "draws a stamp", factory=_Stamp)
    envs.register(spec, replace=True)
    try:
        run = RunDir(tmp_path / "runs")
        run.open("karel/Stamp")
        gif = run.save_gif(_Stamp(3), "DEF run m( move m)", 1)
        run.close()
        assert gif is not None and gif.read_bytes() == b"GIF stamp 1"
        assert render_gif("karel/Stamp", "DEF run m( move m)", [0.0, -1.0]) == b"GIF stamp 1"
        out = tmp_path / "e.gif"
        code = main(["render", "DEF run m( move m)", "--task", "karel/Stamp", "--instance",
                     "2", "--gif", str(out)])  # fmt: skip
        assert code == 0 and out.read_bytes() == b"GIF stamp 2"
        assert "stamp 2" in capsys.readouterr().out  # its text picture, not Karel's grid
    finally:
        envs.unregister("karel/Stamp")
