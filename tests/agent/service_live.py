"""A real llmgs service on a loopback port: in a thread of the test process (:func:`live_service`)
or as an ``llmgs serve`` subprocess (:func:`serve_process`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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
HERE = Path(__file__).parent


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
    max_body_bytes: int | None = None,
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
        **({"max_body_bytes": max_body_bytes} if max_body_bytes is not None else {}),
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


def serve_command(db: Path, job_function: str, *extra: str) -> list[str]:
    """The ``llmgs serve`` command line of a test server on a free loopback port."""
    return [sys.executable, "-m", "agent.cli", "serve", "--port", "0", "--db", str(db),
            "--workers", "1", "--job-function", job_function, "--log-level", "info",
            *extra]  # fmt: skip


def serve_env() -> dict[str, str]:
    """The environment of a test server (it imports the job functions of ``service_fakes``)."""
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


@contextmanager
def serve_process(
    db: Path, job_function: str, log: Path, *extra: str
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``llmgs serve --port 0`` as a subprocess; yields it and its base URL."""
    with log.open("w") as out:
        # Its own session, so that the test can watch (and clean up) its whole process group.
        proc = subprocess.Popen(
            serve_command(db, job_function, *extra), stdout=out, stderr=subprocess.STDOUT,
            env=serve_env(), start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", log.read_text())
            port = int(found.group(1)) if found else None
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"llmgs serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def pid_gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for process ``pid`` to exit (a zombie counts as gone)."""
    from agent.service.worker import process_alive

    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


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
