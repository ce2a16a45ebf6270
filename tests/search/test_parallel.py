"""Many independent searches: process pool and Ray give the same results as running alone."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from search_fakes import CountingTask

from envs.errors import ConfigError
from search import SearchConfig, SearchJob, run_many
from search.parallel import run_job
from tests.process_watch import (
    START_DEADLINE_S,
    group_members,
    kill_group,
    start_group,
    text_of,
    wait_until,
)


def _jobs() -> list[SearchJob]:
    return [
        SearchJob(
            task=CountingTask(cap=0.9),
            method=method,
            config=SearchConfig(budget=150, seed=seed, k=10),
            seed_programs=("DEF run m( putMarker m)",),
        )  # fmt: skip
        for method in ("shc", "hc", "llmgs")
        for seed in (0, 1)
    ]


def test_process_pool_matches_sequential_runs() -> None:
    jobs = _jobs()
    alone = [run_job(job).outcome() for job in jobs]
    pooled = [r.outcome() for r in run_many(jobs, workers=2, executor="process")]
    assert pooled == alone
    assert [r.outcome() for r in run_many(jobs[:2], workers=1)] == alone[:2]


def test_bad_executor_and_workers() -> None:
    with pytest.raises(ConfigError, match="executor"):
        run_many(_jobs(), executor="dask")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        run_many(_jobs(), workers=0)


def test_ray_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ConfigError, match=r"llmgs\[ray\]"):
        run_many(_jobs(), executor="ray")


@pytest.mark.slow
def test_ray_matches_sequential_runs() -> None:
    import ray  # the [dev] extra installs it; a missing Ray must fail, not skip

    here = str(Path(__file__).parent)
    path = os.pathsep.join([here, str(Path(here).parents[1])])
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        jobs = _jobs()
        alone = [run_job(job).outcome() for job in jobs]
        assert [r.outcome() for r in run_many(jobs, workers=2, executor="ray")] == alone
    finally:
        ray.shutdown()


@pytest.mark.parametrize(
    "inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["from-a-terminal", "background-of-a-script"]
)
def test_ctrl_c_to_the_process_group_stops_every_process(tmp_path: Path, inherited: int) -> None:
    # Ctrl-C in a terminal signals the whole group: the parent and both mosaic workers. Three
    # 1e6-evaluation runs of a task mosaic never solves take minutes; Ctrl-C must stop every
    # process at once, run none of the queued ones, and leave runs.jsonl readable. A script's
    # background job inherits SIGINT ignored; `kill -INT` of its group must stop it all the same.
    command = [sys.executable, "-m", "search.efficiency", "--tasks", "karel/OneStroke", "--methods",
               "mosaic", "--budget", "1e6", "--seeds", "3", "--workers", "2", "--out",
               str(tmp_path)]  # fmt: skip
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    proc = start_group(command, stdout, stderr, sigint=inherited)
    try:
        wait_until(lambda: "runs to do on 2 worker(s)" in text_of(stderr), START_DEADLINE_S,
                   "the benchmark never said it started", proc)  # fmt: skip
        # The leader and its two workers, each searching.
        wait_until(lambda: len(group_members(proc.pid)) >= 3, START_DEADLINE_S,
                   "the two workers never started", proc)  # fmt: skip
        os.killpg(proc.pid, signal.SIGINT)
        wait_until(lambda: proc.poll() is not None and not group_members(proc.pid), 30,
                          "processes left running after Ctrl-C")  # fmt: skip
    finally:
        kill_group(proc)
    err = text_of(stderr)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    runs = tmp_path / "runs.jsonl"
    assert not runs.exists() or all(json.loads(line) for line in runs.read_text().splitlines())
