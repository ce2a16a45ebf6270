"""The job store: a worker writes only while its job is running under its own claim, and a
file that is not a job database is refused without being touched."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.cli import main
from agent.service.store import INTERRUPTED, JobStore
from envs.errors import ConfigError


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


def _full_store(path: Path) -> bytes:
    store = JobStore(path)
    for i in range(40):
        store.create({"description": f"job {i} " + "x" * 4000})
    with sqlite3.connect(path) as db:  # move everything from the WAL into the file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    Path(str(path) + "-wal").unlink(missing_ok=True)
    Path(str(path) + "-shm").unlink(missing_ok=True)
    return path.read_bytes()


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def _truncated(path: Path) -> None:
    data = _full_store(path)
    path.write_bytes(data[: len(data) // 2])


def _holed(path: Path) -> None:
    # Intact header and schema, a run of overwritten pages in the middle: only a full check
    # (the server's, at start) finds it.
    data = bytearray(_full_store(path))
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xff" * 8192
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE Cache (key TEXT, value BLOB)")
        db.execute("INSERT INTO Cache VALUES ('k', x'00')")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (_garbage, "file is not a database"),
    "truncated": (_truncated, "malformed"),
    "overwritten pages": (_holed, "it is damaged"),
    "another program's database": (_foreign, "another program's SQLite database"),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_is_refused_and_left_as_it_was(tmp_path: Path, damage: str) -> None:
    make, why = DAMAGE[damage]
    path = tmp_path / "jobs.sqlite3"
    make(path)
    before = _digest(path)
    with pytest.raises(ConfigError) as err:
        JobStore(path, check=True)
    message = str(err.value)
    assert str(path) in message and why in message
    assert "left as it is" in message and "--db" in message and "Move it aside" in message
    assert _digest(path) == before
    # SQLite may leave an empty write-ahead log beside a file in WAL mode; nothing else.
    beside = {p.name: p.stat().st_size for p in tmp_path.iterdir() if p != path}
    assert set(beside) <= {"jobs.sqlite3-wal"} and not any(beside.values())


def test_a_folder_given_as_the_database_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "jobs.sqlite3"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a folder, not a file") as err:
        JobStore(folder)
    assert f"--db {folder / 'jobs.db'}" in str(err.value)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated", "folder"])
def test_llmgs_serve_on_a_damaged_database_says_what_to_do(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "jobs.sqlite3"
    if damage == "folder":
        db.mkdir()
    else:
        DAMAGE[damage][0](db)
    before = _digest(db) if db.is_file() else None
    assert main(["serve", "--db", str(db), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"llmgs serve: error: the job database {db}")
    assert "Traceback" not in err and "--db" in err
    assert (_digest(db) if db.is_file() else None) == before


def test_a_database_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot create the folder of the job database"):
        JobStore(blocker / "jobs.sqlite3")
    assert blocker.read_text() == "not a folder"
