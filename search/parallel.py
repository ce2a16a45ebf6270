"""Parallel evaluation inside one search, and many independent searches at once.

:class:`EvalPool` scores the neighbours of one climb on worker processes (each holds its own
copy of the task). :func:`run_many` runs independent searches on a process pool or on Ray with
the same API; results come back in job order and each equals the same job run alone.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from envs.dsl.ast import Program
from envs.errors import ConfigError
from envs.task import Task

_WORKER_TASK: Task | None = None


def worker_context() -> Any:
    """The multiprocessing context for search workers."""
    # fork shares the already-built task (and any compiled evaluator) with the workers.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _init_worker(task: Task) -> None:
    global _WORKER_TASK
    _WORKER_TASK = task
    # Ctrl-C is handled by the parent, which stops the search and keeps its best program.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate_text(text: str) -> float:
    if _WORKER_TASK is None:
        raise RuntimeError("worker task not initialised")
    return _WORKER_TASK.evaluate(text)


def _returns_text(text: str) -> list[float]:
    if _WORKER_TASK is None:
        raise RuntimeError("worker task not initialised")
    return _WORKER_TASK.returns(text)


class EvalPool:
    """Worker processes that evaluate programs of one task.

    Args:
        task: The task (inherited by forked workers, pickled for spawned ones).
        workers: Number of processes.
    """

    def __init__(self, task: Task, workers: int) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=worker_context(),
            initializer=_init_worker,
            initargs=(task,),
        )

    def evaluate_missing(
        self, programs: Sequence[Program], lookup: Callable[[str], float | None]
    ) -> dict[str, float]:
        """Returns of the programs whose text ``lookup`` does not know, computed in parallel."""
        todo = list(dict.fromkeys(t for t in map(str, programs) if lookup(t) is None))
        if not todo:
            return {}
        chunk = max(1, len(todo) // (self.workers * 2))
        scores = self._executor.map(_evaluate_text, todo, chunksize=chunk)
        return dict(zip(todo, scores, strict=True))

    def returns_of(self, texts: Sequence[str]) -> dict[str, list[float]]:
        """Per-instance returns of distinct program texts, computed in parallel."""
        todo = list(dict.fromkeys(texts))
        if not todo:
            return {}
        chunk = max(1, len(todo) // (self.workers * 2))
        return dict(
            zip(todo, self._executor.map(_returns_text, todo, chunksize=chunk), strict=True)
        )

    def close(self) -> None:
        """Stop the workers (pending work is cancelled)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


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
    from search.config import SearchConfig
    from search.methods import search

    task = job.task
    if isinstance(task, str):
        import envs

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
    executor: Literal["process", "ray"] = "process",
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
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if executor == "process":
        results: list[Any] = [None] * len(jobs)
        for index, result in run_as_completed(jobs, workers):
            results[index] = result
        return results
    if executor == "ray":
        return _run_on_ray(jobs, workers)
    raise ConfigError(f"unknown executor {executor!r}; choose 'process' or 'ray'")


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool (see run_as_completed).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_indexed(item: tuple[int, SearchJob]) -> tuple[int, Any]:
    return item[0], run_job(item[1])


def run_as_completed(jobs: Sequence[SearchJob], workers: int) -> Iterator[tuple[int, Any]]:
    """Run jobs on a process pool, yielding ``(index, SearchResult)`` as each one finishes.

    Ctrl-C, an error in a job, or the caller leaving the loop stops the pool at once (the
    workers are terminated) instead of waiting for the jobs still queued.
    """
    if workers <= 1:
        for index, job in enumerate(jobs):
            yield index, run_job(job)
        return
    pool = worker_context().Pool(min(workers, max(len(jobs), 1)), initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(_run_indexed, list(enumerate(jobs)))
    finally:
        pool.terminate()
        pool.join()


def ray_remote(function: Callable[..., Any], workers: int) -> Any:
    """``function`` as a Ray remote task (one CPU each), starting a local Ray if none runs.

    Raises:
        ConfigError: Ray is not installed (it is the optional extra ``llmgs[ray]``).
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "executor='ray' needs Ray, which is an optional extra: pip install 'llmgs[ray]'"
        ) from None
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    return ray.remote(num_cpus=1)(function)


def _run_on_ray(jobs: Sequence[SearchJob], workers: int) -> list[Any]:
    remote = ray_remote(run_job, workers)
    import ray  # importable: ray_remote checked it

    return ray.get([remote.remote(job) for job in jobs])
