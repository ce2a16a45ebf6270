"""The SQLite job store shared by the server and its worker processes.

One file holds jobs, their events and their artifacts (the rollout GIF). Every process opens
its own short-lived connections; WAL mode lets the server read while a worker writes.

Writes that a worker makes are conditional on the job still being ``running`` under the
worker's *attempt* token. A job that was cancelled, or marked interrupted by a restarted
server, therefore cannot be overwritten by a worker that is still winding down (or orphaned).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.errors import ConfigError, LlmgsError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    attempt TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS artifacts (
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (job_id, name)
);
"""

INTERRUPTED = "interrupted: the server stopped while this job was running"


class QueueFull(LlmgsError):
    """The server already holds as many queued jobs as it accepts."""


@dataclass(frozen=True)
class JobRecord:
    """One row of the jobs table, decoded."""

    id: str
    status: str
    request: dict[str, Any]
    created: float
    started: float | None
    finished: float | None
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    interrupted: bool


@dataclass(frozen=True)
class EventRecord:
    """One stored event of a job; ``seq`` counts from 1 per job."""

    seq: int
    time: float
    type: str
    data: dict[str, Any]


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        status=row["status"],
        request=json.loads(row["request"]),
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        progress=json.loads(row["progress"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=row["error"],
        interrupted=bool(row["interrupted"]),
    )


def _unusable(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"the job database {path} cannot be used: {why}. It was left as it is. Move it aside "
        "(or restore a backup) and start again to begin an empty one, or give --db another "
        "file; deleting it loses the jobs it holds"
    )


def _folder(path: Path) -> ConfigError:
    return ConfigError(
        f"the job database {path} is a folder, not a file: give --db a file in it, e.g. "
        f"--db {path / 'jobs.db'}"
    )


def _check_tables(db: sqlite3.Connection) -> None:
    # Raises sqlite3.DatabaseError itself when the file is not SQLite at all.
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "jobs" not in tables:
        found = ", ".join(sorted(tables)[:5])
        raise sqlite3.DatabaseError(f"it is another program's SQLite database (tables {found})")


def _quick_check(db: sqlite3.Connection) -> None:
    rows = db.execute("PRAGMA quick_check(3)").fetchall()
    lines = [line for r in rows for line in str(r[0]).splitlines() if not line.startswith("*")]
    if lines != ["ok"]:
        raise sqlite3.DatabaseError(f"it is damaged ({'; '.join(lines[:3])})")


class JobStore:
    """Jobs, events and artifacts in one SQLite file.

    A file that is not a job database (garbage, a truncated copy, a folder, another program's
    SQLite file) is refused with a :class:`~envs.errors.ConfigError` before anything is
    written to it, so the file is left exactly as it was.

    Args:
        path: The database file; its folder is created.
        check: Also run SQLite's ``quick_check`` over the whole file (the server does at
            start; it reads every page, so worker processes skip it).

    Raises:
        ConfigError: The file cannot be used as a job database; the message names it, says
            it was left untouched and what to do.
    """

    def __init__(self, path: str | Path, *, check: bool = False) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(
                f"cannot create the folder of the job database {self.path}: "
                f"{err.strerror or err}; give --db a path in a folder this user can write"
            ) from None
        if self.path.is_dir():
            raise _folder(self.path)
        try:
            with self._connect() as db:
                # Read before writing: a file that is not a job database is never touched.
                _check_tables(db)
                if check:
                    _quick_check(db)
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise _unusable(self.path, str(err)) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit mode plus explicit BEGIN IMMEDIATE where a read feeds a write.
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- jobs -----------------------------------------------------------------------------

    def create(self, request: dict[str, Any], max_queued: int | None = None) -> JobRecord:
        """Add a queued job; returns it.

        Args:
            request: The job's arguments.
            max_queued: Refuse the job when this many are already queued. The count and the
                insert are one write transaction, so concurrent submissions (from any
                process) can never overshoot it.

        Raises:
            QueueFull: ``max_queued`` jobs are already queued.
        """
        job_id = uuid.uuid4().hex
        now = time.time()
        with self._transaction() as db:
            if max_queued is not None:
                queued = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
                if int(queued.fetchone()[0]) >= max_queued:
                    raise QueueFull(
                        f"the server already has {max_queued} queued jobs; retry when some finish"
                    )
            db.execute(
                "INSERT INTO jobs (id, status, request, created) VALUES (?, 'queued', ?, ?)",
                (job_id, json.dumps(request), now),
            )
            _append(db, job_id, "job_queued", {"status": "queued"})
        job = self.get(job_id)
        if job is None:  # pragma: no cover - the row was just committed
            raise RuntimeError(f"job {job_id} vanished after insert")
        return job

    def get(self, job_id: str) -> JobRecord | None:
        """The job, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row is not None else None

    def list(self, limit: int = 50, status: str | None = None) -> list[JobRecord]:
        """Most recent jobs first, optionally of one status."""
        query = "SELECT * FROM jobs"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY created DESC LIMIT ?", (*params, limit))
            return [_record(r) for r in rows.fetchall()]

    def count(self, status: str) -> int:
        """Number of jobs in a status."""
        with self._connect() as db:
            return int(
                db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)).fetchone()[0]
            )

    def queued_ids(self, limit: int) -> list[str]:
        """Oldest queued jobs first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created LIMIT ?", (limit,)
            ).fetchall()
        return [r["id"] for r in rows]

    def claim(self, job_id: str) -> str | None:
        """Move a queued job to running; returns its new attempt token, or None if not queued."""
        attempt = uuid.uuid4().hex
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE jobs SET status = 'running', started = ?, attempt = ? "
                "WHERE id = ? AND status = 'queued'",
                (time.time(), attempt, job_id),
            )
            if cur.rowcount != 1:
                return None
            _append(db, job_id, "job_started", {"status": "running"})
        return attempt

    def finish(
        self,
        job_id: str,
        attempt: str | None,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        interrupted: bool = False,
    ) -> bool:
        """End a job if it is still active (and, given an attempt, still that attempt's).

        Returns:
            Whether the job was ended by this call.
        """
        where = "id = ? AND status IN ('queued', 'running')"
        params: list[Any] = [job_id]
        if attempt is not None:
            where = "id = ? AND status = 'running' AND attempt = ?"
            params.append(attempt)
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, finished = ?, result = ?, error = ?, interrupted = ? "
                f"WHERE {where}",
                (
                    status,
                    time.time(),
                    json.dumps(result) if result is not None else None,
                    error,
                    int(interrupted),
                    *params,
                ),
            )
            if cur.rowcount != 1:
                return False
            data: dict[str, Any] = {"status": status}
            if error is not None:
                data["error"] = error
            _append(db, job_id, f"job_{status}", data)
        return True

    def mark_interrupted(self) -> int:
        """Fail every job left running by a previous server; returns how many."""
        ids = [job.id for job in self.list(limit=1_000_000, status="running")]
        return sum(
            self.finish(job_id, None, "failed", error=INTERRUPTED, interrupted=True)
            for job_id in ids
        )

    def set_progress(self, job_id: str, attempt: str, progress: dict[str, Any]) -> None:
        """Replace a running job's progress (ignored once it is no longer that attempt's)."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running' AND attempt = ?",
                (json.dumps(progress), job_id, attempt),
            )

    # -- events ---------------------------------------------------------------------------

    def add_event(
        self, job_id: str, type_: str, data: dict[str, Any], attempt: str | None = None
    ) -> bool:
        """Append an event; with an attempt, only while the job is running under it."""
        with self._transaction() as db:
            if attempt is not None:
                row = db.execute(
                    "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND attempt = ?",
                    (job_id, attempt),
                ).fetchone()
                if row is None:
                    return False
            _append(db, job_id, type_, data)
        return True

    def events(self, job_id: str, after: int = 0, limit: int = 500) -> list[EventRecord]:
        """Events with ``seq > after``, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, time, type, data FROM events WHERE job_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (job_id, after, limit),
            ).fetchall()
        return [EventRecord(r["seq"], r["time"], r["type"], json.loads(r["data"])) for r in rows]

    # -- artifacts ------------------------------------------------------------------------

    def put_artifact(self, job_id: str, attempt: str, name: str, content: bytes) -> bool:
        """Store a file of a job running under ``attempt`` (replacing one of the same name)."""
        with self._transaction() as db:
            cur = db.execute(
                "INSERT OR REPLACE INTO artifacts (job_id, name, content) SELECT ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ? AND status = 'running' "
                "AND attempt = ?)",
                (job_id, name, content, job_id, attempt),
            )
            return cur.rowcount == 1

    def artifact(self, job_id: str, name: str) -> bytes | None:
        """A stored file of a job, or None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT content FROM artifacts WHERE job_id = ? AND name = ?", (job_id, name)
            ).fetchone()
        return bytes(row["content"]) if row is not None else None

    def artifact_names(self, job_id: str) -> list[str]:
        """Names of a job's stored files."""
        with self._connect() as db:
            rows = db.execute("SELECT name FROM artifacts WHERE job_id = ?", (job_id,)).fetchall()
        return [r["name"] for r in rows]


def _append(db: sqlite3.Connection, job_id: str, type_: str, data: dict[str, Any]) -> None:
    """Insert an event with the next seq of its job (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO events (job_id, seq, time, type, data) "
        "SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM events WHERE job_id = ?",
        (job_id, time.time(), type_, json.dumps(data), job_id),
    )
