"""Worker processes that score the programs of one task, inside one search.

:class:`EvalPool` scores the neighbours of one climb on worker processes (each holds its own
copy of the task); the engine uses it when ``SearchConfig.workers`` > 1. Many independent
searches run through :mod:`search.executor` instead (see :func:`search.run_many`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from envs.dsl.ast import Program
from envs.task import Task
from search.executor import ctrl_c_held, worker_context, worker_started

_WORKER_TASK: Task | None = None


def _init_worker(task: Task, parent: int) -> None:
    global _WORKER_TASK
    _WORKER_TASK = task
    # Ctrl-C is handled by the parent, which stops the search and keeps its best program.
    worker_started(parent)


def _ready() -> None:
    """A no-op job: submitting it starts the workers."""


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
            initargs=(task, os.getpid()),
        )
        # Start every worker now, with Ctrl-C held back until each one ignores it (a fork
        # context starts them all on the first job).
        with ctrl_c_held():
            self._executor.submit(_ready).result()

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
