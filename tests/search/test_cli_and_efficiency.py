"""`llmgs search` and the sample-efficiency benchmark on real Karel tasks (small budgets)."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from pathlib import Path

import pytest

from agent.cli import main
from envs.dsl import parse
from search.efficiency import by_task_markdown, markdown, report, run_benchmark, summarise
from search.efficiency import main as efficiency_main
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


def test_efficiency_smoke(tmp_path: Path) -> None:
    tasks = ["karel/MazeSparse", "karel/StairClimberSparse"]
    records = run_benchmark(tasks, ["shc", "hc"], range(2), 3000, tmp_path)
    assert len(records) == 8 and (tmp_path / "runs.jsonl").exists()
    again = run_benchmark(tasks, ["shc", "hc"], range(2), 3000, tmp_path)  # resumes: no reruns
    assert again == records
    rows = summarise(records, [1000, 3000])
    assert len(rows) == 8
    for row in rows:
        assert row["runs"] == 2 and 0 <= row["solved"] <= 2
        if row["budget"] == 3000:
            assert row["median_final_return"] <= 1.0000000000000002
        # Both medians count an unsolved run as infinite, so they are finite together.
        assert math.isinf(row["median_s_to_solve"]) == math.isinf(row["median_evals_to_solve"])
    table = markdown(rows)
    assert table.count("\n") == 2 + len(rows) and "MazeSparse" in table
    by_task = by_task_markdown(rows, 3000).splitlines()
    assert by_task[0].startswith("| task | shc solved |") and "| hc solved |" in by_task[0]
    assert len(by_task) == 2 + len(tasks)
    assert by_task[0].count("|") == by_task[2].count("|")
    full = report(rows, [1000, 3000])
    assert full.index("## At 3,000") < full.index("## At 1,000") < full.index("## Every row")


def test_efficiency_resumes_after_a_run_killed_mid_write(tmp_path: Path) -> None:
    tasks = ["karel/MazeSparse"]
    records = run_benchmark(tasks, ["shc", "hc"], range(2), 2000, tmp_path)
    path = tmp_path / "runs.jsonl"
    lines = path.read_text().splitlines()
    # A process killed while appending leaves the last line cut short.
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    again = run_benchmark(tasks, ["shc", "hc"], range(2), 2000, tmp_path)
    key = lambda r: (r["method"], r["seed"])  # noqa: E731
    assert sorted(map(key, again)) == sorted(map(key, records))
    lost = json.loads(lines[-1])
    assert [r for r in again if key(r) == key(lost)][0]["best_program"] == lost["best_program"]
    assert [json.loads(line) for line in path.read_text().splitlines()] == again


def test_efficiency_rejects_a_corrupt_line_before_the_end(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_text("{not json\n{}\n")
    with pytest.raises(json.JSONDecodeError):
        run_benchmark(["karel/MazeSparse"], ["shc"], range(1), 100, tmp_path)


def test_efficiency_command_resolves_bare_names_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--tasks", "mazesparse", "--methods", "shc", "--seeds", "2", "--budget", "2e3",
            "--report", "1e3,2000", "--out", str(tmp_path), "--workers", "1"]  # fmt: skip
    assert efficiency_main(args) == 0
    first = (tmp_path / "runs.jsonl").read_text()
    assert [json.loads(line)["task"] for line in first.splitlines()] == ["karel/MazeSparse"] * 2
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {row["budget"] for row in summary} == {1000, 2000}
    assert efficiency_main(args) == 0  # the same command again runs nothing new
    assert (tmp_path / "runs.jsonl").read_text() == first
    assert "| MazeSparse | shc | 2,000 | 2/2 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "Doorkeyy"], "did you mean karel/DoorKey"),
        (["--methods", "llmgs"], "unknown method(s) llmgs"),
        (["--budget", "0"], "at least 1 evaluation"),
        (["--budget", "1.5"], "not a whole number"),
        (["--budget", "inf"], "not a whole number"),
        (["--report", "10,x"], "--report wants"),
        (["--seeds", "0"], "--seeds and --workers"),
    ],
)
def test_efficiency_command_explains_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as stop:
        efficiency_main([*args, "--out", str(tmp_path / "out")])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


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
