"""`llmgs search` on real Karel tasks (small budgets): JSON, text, resume, Ctrl-C, progress."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from agent.cli import main
from envs.dsl import parse
from tests.process_watch import (
    START_DEADLINE_S,
    group_members,
    kill_group,
    start_group,
    text_of,
    wait_until,
)


def test_cli_search_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["search", "--task", "karel/MazeSparse", "--budget", "400", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task_id"] == "karel/MazeSparse" and result["method"] == "mosaic"  # default
    assert result["evaluations"] <= 400 and result["heldout_return"] is not None
    parse(result["best_program"], "karel")


def test_cli_search_text_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = str(tmp_path / "run")
    args = ["search", "--task", "karel/DoorKey", "--method", "hc", "--k", "20", "--budget", "300"]
    assert main([*args, "--run-dir", run_dir, "--no-progress"]) == 0
    first = capsys.readouterr().out
    assert "evaluations 300 of 300" in first and "best return" in first
    assert main([*args, "--resume", run_dir, "--no-progress"]) == 0  # finished: same result
    assert capsys.readouterr().out.splitlines()[:4] == first.splitlines()[:4]
    assert (tmp_path / "run" / "events.jsonl").exists()


@pytest.mark.parametrize(
    ("workers", "inherited"),
    [(1, signal.SIG_DFL), (2, signal.SIG_IGN)],
    ids=["alone-from-a-terminal", "evaluation-pool-background-of-a-script"],
)
def test_ctrl_c_stops_cleanly_and_keeps_the_best(
    tmp_path: Path, workers: int, inherited: int
) -> None:
    # Ctrl-C reaches the whole process group (with --workers 2, the evaluation pool too): the
    # search stops, prints its best program, keeps its checkpoint and leaves no process behind.
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "agent.cli", "search", "--task", "karel/DoorKey", "--method"]
    cmd += ["shc", "--budget", "1000000", "--run-dir", str(run_dir), "--checkpoint-every", "0"]
    cmd += ["--workers", str(workers), "--no-progress"]
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    proc = start_group(cmd, stdout, stderr, sigint=inherited)
    try:
        # A best_updated event is written from inside the search loop: the search has started.
        wait_until(lambda: "best_updated" in text_of(run_dir / "events.jsonl"),
                   START_DEADLINE_S, "the search never started", proc)  # fmt: skip
        os.killpg(proc.pid, signal.SIGINT)
        wait_until(lambda: proc.poll() is not None and not group_members(proc.pid), 60,
                   "processes left running after Ctrl-C")  # fmt: skip
    finally:
        kill_group(proc)
    out, err = text_of(stdout), text_of(stderr)
    assert proc.returncode == 130, err
    assert "stopped: interrupted" in out and "program     DEF run m(" in out
    assert "Traceback" not in err
    assert (run_dir / "checkpoint.json").exists() and not (run_dir / "result.json").exists()


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from search import SearchConfig, scheduled_hill_climbing

    scheduled_hill_climbing("karel/MazeSparse", config=SearchConfig(budget=200, seed=1))
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    scheduled_hill_climbing("karel/MazeSparse", config=SearchConfig(budget=200, seed=1))
    err = capsys.readouterr().err
    assert "karel/MazeSparse" in err and "best=" in err and "k=" in err
