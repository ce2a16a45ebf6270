"""Suites from YAML, the runner (rows, SQLite, resume, skips, failures) and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from agent.cli import main
from envs.errors import ConfigError
from evals.report import write_report
from evals.runner import run_suite
from evals.store import ResultStore
from evals.suite import MethodSpec, Suite, load_suite, suite_from_dict

ROOT = Path(__file__).resolve().parents[2]


def _suite(**changes: object) -> Suite:
    base = Suite(
        name="t", tasks=("karel/StairClimberSparse",), seeds=(0,), budgets=(60,),
        methods=(MethodSpec("shc", "search", "shc"), MethodSpec("random", "search", "random")),
    )  # fmt: skip
    return replace(base, **changes)


def _lines(folder: Path) -> int:
    return len((folder / "rows.jsonl").read_text().splitlines())


def test_bundled_suites_load_and_expand() -> None:
    for name in ("smoke", "backends", "revision", "search", "novel_minigrid"):
        suite = load_suite(name)
        keys = [c.key for c in suite.cells()]
        assert keys and len(keys) == len(set(keys)), name
    assert len(load_suite("smoke").cells()) == 2


def test_search_cells_use_no_model_and_revision_cells_need_one() -> None:
    suite = suite_from_dict({
        "name": "x", "tasks": ["karel/DoorKey"], "seeds": [0, 1], "budgets": [10],
        "backends": [None, "local/qwen2.5-coder-0.5b"],
        "methods": [{"name": "shc", "kind": "search"},
                    {"name": "rev", "kind": "revision", "revision": "regeneration"},
                    {"name": "llmgs", "kind": "solve", "seeds": [0]}],
    })  # fmt: skip
    by_method: dict[str, list[tuple[str, int]]] = {}
    for cell in suite.cells():
        by_method.setdefault(cell.method.name, []).append((cell.backend_label, cell.seed))
    assert by_method["shc"] == [("none", 0), ("none", 1)]
    assert by_method["rev"] == [("local/qwen2.5-coder-0.5b", 0), ("local/qwen2.5-coder-0.5b", 1)]
    assert by_method["llmgs"] == [("none", 0), ("local/qwen2.5-coder-0.5b", 0)]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x", "tasks": ["a"], "methods": [{"name": "m"}], "bogus": 1},
        {"name": "x", "tasks": ["a"], "methods": [{"name": "m", "kind": "nope"}]},
        {"name": "x", "tasks": ["a"], "methods": [{"name": "m"}, {"name": "m"}]},
        {"name": "x", "tasks": ["a"], "methods": [{"name": "m", "kind": "revision"}]},
        {"name": "x", "methods": [{"name": "m"}]},
        {"name": "x", "tasks": ["a"], "methods": [{"name": "m", "method": "llmgs"}]},
        {"name": "x", "tasks": ["karel/Doorkeyy"], "methods": [{"name": "m"}]},
    ],
)
def test_invalid_suites_raise_config_error(data: dict) -> None:
    with pytest.raises(ConfigError):
        suite_from_dict(data)


def test_a_search_cell_runs_every_search_that_starts_from_random_programs(
    tmp_path: Path,
) -> None:
    methods = tuple(MethodSpec(m, "search", m) for m in ("mosaic", "shc", "hc", "random"))
    report = run_suite(_suite(methods=methods), tmp_path)
    assert (report.ran, report.ok) == (4, 4)
    rows = ResultStore(tmp_path).read_rows()
    assert {r["method"] for r in rows} == {"mosaic", "shc", "hc", "random"}
    assert all(r["evaluations"] <= 60 for r in rows)


def test_run_writes_rows_and_sqlite_and_rerun_does_no_work(tmp_path: Path) -> None:
    suite = load_suite("smoke")
    first = run_suite(suite, tmp_path, workers=2)
    assert (first.ran, first.ok, first.already_done) == (2, 2, 0)
    rows = ResultStore(tmp_path).read_rows()
    assert {r["method"] for r in rows} == {"shc", "random"}
    for row in rows:
        assert row["status"] == "ok" and row["evaluations"] <= row["budget"] == 200
        assert row["curve"] and row["final_return"] == row["curve"][-1][1]
    db = ResultStore(tmp_path).query("SELECT key, final_return FROM rows ORDER BY key")
    assert len(db) == 2
    second = run_suite(suite, tmp_path, workers=2)
    assert (second.ran, second.already_done) == (0, 2)
    assert _lines(tmp_path) == 2  # nothing was run or written again


def test_interrupted_suite_resumes_only_the_rest(tmp_path: Path) -> None:
    suite = _suite(seeds=(0, 1))

    def stop_after_first(row: dict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, tmp_path, on_row=stop_after_first)
    assert _lines(tmp_path) == 1
    # The interruption is logged: the report says so instead of "killed".
    assert "(interrupted with Ctrl-C)" in write_report(tmp_path).read_text()
    with (tmp_path / "rows.jsonl").open("a") as fh:
        fh.write('{"key": "torn')  # a write cut by a kill
    resumed = run_suite(suite, tmp_path)
    assert (resumed.already_done, resumed.ran, resumed.ok) == (1, 3, 3)
    assert len(ResultStore(tmp_path).read_rows()) == 4


def test_killed_process_resumes(tmp_path: Path) -> None:
    suite_file = tmp_path / "kill.yaml"
    suite_file.write_text(
        "name: kill\ntasks: [karel/DoorKey]\nseeds: [0, 1, 2, 3, 4, 5]\nbudgets: [1500]\n"
        "methods: [{name: random, kind: search, method: random}]\n"
    )
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "agent.cli", "eval", "run", str(suite_file), "--out", str(out),
           "--no-report"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "rows.jsonl").exists() and _lines(out) >= 1:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(ResultStore(out).read_rows())
    assert 1 <= done < 6  # killed mid-suite
    resumed = run_suite(load_suite(str(suite_file)), out)
    assert resumed.already_done == done and resumed.ran == 6 - done
    assert len(ResultStore(out).read_rows()) == 6


def test_changed_settings_are_redone(tmp_path: Path) -> None:
    suite = _suite(methods=(MethodSpec("hc", "search", "hc", k=5),))
    run_suite(suite, tmp_path)
    changed = _suite(methods=(MethodSpec("hc", "search", "hc", k=6),))
    again = run_suite(changed, tmp_path)
    assert again.ran == 1 and again.already_done == 0
    (row,) = ResultStore(tmp_path).read_rows()
    assert row["fingerprint"] == changed.cells()[0].fingerprint


def test_failed_cell_is_recorded_and_retried(tmp_path: Path) -> None:
    suite = _suite(tasks=("karel/NoSuchTask",), methods=(MethodSpec("shc"),))
    first = run_suite(suite, tmp_path)
    (row,) = ResultStore(tmp_path).read_rows()
    assert first.failed == 1 and row["status"] == "failed" and "NoSuchTask" in row["reason"]
    assert run_suite(suite, tmp_path).ran == 1  # failures are not "done"


def test_unavailable_backend_is_skipped_with_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    suite = _suite(methods=(MethodSpec("llmgs", "solve"),), backends=("openai/gpt-4o-mini",))
    first = run_suite(suite, tmp_path)
    (row,) = ResultStore(tmp_path).read_rows()
    assert first.skipped == 1 and row["status"] == "skipped"
    assert "OPENAI_API_KEY" in row["reason"]
    assert run_suite(suite, tmp_path).ran == 0
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    todo_now = run_suite.__globals__["pending_cells"](suite, ResultStore(tmp_path))[0]
    assert len(todo_now) == 1  # with a key the skipped cell is due again


def test_cli_list_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "list"]) == 0
    assert "smoke" in capsys.readouterr().out
    assert main(["eval", "run", "smoke", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ran"] == 2 and (tmp_path / "report.md").exists()
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert main(["eval", "run", "smoke", "--out", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == 0


def test_methods_filter_leaves_the_rest_pending(tmp_path: Path) -> None:
    suite = load_suite("smoke")
    part = run_suite(suite, tmp_path, methods=["random"])
    assert part.ran == 1 and ResultStore(tmp_path).read_rows()[0]["method"] == "random"
    report = write_report(tmp_path).read_text()
    # The header counts the suite's cells, not the rows: 2 cells, 1 of them not run yet.
    assert "- **Cells:** 2 (not run yet 1, ok 1)" in report
    with pytest.raises(ConfigError, match="no method"):
        run_suite(suite, tmp_path, methods=["nope"])
    assert run_suite(suite, tmp_path).ran == 1


def test_report_ignores_rows_of_cells_no_longer_in_the_suite(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text((ROOT / "evals/suites/smoke.yaml").read_text())
    run_suite(load_suite(str(old)), tmp_path)
    old.write_text(old.read_text().replace("budgets: [200]", "budgets: [100]"))
    run_suite(load_suite(str(old)), tmp_path, methods=["shc"])
    assert len(ResultStore(tmp_path).read_rows()) == 3
    report = write_report(tmp_path).read_text()
    assert "budgets:** [100]" in report and "not run yet 1" in report


@pytest.mark.slow
def test_ray_executor_matches_process_results(tmp_path: Path) -> None:
    import ray  # the [dev] extra installs it; a missing Ray must fail, not skip

    ray.init(num_cpus=2, include_dashboard=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})  # fmt: skip
    try:
        on_ray = run_suite(load_suite("smoke"), tmp_path / "ray", workers=2, executor="ray")
    finally:
        ray.shutdown()
    run_suite(load_suite("smoke"), tmp_path / "proc", workers=1)
    assert on_ray.ok == 2

    def outcome(folder: Path) -> dict:
        return {r["key"]: (r["final_return"], r["evaluations"], r["curve"])
                for r in ResultStore(folder).read_rows()}  # fmt: skip

    assert outcome(tmp_path / "ray") == outcome(tmp_path / "proc")


def test_report_names_a_killed_invocation(tmp_path: Path) -> None:
    def stop(row: dict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_suite(load_suite("smoke"), tmp_path, on_row=stop)
    # A kill logs no end: drop the line the Ctrl-C wrote to make this one a kill.
    log = tmp_path / "runs.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("".join(x + "\n" for x in lines if '"interrupted"' not in x))
    run_suite(load_suite("smoke"), tmp_path)
    report = write_report(tmp_path).read_text()
    assert "(killed before it finished)" in report and "ran 1 cell(s)\n" in report
