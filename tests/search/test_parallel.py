"""Many independent searches: process pool and Ray give the same results as running alone."""

from __future__ import annotations

import os
import sys
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
