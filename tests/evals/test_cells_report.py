"""Model cells with the ScriptedLLM (solve and the revision experiment), reports and plots."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from agent.llm import ScriptedLLM
from evals.cells import backend_unavailable, run_cell
from evals.plots import round_bests, step_values
from evals.report import write_report
from evals.rows import solve_curve
from evals.runner import run_suite
from evals.store import ResultStore
from evals.suite import Cell, MethodSpec, Suite

ANSWERS = [
    "```python\ndef run():\n    while frontIsClear():\n        move()\n```",
    "I cannot help with that.",
    "```python\ndef run():\n    turnLeft()\n    move()\n    turnRight()\n    move()\n```",
]
TASK = "karel/StairClimberSparse"


def _llm() -> ScriptedLLM:
    return ScriptedLLM(ANSWERS, cycle=True)


def test_solve_cell_records_usage_acceptance_and_curve() -> None:
    cell = Cell("t", TASK, MethodSpec("llmgs", "solve", samples=3), "scripted/fake", 0, 300)
    row = run_cell(cell, _llm())
    assert row["status"] == "ok", row["reason"]
    # solve() tops up a remote-style model once for the rejected answer (it cycles to #0).
    assert (row["answers"], row["accepted"]) == (4, 3)
    assert row["acceptance_rate"] == pytest.approx(3 / 4)
    assert row["llm_calls"] >= 1 and row["completion_tokens"] > 0
    assert row["pre_search_return"] is not None
    assert row["evaluations"] <= 300
    counts = [c for c, _ in row["curve"]]
    bests = [b for _, b in row["curve"]]
    assert counts == sorted(counts) and bests == sorted(bests)
    assert row["final_return"] == pytest.approx(bests[-1])
    assert "generate" in row["stage_times"] and "search" in row["stage_times"]


def test_revision_cell_runs_every_round_without_search() -> None:
    spec = MethodSpec("rev", "revision", revision="regeneration_with_reward", rounds=2, samples=3)
    llm = _llm()
    row = run_cell(Cell("t", TASK, spec, "scripted/fake", 0, 5000), llm)
    assert row["status"] == "ok", row["reason"]
    assert [r["round"] for r in row["rounds"]] == [0, 1, 2]
    # Per round: one request of 3 samples, then one top-up request for the rejected answer.
    # The cycling script accepts 3, 2 and 3 answers in the three rounds; each is scored once.
    assert row["answers"] == 12 and row["evaluations"] == row["accepted"] == 8
    assert [r["accepted"] for r in row["rounds"]] == [3, 2, 3]
    assert len(llm.calls) == 6
    assert "search" not in row["stage_times"]
    assert set(row["stage_times"]) == {"generate", "revision_1", "revision_2"}


def _digest(calls: list) -> str:
    """Digest of every request's messages and sampling settings (what the cache keys hash)."""
    blob = json.dumps(
        [[[dict(m) for m in c.messages], dataclasses.asdict(c.settings)] for c in calls],
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# Recorded from the revision experiment as it was before it became solve() with options
# (commit 545c4c2). The completion cache is keyed by messages, settings and seeds: if a digest
# changes, every cached answer of the experiment is asked again. Change them only on purpose.
@pytest.mark.parametrize(
    ("backend", "method", "digest"),
    [
        ("scripted/fake", "regeneration_with_reward", "9dbd6f7b3d79e49c"),
        ("scripted/fake", "execution_trace", "276f1970b5cd0255"),
        ("local/qwen2.5-coder-0.5b", "regeneration_with_reward", "ea3776dcd5eaad4e"),
        ("local/qwen2.5-coder-0.5b", "execution_trace", "59eabdcfdea14928"),
    ],
)
def test_revision_experiment_requests_are_pinned(backend: str, method: str, digest: str) -> None:
    llm = _llm()
    spec = MethodSpec("rev", "revision", revision=method, rounds=2, samples=3)
    row = run_cell(Cell("t", TASK, spec, backend, 7, 5000), llm)
    assert row["status"] == "ok", row["reason"]
    seeds = [c.settings.seed for c in llm.calls]
    if backend.startswith("local/"):  # one answer per request, no grammar, no second attempt
        assert seeds == [r * 1000 + i + 700_000 for r in range(3) for i in range(3)]
        assert {(c.settings.n, c.settings.grammar) for c in llm.calls} == {(1, None)}
    else:  # one request of 3, then a top-up for the rejected answer
        assert seeds == [700_000, 700_003, 701_000, 701_003, 702_000, 702_003]
    assert _digest(llm.calls) == digest


def test_solve_curve_takes_the_search_curve_on_the_runs_count() -> None:
    # The search continues the run's ledger: its curve counts the 3 proposals before it and
    # starts with their improvements, which appear once.
    data = {
        "rounds": [{"programs": [["a", 0.1], ["b", 0.5], ["c", 0.2]]}],
        "search": {"curve": [[1, 0.1], [2, 0.5], [43, 0.9]]},
    }
    curve, pre = solve_curve(data)
    assert pre == 0.5
    assert curve == [[1, 0.1], [2, 0.5], [43, 0.9]]


def test_step_values_and_round_bests() -> None:
    grid = np.array([1.0, 5.0, 10.0, 100.0])
    values = step_values([[5, 0.2], [50, 1.0]], grid)
    assert math.isnan(values[0]) and list(values[1:]) == [0.2, 0.2, 1.0]
    row = {"rounds": [{"best_return": None}, {"best_return": 0.3}, {"best_return": 0.1}]}
    bests = round_bests(row)
    assert math.isnan(bests[0]) and bests[1:] == [0.3, 0.3]


def test_local_backend_availability_is_reported() -> None:
    assert backend_unavailable(None) is None
    reason = backend_unavailable("local/no-such-model")
    assert reason is not None and "unknown embedded model" in reason


def test_a_hosted_backend_without_its_key_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert backend_unavailable("openai/gpt-4o-mini") == (
        "no API key: set OPENAI_API_KEY to run openai/gpt-4o-mini"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert backend_unavailable("openai/gpt-4o-mini") is None


def test_a_report_of_a_folder_without_rows_says_so_and_creates_nothing(tmp_path: Path) -> None:
    from envs.errors import ConfigError
    from evals.report import write_report

    missing = tmp_path / "never-run"
    with pytest.raises(ConfigError, match="run `llmgs eval run` first"):
        write_report(missing)
    assert not missing.exists()


def test_report_tables_and_plots(tmp_path: Path) -> None:
    suite = Suite(
        name="rep", tasks=(TASK,), seeds=(0, 1), budgets=(150,),
        backends=("scripted/fake",),
        methods=(MethodSpec("shc", "search", "shc"),
                 MethodSpec("llmgs", "solve", samples=2),
                 MethodSpec("rev", "revision", revision="regeneration", rounds=1, samples=2)),
    )  # fmt: skip
    summary = run_suite(suite, tmp_path, llm=_llm())
    assert summary.ok == 6
    report = write_report(tmp_path).read_text()
    assert "## Summary by method" in report and "## Per task" in report
    assert "| StairClimberSparse | llmgs | scripted/fake | 2 |" in report
    assert "## Revision rounds" in report and "| StairClimberSparse | rev |" in report
    assert "acceptance" in report and "Machine:" in report and "Seeds:** [0, 1]" in report
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert (tmp_path / "revision.png").stat().st_size > 1000
    (tmp_path / "results.sqlite").unlink()  # the store is rebuilt from rows.jsonl
    rows = ResultStore(tmp_path).query("SELECT method, COUNT(*) AS n FROM rows GROUP BY method")
    assert {r["method"]: r["n"] for r in rows} == {"shc": 2, "llmgs": 2, "rev": 2}


def test_solve_cell_whose_model_fails_is_a_failed_row_not_pure_search() -> None:
    # solve() carries on without a model that fails; the eval row must not file the pure-search
    # result under the model's name.
    cell = Cell("t", TASK, MethodSpec("llmgs", "solve", samples=3), "scripted/fake", 0, 300)
    row = run_cell(cell, ScriptedLLM([]))
    assert row["status"] == "failed"
    assert "LLMError" in row["reason"] and "ran out of answers" in row["reason"]
