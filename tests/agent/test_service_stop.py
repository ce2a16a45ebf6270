"""A job stops when it is cancelled or its server dies, even one that never polls ``should_stop``;
and a second server refuses a database that a live one serves.

The jobs here hold the GIL in C code and never look at ``should_stop`` (as a long compiled
evaluation does). Each wait is bounded; a job that does not stop fails the test at its bound.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import (  # noqa: E402
    live_service,
    pid_gone,
    serve_command,
    serve_env,
    serve_process,
    wait_for,
)

from agent.service.store import JobStore  # noqa: E402
from agent.service.worker import process_alive  # noqa: E402

JOB = {"description": "pick up the key and open the door", "model": None, "budget": 300}


def _pids(store: JobStore, job_id: str, timeout: float = 60.0) -> dict[str, int]:
    """The pids a fake job reported in its ``pids`` event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in store.events(job_id):
            if event.type == "pids":
                return {k: v for k, v in event.data.items() if isinstance(v, int)}
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} reported no pids in {timeout} s")


def _kill_leftovers(pids: dict[str, int]) -> None:
    """SIGKILL the processes this test's jobs started, if a failing test left them running."""
    for pid in pids.values():
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_cancel_kills_a_stuck_job_and_its_children(tmp_path: Path) -> None:
    pids: dict[str, int] = {}
    with live_service(tmp_path / "jobs.sqlite3", "service_fakes:stuck_with_child_job") as svc:
        try:
            with svc.client() as http:
                job = http.post("/v1/solve", json=JOB).json()
                wait_for(http, job["id"], ("running",), timeout=60)
                pids = _pids(svc.store, job["id"])
                assert http.delete(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
                worker_gone = pid_gone(pids["worker"], timeout=10)
                child_gone = pid_gone(pids["child"], timeout=10)
                final = http.get(f"/v1/jobs/{job['id']}").json()
        finally:
            _kill_leftovers(pids)
    assert worker_gone, "the cancelled worker was still running 10 s later"
    assert child_gone, "the cancelled job's child process was still running 10 s later"
    assert final["status"] == "cancelled"


def test_worker_dies_with_its_killed_server(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    pids: dict[str, int] = {}
    try:
        with serve_process(db, "service_fakes:stuck_job", tmp_path / "a.log") as (proc, url):
            with httpx.Client(base_url=url, timeout=30) as http:
                job_id = http.post("/v1/solve", json=JOB).json()["id"]
                wait_for(http, job_id, ("running",), timeout=60)
            pids = _pids(JobStore(db), job_id)
            proc.kill()  # SIGKILL: the server cannot stop its worker
            proc.wait(10)
            gone = pid_gone(pids["worker"], timeout=10)
    finally:
        _kill_leftovers(pids)
    assert gone, "a worker stuck in C code outlived its SIGKILLed server by 10 s"


def test_second_server_on_one_db_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    with serve_process(db, "service_fakes:slow_job", tmp_path / "a.log") as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            job_id = http.post("/v1/solve", json=JOB).json()["id"]
            wait_for(http, job_id, ("running",), timeout=60)
            second = subprocess.run(
                serve_command(db, "service_fakes:slow_job"),
                env=serve_env(),
                capture_output=True,
                text=True,
                timeout=60,  # a second server that starts serving never exits: fails here
            )
            still = http.get(f"/v1/jobs/{job_id}").json()
            cancelled = http.delete(f"/v1/jobs/{job_id}").json()
    assert second.returncode != 0
    assert "llmgs serve: error:" in second.stderr and "Traceback" not in second.stderr
    assert str(db) in second.stderr and f"pid {proc.pid}" in second.stderr
    # The first server's job was left alone.
    assert still["status"] == "running" and not still["interrupted"]
    assert cancelled["status"] == "cancelled"
