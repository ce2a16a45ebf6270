"""Job functions for the service tests (same signature as ``agent.service.runner.solve_job``).

They are real functions run in real worker processes: ``search_job`` solves by plain search,
``slow_job`` runs until it is stopped, ``crash_job`` fails, ``stuck_job`` and
``stuck_with_child_job`` never poll ``should_stop`` (they hold the GIL, as a long compiled
evaluation does).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

OnEvent = Callable[[dict[str, Any]], None]


def search_job(
    description: str,
    *,
    on_event: OnEvent,
    should_stop: Callable[[], bool],
    task: str | None = None,
    model: str | None = None,
    budget: int | None = None,
    seed: int = 0,
    revision: str | None = None,
) -> dict[str, Any]:
    """Scheduled HC on the matched task; returns a SolveResult-like dict."""
    import envs
    import search
    from agent.pipeline.matching import match_task

    task_id = match_task(description, task=task).task
    on_event({"event": "stage_started", "stage": "search", "task": task_id})
    config = search.SearchConfig(budget=budget or 1000, seed=seed, progress=False)
    result = search.search(task_id, "shc", config=config, on_event=on_event)
    program = str(result.best_program)
    returns = envs.make(task_id).returns(program)
    return {
        "task": task_id,
        "program": program,
        "reward": envs.make(task_id).evaluate(program),
        "instance_returns": returns,
        "evaluations": result.evaluations,
        "unique_evaluations": result.unique_evaluations,
        "model": model,
    }


def slow_job(
    description: str, *, on_event: OnEvent, should_stop: Callable[[], bool], **_: Any
) -> dict[str, Any]:
    """Reports progress every 50 ms until asked to stop (at most 60 s)."""
    deadline = time.monotonic() + 60.0
    n = 0
    while time.monotonic() < deadline and not should_stop():
        n += 1
        on_event({"event": "best_updated", "stage": "search", "evaluations": n, "best_return": 0})
        time.sleep(0.05)
    return {"task": "karel/DoorKey", "program": "DEF run m( move m)", "stopped_after": n}


def crash_job(description: str, *, on_event: OnEvent, **_: Any) -> dict[str, Any]:
    """Fails after one event."""
    on_event({"event": "stage_started", "stage": "search"})
    raise RuntimeError("boom: the fake job failed")


def instant_job(
    description: str, *, on_event: OnEvent, should_stop: Callable[[], bool], **options: Any
) -> dict[str, Any]:
    """Returns at once, without a task or program (so no GIF is drawn)."""
    on_event({"event": "stage_started", "stage": "search"})
    return {"echo": {"description": description, **options}}


def search_or_wait(description: str, **kwargs: Any) -> dict[str, Any]:
    """``slow_job`` when the budget is 1,000,000 or more, ``search_job`` otherwise."""
    if (kwargs.get("budget") or 0) >= 1_000_000:
        return slow_job(description, **kwargs)
    return search_job(description, **kwargs)


def _hold_the_gil() -> None:
    """Backtrack exponentially in ``re`` (C code that holds the GIL): decades for 64 chars."""
    re.fullmatch(r"(a+)+b", "a" * 64)


def stuck_job(
    description: str, *, on_event: OnEvent, should_stop: Callable[[], bool], **_: Any
) -> dict[str, Any]:
    """Reports its pid, then never returns nor polls ``should_stop``, and holds the GIL."""
    on_event({"event": "pids", "worker": os.getpid()})
    _hold_the_gil()
    return {}


def stuck_with_child_job(
    description: str, *, on_event: OnEvent, should_stop: Callable[[], bool], **_: Any
) -> dict[str, Any]:
    """Like ``stuck_job``, with a child process of its own (as a search's evaluation pool)."""
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)"])
    on_event({"event": "pids", "worker": os.getpid(), "child": child.pid})
    _hold_the_gil()
    return {}
