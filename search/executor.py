"""One way to run many independent jobs: a local process pool or Ray, with the same API.

:func:`as_completed` runs ``function(item)`` for every item and yields ``(index, result)`` as
each finishes; :func:`map_ordered` returns the results in item order. Nothing is shared between
jobs, so each result equals the same job run alone and depends only on its own seed, whatever
the number of workers or the order in which the jobs finish.

Ctrl-C, an error in a job or the caller leaving the loop stops every worker at once (queued
jobs never start); finished results were already handed to the caller. The workers are
ordinary (non-daemonic) processes, so a job may start processes of its own (a search's
evaluation pool, a local model's server); a stopped worker gets SIGTERM, which it turns into
``SystemExit`` so that the job's ``finally`` blocks and context managers still run.

Ctrl-C in a terminal (or ``kill -INT`` of the process group) reaches the workers too: they
ignore it and leave the decision to the parent (:func:`worker_started`), which stops them.
A worker whose parent is gone (killed with SIGKILL, say) stops by itself instead of searching
on as an orphan. Command-line entry points call :func:`stop_on_ctrl_c` first: a program
started in the background by a script inherits SIGINT as ignored, and then nothing at all
would stop on Ctrl-C.

Used by :func:`search.run_many` (many searches) and :func:`evals.runner.run_suite` (the cells
of a suite).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from envs.errors import ConfigError

Executor = Literal["process", "ray"]
EXECUTORS: tuple[str, ...] = ("process", "ray")
T = TypeVar("T")
R = TypeVar("R")

# How often the parent checks that no worker died without answering, and how long a stopped
# worker may spend in its clean-up before it is killed.
_POLL_S = 0.2
_STOP_GRACE_S = 5.0
# How often a worker checks that its parent is still there.
_PARENT_POLL_S = 0.5


def worker_context() -> Any:
    """The multiprocessing context for worker processes."""
    # fork shares already-built objects (a task, a compiled evaluator) with the workers.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def stop_on_ctrl_c() -> None:
    """Make Ctrl-C (SIGINT) raise ``KeyboardInterrupt`` here even if it was inherited ignored.

    A shell without job control (a script running ``cmd &``, ``nohup cmd &`` in one) starts
    background commands with SIGINT ignored, and Python keeps it so: ``kill -INT`` and Ctrl-C
    then stop nothing while the workers search on. A command whose documented way to stop is
    Ctrl-C calls this first. Does nothing outside the main thread, where no handler can be set.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold back SIGINT in this thread while worker processes start (released on exit).

    A worker inherits the blocked signal and only releases it in :func:`worker_started`,
    once it ignores SIGINT: a Ctrl-C during the start can then neither kill a half-started
    worker with a traceback nor be lost; it reaches the parent when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing to hold back
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_started(parent: int) -> None:
    """Set up a worker process: Ctrl-C is the parent's, and the parent's death stops it.

    Call first in every worker (started inside :func:`ctrl_c_held`).

    Args:
        parent: The parent's process id, read in the parent (the worker may start after the
            parent is already gone).
    """
    # Ctrl-C reaches the whole process group; the parent decides and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_watch_parent, args=(parent,), name="llmgs-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Stop this worker (SIGTERM, so clean-ups run) once ``parent`` is no longer its parent."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)


def check_executor(executor: str, workers: int) -> None:
    """Validate an executor name and a worker count.

    Raises:
        ConfigError: ``workers`` < 1 or an unknown executor.
    """
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose 'process' or 'ray'")


def as_completed(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = 2,
    executor: Executor = "process",
) -> Iterator[tuple[int, R]]:
    """Run ``function`` on every item in parallel, yielding ``(index, result)`` as each ends.

    Args:
        function: A module-level (picklable) function of one item.
        items: The jobs (picklable; with the fork start method they are inherited, not sent).
        workers: Processes (``"process"``; 1 runs the jobs here, in order) or CPUs of the
            local Ray started on demand (``"ray"``: at most this many jobs at once).
        executor: ``"process"`` (a local process pool) or ``"ray"`` (the connected Ray
            cluster, or a local one started on demand).

    Yields:
        ``(index in items, result)`` pairs, in completion order.

    Raises:
        ConfigError: workers < 1, an unknown executor, or Ray requested but not installed.
        Exception: The first error raised by a job (the other workers are stopped).
    """
    check_executor(executor, workers)
    jobs = list(items)
    if executor == "ray":
        return _on_ray(function, jobs, workers)
    if workers == 1 or len(jobs) <= 1:
        return ((index, function(item)) for index, item in enumerate(jobs))
    return _on_processes(function, jobs, min(workers, len(jobs)))


def map_ordered(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = 2,
    executor: Executor = "process",
) -> list[R]:
    """Like :func:`as_completed`, but return every result, in item order.

    Raises:
        ConfigError: workers < 1, an unknown executor, or Ray requested but not installed.
        Exception: The first error raised by a job (the other workers are stopped).
    """
    results: list[Any] = [None] * len(items)
    for index, result in as_completed(function, items, workers=workers, executor=executor):
        results[index] = result
    return results


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


def _on_ray(function: Callable[[T], R], jobs: list[T], workers: int) -> Iterator[tuple[int, R]]:
    remote = ray_remote(function, workers)  # raises before the first job when Ray is missing

    def results() -> Iterator[tuple[int, R]]:
        import ray  # importable: ray_remote checked it

        refs = {remote.remote(job): index for index, job in enumerate(jobs)}
        try:
            while refs:
                finished, _ = ray.wait(list(refs), num_returns=1)
                for ref in finished:
                    yield refs.pop(ref), ray.get(ref)
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)

    return results()


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _serve(
    function: Callable[[Any], Any], jobs: list[Any], todo: Any, done: Any, parent: int
) -> None:
    """Worker loop: run the job of each index taken from ``todo`` until the None sentinel."""
    signal.signal(signal.SIGTERM, _stop)
    worker_started(parent)
    while (index := todo.get()) is not None:
        try:
            # Pickled here, not in the queue's feeder thread, so that an unpicklable result
            # becomes an error for the parent instead of a silent hang.
            payload = pickle.dumps((index, True, function(jobs[index])))
        except Exception as exc:  # handed to the parent, which re-raises it
            try:
                payload = pickle.dumps((index, False, exc))
            except Exception:  # the exception itself cannot be pickled: send its text
                payload = pickle.dumps((index, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        done.put(payload)


def _on_processes(
    function: Callable[[T], R], jobs: list[T], workers: int
) -> Iterator[tuple[int, R]]:
    context = worker_context()
    todo, done = context.Queue(), context.Queue()
    for index in [*range(len(jobs)), *[None] * workers]:
        todo.put(index)
    args = (function, jobs, todo, done, os.getpid())
    processes = [context.Process(target=_serve, args=args) for _ in range(workers)]
    try:
        with ctrl_c_held():
            for process in processes:
                process.start()
        for _ in jobs:
            index, ok, value = _next_result(done, processes)
            if not ok:
                raise value
            yield index, value
    finally:
        _terminate(processes)
        for channel in (todo, done):
            channel.cancel_join_thread()
            channel.close()


def _next_result(done: Any, processes: list[Any]) -> tuple[int, bool, Any]:
    while True:
        try:
            return pickle.loads(done.get(timeout=_POLL_S))
        except queue.Empty:
            # A worker killed from outside (out of memory, a crash) never answers: fail
            # instead of waiting forever. A clean exit (code 0) only follows the sentinel.
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a worker process died (exit code {dead[0]})") from None


def _terminate(processes: list[Any]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        if process.pid is None:
            continue  # never started
        process.join(_STOP_GRACE_S)
        if process.is_alive():
            print(f"worker {process.pid} did not stop; killing it", file=sys.stderr)
            process.kill()
            process.join()
