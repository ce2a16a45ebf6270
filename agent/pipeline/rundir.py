"""The run directory of a solve run: ``runs/<timestamp>-<task>/``.

It holds ``result.json`` (the :class:`SolveResult`), ``events.jsonl`` (every event, one JSON
object per line, see :mod:`agent.events`), ``best_program.dsl``, ``best_program.py`` and
``worst_instance.gif`` (the best program on the instance where it does worst). The root is
``./runs`` unless ``$LLMGS_RUNS_DIR`` or an explicit folder says otherwise.

Only creating the folder may fail the run (before any work, with a :class:`ConfigError` that
names the folder and what to do). Every later write is best effort: a full disk or a folder
made read-only mid-run costs the files, never the result, and each failure is reported once
through :attr:`RunDir.warn` (by default printed on stderr as ``warning: ...``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agent.events import EventDict
from envs.errors import ConfigError
from envs.task import Task
from search.progress import EVENTS_FILE, EventLog

RUNS_ENV = "LLMGS_RUNS_DIR"
RESULT_FILE = "result.json"


def runs_root(root: str | Path | None = None) -> Path:
    """The folder that holds the run directories."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(RUNS_ENV)
    return Path(env).expanduser() if env else Path("runs")


class RunDir:
    """One run's folder; call it with an event to append the event to ``events.jsonl``.

    The events go through :class:`search.progress.EventLog`, the one writer of that file
    (crash-safe appends; a failed write is reported once through :attr:`warn`). Events
    received before :meth:`open` (while the task is being matched) are kept and written when
    it opens.

    Args:
        root: Folder holding run directories (see :func:`runs_root`).
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = runs_root(root)
        self.path: Path | None = None
        self._log: EventLog | None = None
        self._pending: list[EventDict] = []
        self.warn: Callable[[str], None] | None = None
        """Called with a message when a best-effort write fails; None prints it on stderr."""

    def open(self, task_id: str) -> Path:
        """Create ``<root>/<UTC timestamp>-<task name>/`` and flush the pending events.

        Raises:
            ConfigError: The folder cannot be created (the root is a file, read-only, or the
                disk is full); the message names it and says how to choose another.
        """
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        base = f"{stamp}-{task_id.split('/', 1)[-1]}"
        path, k = self.root / base, 1
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            while path.exists():
                k += 1
                path = self.root / f"{base}-{k}"
            path.mkdir()
            self._log = EventLog(path / EVENTS_FILE, on_error=self._failed)
        except OSError as err:
            why = err.strerror or str(err)
            if self.root.exists() and not self.root.is_dir():
                why = f"{self.root} is a file, not a folder"
            raise ConfigError(
                f"cannot create the run folder {path}: {why}; make "
                f"{self.root} a writable folder, choose another with --runs-dir (or "
                f"${RUNS_ENV}), or pass --no-save"
            ) from None
        self.path = path
        for event in self._pending:
            self(event)
        self._pending.clear()
        return path

    def _failed(self, what: str, err: OSError) -> None:
        message = f"could not write {what}: {err.strerror or err} (the result is not affected)"
        if self.warn is not None:
            self.warn(message)
        else:
            print(f"warning: {message}", file=sys.stderr, flush=True)

    def __call__(self, event: EventDict) -> None:
        if self._log is None:
            self._pending.append(event)
        else:
            self._log(event)

    def save(self, result_json: str, program: str, python: str) -> None:
        """Write the result and the best program as DSL and Python (best effort: a failed
        write is reported through :attr:`warn`, the caller still has the result)."""
        if self.path is None:
            return
        files = (
            (RESULT_FILE, result_json + "\n"),
            ("best_program.dsl", program + "\n"),
            ("best_program.py", python),
        )
        for name, text in files:
            try:
                (self.path / name).write_text(text, encoding="utf-8")
            except OSError as err:
                self._failed(str(self.path / name), err)

    def save_gif(self, task: Task, program: str, instance: int) -> Path | None:
        """Animate ``program`` on one instance as ``worst_instance.gif``.

        Best effort: returns None when the task cannot draw (:meth:`Task.render_episode`) or
        the write failed (which is reported through :attr:`warn`).
        """
        if self.path is None or not program:
            return None
        out = self.path / "worst_instance.gif"
        try:
            return task.render_episode(program, out, instance, cell=24)
        except OSError as err:
            self._failed(str(out), err)
        return None

    def close(self) -> None:
        """Close the event file (a failure to flush it is reported, not raised)."""
        if self._log is not None:
            log, self._log = self._log, None
            log.close()
