"""A real llmgs service on a loopback port, run by uvicorn in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from agent.service import ServiceConfig, create_app
from agent.service.jobs import JobManager
from agent.service.store import JobStore

TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass
class Live:
    """A running service: its base URL, store and job manager."""

    url: str
    store: JobStore
    manager: JobManager
    token: str | None = None

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client of this server (with the bearer token when given)."""
        token = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


@contextmanager
def live_service(
    db: Path,
    job_function: str = "service_fakes:search_job",
    *,
    token: str | None = None,
    max_workers: int = 1,
    max_queued: int = 100,
    max_budget: int = 1_000_000,
    runs_dir: Path | None = None,
    cache_dir: Path | None = None,
    solve_options: dict[str, object] | None = None,
) -> Iterator[Live]:
    """Serve on 127.0.0.1 (a free port) until the block ends."""
    config = ServiceConfig(
        db_path=str(db), token=token, max_workers=max_workers, max_queued=max_queued,
        max_budget=max_budget, job_function=job_function, sse_poll_s=0.05,
        runs_dir=str(runs_dir) if runs_dir is not None else None,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        solve_options=dict(solve_options or {}),
    )  # fmt: skip
    store = JobStore(db)
    manager = JobManager(
        store, job_function, max_workers=max_workers, max_queued=max_queued, grace_s=0.5,
        worker_env=config.worker_env(),
    )  # fmt: skip
    app = create_app(config, manager)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Live(f"http://127.0.0.1:{port}", store, manager, token)
    finally:
        server.should_exit = True
        thread.join(30)


def wait_for(
    client: httpx.Client, job_id: str, statuses: tuple[str, ...], timeout: float = 120.0
) -> dict:
    """Poll a job until its status is one of ``statuses``; returns the job."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        if job["status"] in TERMINAL:
            raise AssertionError(f"job {job_id} ended {job['status']}: {job['error']}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.05)


def read_events(
    client: httpx.Client, job_id: str, timeout: float = 120.0
) -> list[tuple[str, dict]]:
    """Read a job's SSE stream to its ``end`` message; returns ``(event, data)`` pairs."""
    import json

    out: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event, data = None, ""
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise TimeoutError("event stream did not end")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line == "" and data:
                out.append((event or "message", json.loads(data)))
                if event == "end":
                    return out
                event, data = None, ""
    return out
