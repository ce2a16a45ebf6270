"""Many independent searches: process pool and Ray give the same results as running alone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from search_fakes import CountingTask

from envs.errors import ConfigError
from search import SearchConfig, SearchJob, run_many
from search.parallel import run_job


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


def test_ctrl_c_stops_a_pool_of_long_searches_at_once(tmp_path: Path) -> None:
    # Two 1e6-evaluation DoorKey runs take minutes; Ctrl-C must not wait for them (or run the
    # queued ones), and runs.jsonl must stay readable.
    command = [sys.executable, "-m", "search.efficiency", "--tasks", "karel/DoorKey", "--budget",
               "1e6", "--seeds", "3", "--workers", "2", "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_children(proc.pid)) < 2:
            time.sleep(0.2)  # wait until both workers are searching
        assert len(_children(proc.pid)) >= 2, "the pool never started"
        time.sleep(1.0)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        for pid in [*_children(proc.pid), proc.pid]:  # never leave searches running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "workers left running"
    runs = tmp_path / "runs.jsonl"
    assert not runs.exists() or all(json.loads(line) for line in runs.read_text().splitlines())


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []
