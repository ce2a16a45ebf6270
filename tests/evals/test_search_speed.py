"""The search speed benchmark (tiny budgets: it checks the figures' shape, not their size)."""

from __future__ import annotations

import json

import pytest

from evals.search_speed import format_table, main, measure


def test_every_loop_and_the_evaluator_get_a_positive_rate() -> None:
    report = measure("karel/Harvester", budget=300, seed=1, rounds=1)
    assert set(report["rates"]) == {
        "evaluator",
        "shc",
        "shc --workers 2",
        "mosaic",
        "mosaic --workers 2",
    }
    for rate in report["rates"].values():
        assert rate["evaluations_s"] > 0 and 0 < rate["distinct_s"] <= rate["evaluations_s"]
    table = format_table(report)
    assert "| shc |" in table and "| 1.00 |" in table


def test_the_command_prints_json_and_refuses_an_unknown_task(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--tasks", "minigrid/LavaGap", "--budget", "2e2", "--rounds", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["budget"] == 200
    assert main(["--tasks", "karel/NoSuchTask", "--rounds", "1"]) == 2
    assert "no task 'karel/NoSuchTask'" in capsys.readouterr().err
