"""Jobs: a SQLite queue served by worker processes with bounded concurrency.

:class:`JobManager` owns a scheduler thread. Each tick it reaps finished workers and starts the
oldest queued jobs while fewer than ``max_workers`` run. A job runs in its own process
(:func:`agent.service.worker.main`), so a crash, a runaway search or a cancellation never
takes the server down, and cancelling is reliable: the job is asked to stop through a shared
flag and, if it has not stopped within :data:`GRACE_S`, its whole process group (the worker
and anything it started) is killed. A worker also dies with its server (see
:mod:`agent.service.worker`), and only one server may run the jobs of a database at a time
(:mod:`agent.service.lease`).

Started from the ``forkserver`` context: forking the server itself (which has threads) is
unsafe, and a fork server started early makes each job start in milliseconds.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from agent.service.lease import ServerLock
from agent.service.store import INTERRUPTED, JobRecord, JobStore, QueueFull
from envs.errors import LlmgsError

__all__ = ["DEFAULT_JOB_FUNCTION", "GRACE_S", "JobManager", "NotCancellable", "QueueFull"]

#: The job function used in production.
DEFAULT_JOB_FUNCTION = "agent.service.runner:solve_job"
#: Seconds a cancelled job gets to stop on its own before its processes are killed; with the
#: scheduler's tick this keeps every cancellation under a second.
GRACE_S = 0.5


class NotCancellable(LlmgsError):
    """The job has already ended."""


def default_workers() -> int:
    """Concurrent jobs by default: one per two usable cores, at least one.

    A job may use two cores (the embedded model generates on several threads, then the
    evaluator takes one), so on the 2-core machines this targets one job runs at a time.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


@dataclass
class _Running:
    process: multiprocessing.process.BaseProcess
    attempt: str
    cancel: Any
    cancel_deadline: float | None = None


class JobManager:
    """Queue, run, watch and cancel jobs.

    Args:
        store: The job store.
        job_function: ``"module:function"`` run for each job (see :mod:`agent.service.worker`).
        max_workers: Jobs running at once; None uses :func:`default_workers`.
        max_queued: Jobs waiting at most; a submit beyond raises :class:`QueueFull`.
        poll_s: Scheduler tick.
        grace_s: Seconds a cancelled job gets to stop before its processes are killed.
        start_method: multiprocessing start method.
        worker_env: Environment variables set in each worker before its job runs (e.g.
            ``LLMGS_RUNS_DIR``, ``LLMGS_CACHE_DIR``).
    """

    def __init__(
        self,
        store: JobStore,
        job_function: str = DEFAULT_JOB_FUNCTION,
        *,
        max_workers: int | None = None,
        max_queued: int = 100,
        poll_s: float = 0.05,
        grace_s: float = GRACE_S,
        start_method: str = "forkserver",
        worker_env: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.job_function = job_function
        self.max_workers = default_workers() if max_workers is None else max_workers
        if self.max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {self.max_workers}")
        self.max_queued = max_queued
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.worker_env = dict(worker_env or {})
        self._ctx = multiprocessing.get_context(start_method)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lease = ServerLock(store.path)
        self.interrupted_at_start = 0

    # -- lifecycle ------------------------------------------------------------------------

    def lock_database(self) -> None:
        """Become the only server of this job database (a no-op when already).

        Raises:
            DatabaseInUse: Another live server holds it (the message names it by pid).
        """
        self._lease.acquire()

    def start(self) -> None:
        """Lock the database; mark jobs a dead server left running as interrupted; schedule.

        Raises:
            DatabaseInUse: Another live server holds the database; nothing was changed.
        """
        if self._thread is not None:
            return
        self.lock_database()
        self.interrupted_at_start = self.store.mark_interrupted()
        if self._ctx.get_start_method() == "forkserver":
            self._ctx.set_forkserver_preload(["agent.service.worker", "search"])
        self._thread = threading.Thread(target=self._loop, name="llmgs-jobs", daemon=True)
        self._thread.start()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop scheduling; stop running jobs, mark them interrupted; unlock the database."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        with self._lock:
            running = dict(self._running)
            self._running.clear()
        for run in running.values():
            run.cancel.set()
        deadline = time.monotonic() + self.grace_s
        for job_id, run in running.items():
            run.process.join(max(0.0, deadline - time.monotonic()))
            _kill_job(run.process, timeout_s)
            self.store.finish(job_id, run.attempt, "failed", error=INTERRUPTED, interrupted=True)
        self._lease.release()

    # -- API ------------------------------------------------------------------------------

    def submit(self, request: dict[str, Any]) -> JobRecord:
        """Queue a job.

        Raises:
            QueueFull: ``max_queued`` jobs are already waiting.
        """
        job = self.store.create(request, max_queued=self.max_queued)
        self._wake.set()
        return job

    def cancel(self, job_id: str) -> JobRecord | None:
        """Cancel a queued or running job; returns it, or None if there is no such job.

        Raises:
            NotCancellable: The job has already ended.
        """
        job = self.store.get(job_id)
        if job is None:
            return None
        with self._lock:  # serialised with _launch(): one of the two sees the other
            cancelled = self.store.finish(job_id, None, "cancelled")
            run = self._running.get(job_id)
            if cancelled and run is not None:
                run.cancel.set()
                run.cancel_deadline = time.monotonic() + self.grace_s
        if not cancelled:
            current = self.store.get(job_id)
            status = current.status if current is not None else job.status
            raise NotCancellable(f"job {job_id} has already ended ({status}); there is nothing "
                                 "to cancel")  # fmt: skip
        self._wake.set()
        return self.store.get(job_id)

    @property
    def running_count(self) -> int:
        """Worker processes alive now."""
        with self._lock:
            return len(self._running)

    # -- scheduler ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._reap()
            self._launch()
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _reap(self) -> None:
        now = time.monotonic()
        with self._lock:
            items = list(self._running.items())
        for job_id, run in items:
            if run.process.is_alive():
                if run.cancel_deadline is not None and now >= run.cancel_deadline:
                    # It did not stop on its own (e.g. stuck in a long evaluation that holds
                    # the GIL): kill it with everything it started.
                    _kill_job(run.process, 2.0)
                continue
            run.process.join(0)
            with self._lock:
                self._running.pop(job_id, None)
            code = run.process.exitcode
            # A worker records its own outcome; this only catches one that died first. A
            # signal (or 255: its fork server died and could not report) means it was stopped
            # from outside, e.g. by a shutdown signal sent to the whole process group.
            stopped = code is None or code < 0 or code == 255
            error = (
                f"{INTERRUPTED} (worker stopped, exit code {code})"
                if stopped
                else f"worker process exited with code {code}"
            )
            self.store.finish(job_id, run.attempt, "failed", error=error, interrupted=stopped)

    def _launch(self) -> None:
        with self._lock:
            free = self.max_workers - len(self._running)
        if free <= 0:
            return
        for job_id in self.store.queued_ids(free):
            job = self.store.get(job_id)
            attempt = self.store.claim(job_id) if job is not None else None
            if job is None or attempt is None:
                continue
            cancel = self._ctx.Event()
            from agent.service import worker

            process = self._ctx.Process(
                target=worker.main,
                args=(
                    str(self.store.path),
                    job_id,
                    attempt,
                    self.job_function,
                    job.request,
                    cancel,
                    os.getpid(),
                    self.worker_env,
                ),
                name=f"llmgs-job-{job_id[:8]}",
                # Not daemonic: a solve may start processes of its own (parallel evaluation).
                daemon=False,
            )
            try:
                process.start()
            except OSError as exc:
                self.store.finish(job_id, attempt, "failed", error=f"cannot start worker: {exc}")
                continue
            run = _Running(process, attempt, cancel)
            with self._lock:  # serialised with cancel(): one of the two sees the other
                self._running[job_id] = run
                current = self.store.get(job_id)
                if current is not None and current.status == "cancelled":
                    cancel.set()
                    run.cancel_deadline = time.monotonic() + self.grace_s


def _kill_group(pid: int | None) -> None:
    """SIGKILL the process group a worker leads (it makes one at start), if it still exists."""
    if pid is None:
        return
    try:
        # Only a group the worker itself leads: never the server's own group.
        if os.getpgid(pid) == pid and os.getpgrp() != pid:
            os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone (or not ours any more)


def _kill_job(process: multiprocessing.process.BaseProcess, timeout_s: float) -> None:
    """SIGKILL a worker and every process in its group; wait for the worker to go."""
    if process.is_alive():
        _kill_group(process.pid)
        process.kill()  # in case it had not made its group yet
        process.join(timeout_s)
