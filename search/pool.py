"""Workers that score the programs of one task, inside one search (``SearchConfig.workers``).

:class:`EvalPool` scores the neighbours of a climb ahead of the climb. With a task whose
evaluation runs in compiled code that releases the GIL (:meth:`envs.task.Task.thread_copy`:
the Karel and Minigrid kernels) the workers are threads, each with its own copy of the task:
no pickling, no process start, and the search thread keeps drawing neighbours while the
kernels run. Other tasks are scored on worker processes (each holds its own copy of the
task). Either way the search counts evaluations in its own order, so the result is the one
of ``workers=1``. Many independent searches run through :mod:`search.executor` instead (see
:func:`search.run_many`).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from envs.dsl.ast import Program
from envs.task import Task
from search.executor import ctrl_c_held, worker_context, worker_started

#: Candidates sent to a worker at once by :func:`scored_ahead`.
BATCH = 8

# The task of the current worker: one per thread (thread workers), or the process's (worker
# processes run their jobs on their main thread, where the initializer ran).
_LOCAL = threading.local()


def _init_process(task: Task, parent: int) -> None:
    _LOCAL.task = task
    # Ctrl-C is handled by the parent, which stops the search and keeps its best program.
    worker_started(parent)


def _init_thread(copies: list[Task], lock: threading.Lock) -> None:
    with lock:
        _LOCAL.task = copies.pop()


def _task() -> Task:
    task = getattr(_LOCAL, "task", None)
    if task is None:
        raise RuntimeError("worker task not initialised")
    return task


def _ready() -> None:
    """A no-op job: submitting it starts the workers."""


def _evaluate(program: Program | str) -> float:
    return _task().evaluate(program)


def _returns_all(programs: Sequence[Program | str]) -> list[list[float]]:
    task = _task()
    return [task.returns(program) for program in programs]


class EvalPool:
    """Worker threads or processes that evaluate programs of one task.

    Args:
        task: The task. Threads when ``task.thread_copy()`` gives a copy for each worker;
            otherwise processes (forked workers inherit the task, spawned ones unpickle it).
        workers: Number of threads or processes.

    Attributes:
        workers: Number of workers.
        threads: Whether the workers are threads.
    """

    def __init__(self, task: Task, workers: int) -> None:
        self.workers = workers
        copies = [task.thread_copy() for _ in range(workers)]
        self.threads = all(copy is not None for copy in copies)
        self._executor: Executor
        if self.threads:
            self._executor = ThreadPoolExecutor(
                max_workers=workers,
                thread_name_prefix="llmgs-eval",
                initializer=_init_thread,
                initargs=(copies, threading.Lock()),
            )
            return
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=worker_context(),
            initializer=_init_process,
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
        scores = self._executor.map(_evaluate, todo, chunksize=chunk)
        return dict(zip(todo, scores, strict=True))

    def submit_returns(self, programs: Sequence[Program]) -> Future[list[list[float]]]:
        """Start scoring programs on one worker; the future gives their per-instance returns,
        in order. Threads get the programs themselves, processes their text."""
        if self.threads:
            return self._executor.submit(_returns_all, list(programs))
        return self._executor.submit(_returns_all, [str(p) for p in programs])

    def close(self) -> None:
        """Stop the workers (pending work is cancelled)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


Draw = tuple[Program, str] | None  # a candidate (program, text), or None for a wasted draw


def scored_ahead(
    draws: Iterator[Draw], pool: EvalPool | None
) -> Iterator[tuple[list[Draw], dict[str, list[float]]]]:
    """Yield the draws in order, in batches, with the returns the pool computed for them.

    Without a pool each draw is its own batch and nothing is computed ahead. With one,
    ``workers + 1`` batches of :data:`BATCH` are being scored while the caller draws the next
    and counts the oldest, so the kernels run while Python draws edits. Close the iterator
    when done (``contextlib.closing``): batches scored ahead of what the caller used are
    cancelled or dropped, never counted, so the caller's run equals the one without a pool.

    Args:
        draws: The candidates, in draw order (None: a draw that gave nothing to score).
        pool: The workers, or None to score nothing ahead.

    Yields:
        ``(batch, returns by text)``; a text missing from the dict is to be scored by the caller.
    """
    if pool is None:
        for draw in draws:
            yield [draw], {}
        return
    ahead: deque[tuple[list[Draw], Future | None, list[str]]] = deque()

    def draw_batch() -> bool:
        batch = list(itertools.islice(draws, BATCH))
        todo = [d for d in batch if d is not None]
        future = pool.submit_returns([d[0] for d in todo]) if todo else None
        if batch:
            ahead.append((batch, future, [d[1] for d in todo]))
        return bool(batch)

    try:
        while len(ahead) <= pool.workers and draw_batch():
            pass
        while ahead:
            batch, future, texts = ahead.popleft()
            draw_batch()
            computed = {} if future is None else dict(zip(texts, future.result(), strict=True))
            yield batch, computed
    finally:
        for _, future, _ in ahead:
            if future is not None:
                future.cancel()
