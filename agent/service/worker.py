"""What runs inside a worker process: one job, its events, its result and its rollout GIF.

The job function is named by a ``"module:function"`` reference and called as
``fn(**request, on_event=callable(dict), should_stop=callable() -> bool)``; it returns a
result with ``to_dict()`` (``agent.solve``'s ``SolveResult``) or a plain dict. Everything the
worker writes goes through :class:`~agent.service.store.JobStore` under the job's attempt
token, so a cancelled or interrupted job is never overwritten.

A worker never outlives its server by more than a moment, even when its job is stuck in code
that never polls ``should_stop`` and holds the GIL (a long compiled evaluation, a C call): on
Linux the kernel kills it when its parent, the fork server, dies (``PR_SET_PDEATHSIG``); the
fork server exits as soon as the server is gone, because workers close their copies of its
"alive" pipe. A watchdog thread checks the server's pid every :data:`WATCH_S` seconds as well.
The worker leads its own process group, so the server can kill a cancelled job together with
every process it started.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.service.store import INTERRUPTED, JobStore
from envs.errors import ConfigError, LlmgsError

JobFunction = Callable[..., Any]

#: Event keys copied into a job's ``progress`` (whatever the solver reports of them).
PROGRESS_KEYS: tuple[str, ...] = (
    "stage", "round", "evaluations", "unique_evaluations", "budget", "best_return", "k",
    "climb", "climbs", "calls", "sample", "of", "samples", "accepted", "acceptance_rate",
    "completion_tokens", "tokens_per_s", "task", "reward",
)  # fmt: skip
#: Seconds between stored progress-like events (and progress writes) of one job.
THROTTLE_S = 0.25
#: Events stored per job at most; a marker says when the rest were dropped.
MAX_EVENTS = 20_000
#: Seconds between the watchdog's checks that the server is still alive.
WATCH_S = 0.2
#: Linux ``prctl`` option that sends a signal to this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def resolve(ref: str) -> JobFunction:
    """The function named ``"package.module:function"``.

    Raises:
        ValueError: ``ref`` is not of the form ``module:function``.
        ImportError: The module cannot be imported.
        AttributeError: The module has no such attribute.
        TypeError: The attribute is not callable.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"job function reference must look like 'module:function', got {ref!r}")
    fn = getattr(importlib.import_module(module_name), attr)
    if not callable(fn):
        raise TypeError(f"{ref} is not callable")
    return fn


def event_type(event: dict[str, Any]) -> str:
    """The name of an event dict (``event``, else ``type``, else ``"event"``)."""
    for key in ("event", "type"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value[:100]
    return "event"


class EventSink:
    """Stores a job's events and keeps its progress up to date, throttling chatty events."""

    def __init__(self, store: JobStore, job_id: str, attempt: str) -> None:
        self.store = store
        self.job_id = job_id
        self.attempt = attempt
        self.progress: dict[str, Any] = {}
        self.stored = 0
        self._last_store: dict[str, float] = {}
        self._last_progress_write = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event_type(event)
        now = time.monotonic()
        changed_stage = "stage" in event and event.get("stage") != self.progress.get("stage")
        self._merge_progress(event)
        if changed_stage or now - self._last_progress_write >= THROTTLE_S:
            self.flush_progress()
        chatty = "progress" in kind or kind in ("climb_started", "checkpoint", "tokens")
        if chatty and now - self._last_store.get(kind, -1e9) < THROTTLE_S:
            return
        if self.stored >= MAX_EVENTS:
            return
        self._last_store[kind] = now
        self.stored += 1
        data = _jsonable(event)
        if self.stored == MAX_EVENTS:
            kind, data = "events_truncated", {"limit": MAX_EVENTS}
        self.store.add_event(self.job_id, kind, data, attempt=self.attempt)

    def _merge_progress(self, event: dict[str, Any]) -> None:
        for key in PROGRESS_KEYS:
            value = event.get(key)
            if isinstance(value, str | int | float | bool) and value is not None:
                self.progress[key] = value
        self.progress["last_event"] = event_type(event)

    def flush_progress(self) -> None:
        """Write the current progress to the job row."""
        self._last_progress_write = time.monotonic()
        self.store.set_progress(self.job_id, self.attempt, self.progress)


def _jsonable(value: Any) -> dict[str, Any]:
    """The event as JSON-ready data (unknown objects become their text)."""
    text = json.dumps(value, default=str)
    out = json.loads(text)
    return out if isinstance(out, dict) else {"value": out}


def result_dict(result: Any) -> dict[str, Any]:
    """The job function's result as a JSON-ready dict.

    Raises:
        TypeError: The result is neither a dict nor has ``to_dict()``.
    """
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    if not isinstance(result, dict):
        raise TypeError(f"job function returned {type(result).__name__}, expected a dict")
    # Round-trip so that what the API serves is exactly what was stored.
    return json.loads(json.dumps(result))


def render_gif(task_id: str, program: str, returns: list[float] | None = None) -> bytes:
    """A GIF of ``program`` on the task's worst instance (the lowest index among ties).

    Args:
        task_id: Registry id.
        program: DSL text.
        returns: Return per instance when known (the result's ``instance_returns``);
            computed on the task's default instances otherwise.

    Raises:
        TaskNotFound: Unknown task id.
        DSLSyntaxError: ``program`` does not parse.
        ConfigError: The task cannot draw its episodes.
        OSError: The temporary file cannot be written.
    """
    import envs

    task = envs.make(task_id, n=len(returns)) if returns else envs.make(task_id)
    if not returns:
        returns = task.returns(program)
    worst = min(range(len(returns)), key=lambda i: (returns[i], i))
    with tempfile.TemporaryDirectory(prefix="llmgs-gif-") as tmp:
        path = task.render_episode(program, Path(tmp) / "rollout.gif", worst)
        if path is None:
            raise ConfigError(f"{task_id} cannot draw its episodes")
        return path.read_bytes()


def _attach_gif(sink: EventSink, result: dict[str, Any]) -> None:
    task_id, program = result.get("task"), result.get("program")
    if not isinstance(task_id, str) or not isinstance(program, str):
        return
    returns = result.get("instance_returns")
    if not (isinstance(returns, list) and all(isinstance(r, int | float) for r in returns)):
        returns = None
    try:
        content = render_gif(task_id, program, returns)
    except (LlmgsError, OSError, ValueError) as exc:
        sink.store.add_event(sink.job_id, "render_failed", {"error": str(exc)}, sink.attempt)
        return
    sink.store.put_artifact(sink.job_id, sink.attempt, "rollout.gif", content)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                state = f.read().rsplit(")", 1)[-1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        except (OSError, IndexError):
            pass  # unreadable: fall back to a signal probe
        else:
            return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Orphan:
    """Whether the server that started this worker is gone (checked at most every 0.2 s)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.parent = os.getppid()
        self._checked = 0.0
        self._gone = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._gone and now - self._checked >= 0.2:
            self._checked = now
            self._gone = os.getppid() != self.parent or not process_alive(self.server_pid)
        return self._gone


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux); True if set."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _let_fork_server_go() -> None:
    """Close this worker's copy of the fork server's "alive" pipe.

    Every process a fork server starts inherits the write end of that pipe, and the fork server
    exits only once every copy is closed. A worker keeping its copy would keep the fork server
    alive after the server's death, and the parent-death signal would never come.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is None or not isinstance(fd, int):
        return
    try:
        os.close(fd)
    except OSError:
        pass  # already closed: nothing keeps the fork server alive on our behalf
    server._forkserver_alive_fd = None


def _own_group() -> None:
    """Lead a new process group, so that a cancel can kill the job's children with it."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass  # e.g. already a session leader: the server then kills this process alone


def _watch(orphaned: _Orphan, store: JobStore, job_id: str, attempt: str) -> None:
    """Watchdog thread: once the server is gone, record the interruption and exit at once."""
    while not orphaned():
        time.sleep(WATCH_S)
    store.finish(job_id, attempt, "failed", error=INTERRUPTED, interrupted=True)
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)  # this worker and whatever it started
    os._exit(1)


def main(
    db_path: str,
    job_id: str,
    attempt: str,
    fn_ref: str,
    request: dict[str, Any],
    cancel: Any,
    server_pid: int,
    env: dict[str, str] | None = None,
) -> None:
    """Entry point of a worker process: run one job to its end and record the outcome.

    Args:
        db_path: The job store's SQLite file.
        job_id: The job to run (already claimed as ``running`` under ``attempt``).
        attempt: The claim's token; every write is conditional on it.
        fn_ref: ``"module:function"`` of the job function.
        request: Keyword arguments of the job function.
        cancel: A ``multiprocessing.Event`` the server sets to ask the job to stop.
        server_pid: The server's process id; the job stops when that process is gone.
        env: Environment variables to set first (a fork server keeps the environment it
            started with, so settings of the service travel this way).

    Raises:
        ConfigError: The job database cannot be opened (the server checked it at start, so
            only when it was damaged since).
    """
    os.environ.update(env or {})
    # Ctrl-C in a terminal reaches the whole process group; the server decides our fate.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _own_group()
    orphaned = _Orphan(server_pid)
    die_with_parent()  # before the fork server can go, so that its death is never missed
    _let_fork_server_go()
    store = JobStore(db_path)
    if orphaned():  # the server died before the kernel could be told to watch for it
        store.finish(job_id, attempt, "failed", error=INTERRUPTED, interrupted=True)
        return
    sink = EventSink(store, job_id, attempt)
    threading.Thread(
        target=_watch, args=(orphaned, store, job_id, attempt), name="llmgs-watchdog", daemon=True
    ).start()

    def should_stop() -> bool:
        # A vanished server means nobody will read the result: stop rather than run on.
        return cancel.is_set() or orphaned()

    try:
        fn = resolve(fn_ref)
        result = result_dict(fn(**request, on_event=sink, should_stop=should_stop))
    except LlmgsError as exc:
        sink.flush_progress()
        store.finish(job_id, attempt, "failed", error=f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - any crash must become the job's error, loudly
        traceback.print_exc(file=sys.stderr)
        sink.flush_progress()
        store.finish(
            job_id, attempt, "failed", error=f"internal error: {type(exc).__name__}: {exc}"
        )
        sys.exit(1)
    sink.flush_progress()
    if orphaned():
        # A result cut short by a vanished server is not a success.
        store.finish(job_id, attempt, "failed", error=INTERRUPTED, interrupted=True)
        return
    if cancel.is_set():
        return  # the server has already recorded the cancellation
    _attach_gif(sink, result)
    store.finish(job_id, attempt, "succeeded", result=result)
