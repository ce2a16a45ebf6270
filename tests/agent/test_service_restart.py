"""A restart of ``llmgs serve`` keeps finished results and marks interrupted jobs.

The server is a real ``llmgs serve`` process, killed with SIGKILL (no chance to clean up), so
the orphaned worker must notice on its own and may not overwrite what the new server says.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import read_events, wait_for  # noqa: E402

HERE = Path(__file__).parent


@contextmanager
def serve(db: Path, job_function: str, log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``llmgs serve --port 0`` as a subprocess; yields it and its base URL."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "agent.cli", "serve", "--port", "0", "--db", str(db),
           "--workers", "1", "--job-function", job_function, "--log-level", "info"]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
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


def test_restart_keeps_results_and_marks_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    body = {"description": "pick up the key and open the door", "model": None, "budget": 200}
    with serve(db, "service_fakes:search_job", tmp_path / "a.log") as (_, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            done_id = http.post("/v1/solve", json=body).json()["id"]
            before = wait_for(http, done_id, ("succeeded",), timeout=120)
            gif = http.get(f"/v1/jobs/{done_id}/rollout.gif").content
    with serve(db, "service_fakes:slow_job", tmp_path / "b.log") as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            slow_id = http.post("/v1/solve", json=body).json()["id"]
            wait_for(http, slow_id, ("running",), timeout=60)
            queued_id = http.post("/v1/solve", json=body).json()["id"]
        proc.kill()  # SIGKILL: no shutdown handler runs
        proc.wait(10)
    with serve(db, "service_fakes:search_job", tmp_path / "c.log") as (_, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            after = http.get(f"/v1/jobs/{done_id}").json()
            interrupted = http.get(f"/v1/jobs/{slow_id}").json()
            names = [name for name, _ in read_events(http, slow_id)]
            # The job still queued when the server died runs on the new server.
            resumed = wait_for(http, queued_id, ("succeeded", "failed"), timeout=120)
            assert http.get(f"/v1/jobs/{done_id}/rollout.gif").content == gif
            time.sleep(1.0)  # give the orphaned worker time to try to write
            later = http.get(f"/v1/jobs/{slow_id}").json()
            later_names = [name for name, _ in read_events(http, slow_id)]
    assert after == before
    assert interrupted["status"] == "failed" and interrupted["interrupted"] is True
    assert "interrupted" in interrupted["error"]
    assert names[-2:] == ["job_failed", "end"]
    assert later == interrupted and later_names == names
    assert resumed["status"] == "succeeded"
