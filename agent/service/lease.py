"""One server per job database: an exclusive lock held for the server's lifetime.

A server owns the jobs it runs: at start-up it marks every job left ``running`` as interrupted,
because the server that ran them is gone. A second server on the same database would do that to
the live jobs of the first one and throw their results away, so the second one is refused.

The lock is ``flock`` on ``<db>.server-lock`` (the file holds the owner's pid, for the error
message). The kernel drops it when the owner dies, even by SIGKILL, so a crashed server never
leaves a stale lock behind, and no time-based lease can expire under a live but busy server.
Worker processes never hold it: the file is opened non-inheritable and the fork server that
starts workers does not inherit the server's descriptors.
"""

from __future__ import annotations

import os
from pathlib import Path

from envs.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, see ServerLock
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".server-lock"


class DatabaseInUse(ConfigError):
    """Another live server already serves this job database."""


class ServerLock:
    """The exclusive right of one server process to run the jobs of a database.

    Args:
        db_path: The job database; the lock file sits next to it.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self.path = Path(str(db_path) + SUFFIX)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (a no-op when already held by this object).

        Raises:
            DatabaseInUse: Another process holds it; the message names the database and
                that process's pid.
            ConfigError: The lock file cannot be created (names the path).
        """
        if self._fd is not None or fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the server lock {self.path}: {exc.strerror or exc}; "
                "give --db a folder this user can write"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_pid(fd)
            os.close(fd)
            raise DatabaseInUse(
                f"the job database {self.db_path} is already served by another llmgs serve "
                f"(pid {owner if owner is not None else 'unknown'}); stop that server first, "
                "or give this one its own --db"
            ) from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race with a new owner)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    """The pid the owner wrote, or None when it is not (yet) there."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None
