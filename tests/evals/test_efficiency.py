"""The sample-efficiency benchmark (`python -m evals.efficiency`) on real tasks, small budgets."""

from __future__ import annotations

import json
import math
import signal
import sys
from pathlib import Path

import pytest

from evals.efficiency import by_task_markdown, markdown, report, run_benchmark, summarise
from evals.efficiency import main as efficiency_main
from tests.process_watch import ctrl_c_once_workers_run, kill_group, start_group, text_of


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


def _row(method: str, curve: list[list[float]], **extra: object) -> dict:
    return {"task": "karel/X", "method": method, "seed": 0, "budget": 100, "curve": curve,
            "evaluations_to_solve": None, "best_return": curve[-1][1], "evaluations": 100,
            "unique_evaluations": 100, "wall_s": 2.0, "best_program": "", **extra}  # fmt: skip


def test_efficiency_judges_every_method_by_a_task_s_best_reachable_target() -> None:
    records = [
        _row("mosaic", [[5, 0.5], [10, 0.95]], target=0.95, heldout_return=0.9),
        _row("shc", [[7, 0.96], [50, 0.97]], heldout_return=0.8),
        _row("hc", [[3, 0.2]]),
    ]
    rows = {r["method"]: r for r in summarise(records, [100])}
    assert rows["mosaic"]["solved"] == 1 and rows["mosaic"]["median_evals_to_solve"] == 10
    assert rows["mosaic"]["median_s_to_solve"] == 2.0  # it stopped at the target
    assert rows["shc"]["solved"] == 1 and rows["shc"]["median_evals_to_solve"] == 7
    assert rows["shc"]["median_s_to_solve"] is None  # it ran on past the target: no time
    assert rows["hc"]["solved"] == 0 and rows["hc"]["median_heldout_return"] is None
    assert rows["mosaic"]["median_heldout_return"] == 0.9
    table = by_task_markdown(list(rows.values()), 100)
    assert "X (to 0.95, the best reachable)" in table and "0.900 / 0.800 / -" in table


@pytest.mark.parametrize(
    "inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["from-a-terminal", "background-of-a-script"]
)
def test_ctrl_c_to_the_process_group_stops_every_process(tmp_path: Path, inherited: int) -> None:
    # Ctrl-C in a terminal signals the whole group: the parent and both mosaic workers. Three
    # 1e6-evaluation runs of a task mosaic never solves take minutes; Ctrl-C must stop every
    # process at once, run none of the queued ones, and leave runs.jsonl readable. A script's
    # background job inherits SIGINT ignored; `kill -INT` of its group must stop it all the same.
    command = [sys.executable, "-m", "evals.efficiency", "--tasks", "karel/OneStroke", "--methods",
               "mosaic", "--budget", "1e6", "--seeds", "3", "--workers", "2", "--out",
               str(tmp_path)]  # fmt: skip
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    proc = start_group(command, stdout, stderr, sigint=inherited)
    try:
        # The leader and its two workers, each searching.
        ctrl_c_once_workers_run(proc, lambda: "runs to do on 2 worker(s)" in text_of(stderr),
                                "the benchmark never said it started")  # fmt: skip
    finally:
        kill_group(proc)
    err = text_of(stderr)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    runs = tmp_path / "runs.jsonl"
    assert not runs.exists() or all(json.loads(line) for line in runs.read_text().splitlines())


def test_the_summary_always_reads_the_budget_itself() -> None:
    from evals.efficiency import report_points

    # A budget below the first default point once gave an empty summary.
    assert report_points(None, 2_000) == [2_000]
    assert report_points(None, 20_000) == [10_000, 20_000]
    assert report_points(None, 1_000_000) == [10_000, 100_000, 1_000_000]
    assert report_points("10000,100000,1000000", 100_000) == [10_000, 100_000]
    assert report_points("500,1e3", 2_000) == [500, 1_000, 2_000]


def test_a_small_run_writes_a_summary_with_its_budget(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--budget", "300", "--seeds", "1", "--tasks", "karel/Harvester", "--methods",
            "shc", "--workers", "1", "--out", str(out)]  # fmt: skip
    assert efficiency_main(argv) == 0
    rows = json.loads((out / "summary.json").read_text())
    assert [(r["method"], r["budget"], r["runs"]) for r in rows] == [("shc", 300, 1)]
