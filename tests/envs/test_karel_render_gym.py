"""Rendering (ASCII/PNG/GIF), the gymnasium envs and the ``tasks``/``render`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from PIL import Image

import envs.karel.gym_env  # noqa: F401  (registers the gymnasium ids)
from agent.cli import main
from envs.karel.gym_env import KarelGymEnv, gym_id
from envs.karel.render import episode_worlds, save_gif, save_png, to_image
from envs.karel.task import KarelTask
from envs.karel.tasks import SPECS

DOORKEY = ("DEF run m( REPEAT R=19 r( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( "
           "move e) IF c( not c( frontIsClear c) c) i( turnRight i) r) m)")  # fmt: skip


def test_png_and_gif(tmp_path: Path) -> None:
    task = KarelTask("DoorKey", n=4, engine="python")
    world = task.initial_world(3)
    img = to_image(world, cell=16)
    assert img.size == (8 * 16, 8 * 16)
    assert Image.open(save_png(world, tmp_path / "s.png")).size == (256, 256)
    frames = episode_worlds(task, DOORKEY, 3)
    assert frames[0] == world and len(frames) > 2
    assert not frames[-1].walls[2, 4]  # the door opened during the episode
    gif = Image.open(save_gif(task, DOORKEY, tmp_path / "e.gif", 3, cell=8))
    assert gif.n_frames == len(frames)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gym_env_passes_check_env(name: str) -> None:
    check_env(gym.make(gym_id(name), n=4).unwrapped)


def test_gym_env_matches_program_rewards() -> None:
    env = gym.make(gym_id("Harvester"), n=2, max_steps=50)
    obs, info = env.reset(seed=0, options={"instance": 1})
    assert obs.shape == (16, 8, 8) and obs.dtype == bool and info["instance"] == 1
    total = 0.0
    for _ in range(3):  # pick, move, pick
        for action in (3, 0):
            obs, reward, terminated, truncated, info = env.step(action)
            total += reward
    assert total == pytest.approx(3 / 36)
    for _ in range(50):
        *_, terminated, truncated, _ = env.step(1)
        if truncated:
            break
    assert truncated and not terminated


def test_gym_render_modes() -> None:
    env = KarelGymEnv("Maze", n=1, render_mode="ansi")
    env.reset(seed=1)
    assert ">" in env.render()
    env = KarelGymEnv("Maze", n=1, render_mode="rgb_array")
    env.reset(seed=1)
    assert env.render().shape == (256, 256, 3)


def test_cli_tasks_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--json", "--domain", "karel"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 12 and listed[6]["id"] == "karel/DoorKey"
    assert main(["tasks", "--all"]) == 0
    assert "karel/CleanHouseSparse" in capsys.readouterr().out


def test_cli_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gif, png = tmp_path / "out.gif", tmp_path / "out.png"
    code = main(["render", DOORKEY, "--task", "karel/DoorKey", "--instance", "3",
                 "--gif", str(gif), "--png", str(png)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "return 0.5" in out and gif.exists() and png.exists()
    assert "#>..#..#" in out
    assert main(["render", "DEF run m( move", "--task", "karel/DoorKey"]) == 1
    assert "expected" in capsys.readouterr().err
    assert main(["render", "DEF run m( move m)", "--task", "karel/Maze", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["return"] == KarelTask("Maze", n=1).rollout("DEF run m( move m)").total_return
    assert np.isfinite(record["return"])


def test_cli_render_minigrid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "lava.png"
    code = main(["render", "DEF run m( forward m)", "--task", "minigrid/LavaGap", "--png",
                 str(png), "--json"])  # fmt: skip
    record = json.loads(capsys.readouterr().out)
    assert code == 0 and record["start"] is None and png.exists()
    assert record["task"] == "minigrid/LavaGap" and np.isfinite(record["return"])


def test_render_says_to_use_at_for_a_program_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main

    program = tmp_path / "best_program.dsl"
    program.write_text("DEF run m( move m)\n")
    assert main(["render", str(program), "--task", "karel/Harvester"]) == 1
    assert f"pass @{program}" in capsys.readouterr().err
    assert main(["render", f"@{program}", "--task", "karel/Harvester"]) == 0
