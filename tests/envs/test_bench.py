"""``envs.bench`` and ``llmgs bench``: structure and sanity of the measurements (no timings)."""

from __future__ import annotations

import json

import pytest

from agent.cli import main
from envs.bench import HAND_PROGRAMS, format_table, hand_programs, run_bench
from envs.errors import ConfigError
from envs.karel.tasks import BENCHMARK_TASKS, SPECS
from search.space import random_program


def generate(rng):  # noqa: ANN001, ANN201 - a RandomState in, a Program out
    return random_program("karel", rng)


def test_every_task_has_hand_written_programs() -> None:
    assert set(HAND_PROGRAMS) == set(BENCHMARK_TASKS)
    for name in SPECS:
        assert hand_programs(name), name


def test_run_bench_rows_are_consistent() -> None:
    result = run_bench(
        tasks=["DoorKey"], n_random=12, seconds=0.01, random_program=generate, seed=3
    )
    assert [(r.task, r.programs) for r in result.rows] == [
        ("DoorKey", "hand"),
        ("DoorKey", "random"),
    ]
    for row in result.rows:
        assert row.compiled_per_s > 0 and row.compiled_single_per_s > 0
        assert row.python_per_s is not None and row.python_per_s > 0
        assert row.speedup == pytest.approx(row.compiled_single_per_s / row.python_per_s)
        assert row.actions_per_program > 0
    assert result.rows[1].count == 12
    assert result.peak_rss_mb > 0 and result.evaluator_mb > 0
    assert result.jit_cold_s is None
    table = format_table(result)
    assert "DoorKey" in table and "speed-up" in table
    json.dumps(result.to_dict())


def test_run_bench_validates_arguments() -> None:
    with pytest.raises(ConfigError, match="unknown Karel task"):
        run_bench(tasks=["Nope"], programs="hand")
    with pytest.raises(ConfigError, match="generator"):
        run_bench(tasks=["DoorKey"], programs="random")
    with pytest.raises(ConfigError, match="programs must be"):
        run_bench(tasks=["DoorKey"], programs="all")  # type: ignore[arg-type]


def test_cli_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--tasks", "Seeder", "--quick", "--no-python", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["programs"] for r in data["rows"]} == {"hand", "random"}
    assert all(r["python_per_s"] is None for r in data["rows"])
