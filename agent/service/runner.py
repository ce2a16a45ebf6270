"""The production job function: ``agent.solve`` with the request's arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def solve_job(
    description: str,
    *,
    on_event: Callable[[dict[str, Any]], None],
    should_stop: Callable[[], bool],
    **options: Any,
) -> Any:
    """Run ``agent.solve(description, **options)`` with the worker's event sink and stop flag.

    Args:
        description: The task in plain words.
        on_event: Receives every solve event.
        should_stop: True once the job is cancelled (or the server is gone).
        **options: ``task``, ``model``, ``budget``, ``seed``, ``strategy``, ``revision`` as the
            request gave them.

    Returns:
        The ``SolveResult``.

    Raises:
        TaskNotFound: No task fits the description.
        ConfigError: Invalid options.
        CacheMiss: Replay-only mode found an answer missing from the cache.
    """
    from agent import solve

    return solve(description, on_event=on_event, should_stop=should_stop, **options)
