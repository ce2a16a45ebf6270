"""A restart of ``llmgs serve`` keeps finished results and marks interrupted jobs.

The server is a real ``llmgs serve`` process, killed with SIGKILL (no chance to clean up), so
the orphaned worker must notice on its own and may not overwrite what the new server says.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import read_events, serve_process, wait_for  # noqa: E402


def test_restart_keeps_results_and_marks_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    quick = {"description": "pick up the key and open the door", "model": None, "budget": 200}
    endless = {**quick, "budget": 1_000_000}  # service_fakes.search_or_wait waits on these
    with serve_process(db, "service_fakes:search_or_wait", tmp_path / "a.log") as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            done_id = http.post("/v1/solve", json=quick).json()["id"]
            before = wait_for(http, done_id, ("succeeded",), timeout=120)
            gif = http.get(f"/v1/jobs/{done_id}/rollout.gif").content
            slow_id = http.post("/v1/solve", json=endless).json()["id"]
            wait_for(http, slow_id, ("running",), timeout=60)
            queued_id = http.post("/v1/solve", json=quick).json()["id"]
        proc.kill()  # SIGKILL: no shutdown handler runs
        proc.wait(10)
        # The orphaned worker notices and exits, and its fork server with it.
        group_gone = _wait_group_gone(proc.pid, timeout=20)
    with serve_process(db, "service_fakes:search_or_wait", tmp_path / "b.log") as (_, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            after = http.get(f"/v1/jobs/{done_id}").json()
            interrupted = http.get(f"/v1/jobs/{slow_id}").json()
            names = [name for name, _ in read_events(http, slow_id)]
            # The job still queued when the server died runs on the new server.
            resumed = wait_for(http, queued_id, ("succeeded", "failed"), timeout=120)
            assert http.get(f"/v1/jobs/{done_id}/rollout.gif").content == gif
            time.sleep(0.5)  # give the orphaned worker time to try to write
            later = http.get(f"/v1/jobs/{slow_id}").json()
            later_names = [name for name, _ in read_events(http, slow_id)]
    assert before["status"] == "succeeded" and after == before
    assert interrupted["status"] == "failed" and interrupted["interrupted"] is True
    assert "interrupted" in interrupted["error"]
    assert names[-2:] == ["job_failed", "end"]
    assert later == interrupted and later_names == names
    assert resumed["status"] == "succeeded"
    assert group_gone, "processes of the killed server were still running 20 s later"


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait until process group ``pgid`` is empty; SIGKILL what is left after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)  # only the group this test started
    return False
