"""Many independent searches at once, on a process pool or on Ray.

:func:`run_many` runs independent searches through :mod:`search.executor` (the one way this
project runs many things); results come back in job order and each equals the same job run
alone. Parallel scoring inside one search is :class:`search.pool.EvalPool`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from envs.task import Task
from search.config import SearchConfig
from search.executor import Executor, map_ordered
from search.methods import search


@dataclass(frozen=True)
class SearchJob:
    """One independent search for :func:`run_many`.

    Attributes:
        task: Registry id (made in the worker) or a picklable Task.
        method: ``"shc"``, ``"hc"``, ``"random"`` or ``"llmgs"``.
        config: Settings (budget, seed, ...); each job should have its own ``run_dir``.
        init: Start program of the first climb.
        seed_programs: Seed programs (llmgs, mosaic).
        library: Programs whose fragments the mosaic search may splice in.
        task_n: Instances when ``task`` is an id.
        task_seed: Seed of instance 0 when ``task`` is an id.
    """

    task: str | Task
    method: str = "shc"
    config: Any = None
    init: str | None = None
    seed_programs: tuple[str, ...] = field(default_factory=tuple)
    library: tuple[str, ...] = field(default_factory=tuple)
    task_n: int = 32
    task_seed: int = 0


def run_job(job: SearchJob) -> Any:
    """Run one job in this process and return its SearchResult."""
    task = job.task
    if isinstance(task, str):
        import envs  # the registry is only needed when a task is named by id

        task = envs.make(task, n=job.task_n, seed=job.task_seed)
    config = job.config if job.config is not None else SearchConfig()
    config = config.with_overrides(progress=False, workers=1)
    return search(
        task, job.method, init=job.init, seed_programs=job.seed_programs, library=job.library,
        config=config,
    )  # fmt: skip


def run_many(
    jobs: Sequence[SearchJob],
    workers: int = 2,
    executor: Executor = "process",
) -> list[Any]:
    """Run independent searches in parallel; results are returned in job order.

    Args:
        jobs: The searches.
        workers: Processes (``"process"``) or CPUs requested per job pool (``"ray"``: at most
            this many jobs run at once).
        executor: ``"process"`` (a local process pool) or ``"ray"`` (the connected Ray
            cluster, or a local one started on demand).

    Returns:
        One SearchResult per job, in order. Each equals the job run alone: every job has its
        own seed and nothing is shared.

    Raises:
        ConfigError: Unknown executor, workers < 1, or Ray requested but not installed.
    """
    return map_ordered(run_job, jobs, workers=workers, executor=executor)
