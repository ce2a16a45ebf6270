"""Server-sent events of one job, read from the job store.

Each stored event becomes one SSE message: ``id`` is its sequence number (so a client that
reconnects with ``Last-Event-ID`` resumes where it stopped), ``event`` its name and ``data``
its JSON. When the job has ended and every event was sent, a final ``end`` message carries
the job's status and the stream closes. Comment lines keep idle connections alive.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import anyio.to_thread

from agent.service.schemas import TERMINAL
from agent.service.store import JobStore


def format_message(
    data: dict[str, object], event: str | None = None, id_: int | None = None
) -> str:
    """One SSE message (``data`` is JSON on a single line)."""
    lines = []
    if id_ is not None:
        lines.append(f"id: {id_}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


async def job_events(
    store: JobStore,
    job_id: str,
    after: int = 0,
    *,
    poll_s: float = 0.2,
    keepalive_s: float = 15.0,
    max_s: float = 3600.0,
) -> AsyncIterator[str]:
    """Stream a job's events from ``seq > after`` until it ends (or ``max_s`` passes).

    Args:
        store: The job store.
        job_id: An existing job.
        after: Last event id the client has.
        poll_s: Seconds between reads of the store.
        keepalive_s: Seconds of silence before a comment line is sent.
        max_s: Longest stream; the client reconnects with ``Last-Event-ID`` to go on.
    """
    started = last_sent = time.monotonic()
    yield ": stream of job " + job_id + "\n\n"
    while time.monotonic() - started < max_s:
        # Status first: an ended job's last events were committed with its status.
        job = await anyio.to_thread.run_sync(store.get, job_id)
        events = await anyio.to_thread.run_sync(store.events, job_id, after)
        for ev in events:
            after = ev.seq
            yield format_message({**ev.data, "event": ev.type, "time": ev.time}, ev.type, ev.seq)
            last_sent = time.monotonic()
        if job is None or (job.status in TERMINAL and not events):
            status = job.status if job is not None else "deleted"
            yield format_message({"status": status}, "end")
            return
        if events:
            continue  # drain the backlog before sleeping
        if time.monotonic() - last_sent >= keepalive_s:
            yield ": keepalive\n\n"
            last_sent = time.monotonic()
        await anyio.sleep(poll_s)
    yield format_message({"status": "timeout", "reconnect": True}, "end")
