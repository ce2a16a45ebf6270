"""The executor: same results in any order, errors and early exits stop the workers at once."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from envs.errors import ConfigError
from search.executor import as_completed, map_ordered, worker_context
from tests.process_watch import (
    START_DEADLINE_S,
    group_members,
    kill_group,
    start_group,
    text_of,
    wait_until,
)


def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def _sleep_then_pid(x: float) -> int:
    time.sleep(x)
    return os.getpid()


def _die(x: int) -> int:
    if x == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x


def _unpicklable(x: int) -> object:
    return threading.Lock()


def _child_process(x: int) -> int:
    # A job may start processes of its own (a search's evaluation pool, a model server).
    process = worker_context().Process(target=_square, args=(x,))
    process.start()
    process.join()
    return process.exitcode if process.exitcode is not None else -1


def test_results_do_not_depend_on_workers() -> None:
    items = list(range(12))
    expected = [x * x for x in items]
    assert map_ordered(_square, items, workers=1) == expected
    assert map_ordered(_square, items, workers=3) == expected
    pairs = list(as_completed(_square, items, workers=2))
    assert sorted(pairs) == list(enumerate(expected))


def test_bad_settings_raise_before_any_job() -> None:
    with pytest.raises(ConfigError, match="executor"):
        as_completed(_square, [1], executor="dask")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="workers"):
        map_ordered(_square, [1], workers=0)


def test_ray_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ConfigError, match=r"llmgs\[ray\]"):
        as_completed(_square, [1, 2], executor="ray")


def test_an_error_in_a_job_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="three"):
        map_ordered(_fail_on_three, list(range(6)), workers=2)


def test_a_dead_worker_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="died"):
        map_ordered(_die, list(range(4)), workers=2)


def test_an_unpicklable_result_is_an_error_not_a_hang() -> None:
    with pytest.raises((TypeError, RuntimeError)):
        map_ordered(_unpicklable, [1, 2], workers=2)


def test_jobs_may_start_processes() -> None:
    assert map_ordered(_child_process, [1, 2], workers=2) == [0, 0]


def test_leaving_the_loop_stops_the_workers_at_once() -> None:
    # One short job, then jobs that would sleep for a minute: leaving after the first result
    # must terminate the sleeping workers instead of waiting for them.
    results = as_completed(_sleep_then_pid, [0.0, 60.0, 60.0], workers=2)
    started = time.monotonic()
    _, pid = next(results)
    results.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 30
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    # SIGKILL of the parent leaves no chance to clean up: the orphaned workers must notice
    # and stop by themselves instead of running their jobs on.
    script = (
        "import sys, time\n"
        "from search.executor import map_ordered\n"
        "print('started', flush=True)\n"
        "map_ordered(time.sleep, [600.0, 600.0], workers=2)\n"
    )
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    proc = start_group([sys.executable, "-c", script], stdout, stderr)
    try:
        wait_until(lambda: "started" in text_of(stdout), START_DEADLINE_S, "never started", proc)
        wait_until(lambda: len(group_members(proc.pid)) >= 3, START_DEADLINE_S,
                   "the two workers never started", proc)  # fmt: skip
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_until(lambda: not group_members(proc.pid), 30, "orphaned workers left running")
    finally:
        kill_group(proc)
