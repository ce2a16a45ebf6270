"""The job store: a worker writes only while its job is running under its own claim."""

from __future__ import annotations

from pathlib import Path

from agent.service.store import INTERRUPTED, JobStore


def test_writes_of_a_stale_attempt_are_refused(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create({"description": "x"})
    attempt = store.claim(job.id)
    assert attempt is not None and store.claim(job.id) is None  # claimed once only
    assert store.add_event(job.id, "best_updated", {"best_return": 0.5}, attempt)
    assert store.finish(job.id, None, "cancelled")  # the server cancels it
    # The worker, still winding down, can no longer write anything.
    assert not store.add_event(job.id, "best_updated", {"best_return": 1.0}, attempt)
    assert not store.put_artifact(job.id, attempt, "rollout.gif", b"GIF89a")
    assert not store.finish(job.id, attempt, "succeeded", result={"reward": 1.0})
    store.set_progress(job.id, attempt, {"evaluations": 9})
    final = store.get(job.id)
    assert final is not None and final.status == "cancelled" and final.result is None
    assert final.progress == {} and store.artifact(job.id, "rollout.gif") is None
    assert [e.type for e in store.events(job.id)] == [
        "job_queued", "job_started", "best_updated", "job_cancelled",
    ]  # fmt: skip


def test_restart_marks_running_jobs_interrupted_and_keeps_the_rest(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    done, running, queued = (store.create({"n": i}) for i in range(3))
    attempt = store.claim(done.id)
    assert attempt is not None
    assert store.finish(done.id, attempt, "succeeded", result={"reward": 1.0})
    assert store.claim(running.id) is not None
    reopened = JobStore(tmp_path / "jobs.sqlite3")  # a new server on the same file
    assert reopened.mark_interrupted() == 1
    states = {j.id: (j.status, j.interrupted, j.error) for j in reopened.list()}
    assert states[done.id] == ("succeeded", False, None)
    assert states[running.id] == ("failed", True, INTERRUPTED)
    assert states[queued.id] == ("queued", False, None)
    assert reopened.get(done.id).result == {"reward": 1.0}  # type: ignore[union-attr]
    assert [e.seq for e in reopened.events(running.id)] == [1, 2, 3]
