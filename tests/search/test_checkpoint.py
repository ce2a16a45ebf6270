"""Long-run machinery: event log, checkpoints, resume and Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from search_fakes import CountingTask

from envs.errors import ConfigError
from search import SearchConfig, llmgs_search, scheduled_hill_climbing, search
from search import checkpoint as ckpt

CAP = 0.9


def _interrupt_after(climbs: int):
    seen = {"climbs": 0}

    def sink(event: dict) -> None:
        if event["event"] == "climb_started":
            seen["climbs"] += 1
            if seen["climbs"] == climbs:
                raise KeyboardInterrupt

    return sink


@pytest.mark.parametrize("method", ["shc", "hc", "llmgs"])
def test_interrupt_then_resume_equals_uninterrupted(tmp_path: Path, method: str) -> None:
    seeds = ["DEF run m( move m)", "DEF run m( putMarker m)", "DEF run m( turnLeft m)"]
    cfg = SearchConfig(budget=1200, seed=5, k=15, progress=False, checkpoint_every_s=0)
    full = search(CountingTask(cap=CAP), method, seed_programs=seeds, config=cfg)
    run_cfg = cfg.with_overrides(run_dir=str(tmp_path / "run"))
    part = search(
        CountingTask(cap=CAP), method, seed_programs=seeds, config=run_cfg,
        on_event=_interrupt_after(3),
    )  # fmt: skip
    assert part.stop_reason == "interrupted"
    assert part.best_program and 0 < part.evaluations < 1200
    assert (tmp_path / "run" / ckpt.STATE_FILE).exists()
    assert not (tmp_path / "run" / ckpt.RESULT_FILE).exists()
    task = CountingTask(cap=CAP)
    resumed = search(task, method, seed_programs=seeds, config=run_cfg.with_overrides(resume=True))
    assert resumed.outcome() == full.outcome()
    assert task.calls < full.unique_evaluations  # the resumed run reused the saved cache
    again = search(CountingTask(cap=CAP), method, config=run_cfg.with_overrides(resume=True))
    assert again == resumed  # a finished run resumes to its stored result


def test_event_log_records_the_run(tmp_path: Path) -> None:
    cfg = SearchConfig(budget=300, seed=0, progress=False, run_dir=str(tmp_path))
    result = scheduled_hill_climbing(CountingTask(cap=CAP), config=cfg)
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert {"climb_started", "best_updated", "checkpoint"} <= set(names)
    assert all(e["task"] == "fake/Counting" and e["seed"] == 0 for e in events)
    assert events[-1]["evaluations"] == 300 and events[-1]["stop_reason"] == "budget"
    bests = [e["best_return"] for e in events if e["event"] == "best_updated"]
    assert bests[-1] == result.best_return
    stored = json.loads((tmp_path / ckpt.RESULT_FILE).read_text())
    assert stored["evaluations"] == 300


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path: Path) -> None:
    cfg = SearchConfig(budget=200, seed=0, progress=False, run_dir=str(tmp_path))
    scheduled_hill_climbing(CountingTask(cap=CAP), config=cfg, on_event=_interrupt_after(3))
    with pytest.raises(ConfigError, match="seed"):
        scheduled_hill_climbing(
            CountingTask(cap=CAP), config=cfg.with_overrides(seed=1, resume=True)
        )
    with pytest.raises(ConfigError):
        SearchConfig(resume=True)


def test_resume_without_checkpoint_starts_fresh(tmp_path: Path) -> None:
    cfg = SearchConfig(budget=100, seed=0, progress=False)
    fresh = llmgs_search(CountingTask(cap=CAP), ["DEF run m( move m)"], config=cfg)
    resumed = llmgs_search(
        CountingTask(cap=CAP), ["DEF run m( move m)"],
        config=cfg.with_overrides(run_dir=str(tmp_path / "new"), resume=True),
    )  # fmt: skip
    assert resumed.outcome() == fresh.outcome()


def test_checkpoint_tolerates_a_cache_newer_than_its_state(tmp_path: Path) -> None:
    rng = np.random.RandomState(0)
    keys, values = np.arange(5, dtype=np.uint64), np.linspace(0, 1, 5)
    ckpt.save(tmp_path, {"rng": ckpt.rng_state(rng)}, keys[:3], values[:3])
    state_text = (tmp_path / ckpt.STATE_FILE).read_text()
    ckpt.save(tmp_path, {"rng": ckpt.rng_state(rng)}, keys, values)
    (tmp_path / ckpt.STATE_FILE).write_text(state_text)  # killed before the state was replaced
    state, got_keys, got_values = ckpt.load(tmp_path)
    assert got_keys.tolist() == [0, 1, 2] and got_values.tolist() == values[:3].tolist()
    other = np.random.RandomState(9)
    ckpt.set_rng_state(other, state["rng"])
    assert other.randint(1 << 30) == rng.randint(1 << 30)
