"""The run directory of a solve run: ``runs/<timestamp>-<task>/``.

It holds ``result.json`` (the :class:`SolveResult`), ``events.jsonl`` (every event, one JSON
object per line, see :mod:`agent.events`), ``best_program.dsl``, ``best_program.py`` and
``worst_instance.gif`` (the best program on the instance where it does worst). The root is
``./runs`` unless ``$LLMGS_RUNS_DIR`` or an explicit folder says otherwise.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, TextIO

from agent.events import Event
from envs.task import Task

RUNS_ENV = "LLMGS_RUNS_DIR"
RESULT_FILE = "result.json"
EVENTS_FILE = "events.jsonl"


def runs_root(root: str | Path | None = None) -> Path:
    """The folder that holds the run directories."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(RUNS_ENV)
    return Path(env).expanduser() if env else Path("runs")


class RunDir:
    """One run's folder; call it with an event to append the event to ``events.jsonl``.

    Events received before :meth:`open` (while the task is being matched) are kept and written
    when it opens.

    Args:
        root: Folder holding run directories (see :func:`runs_root`).
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = runs_root(root)
        self.path: Path | None = None
        self._file: TextIO | None = None
        self._pending: list[Event] = []

    def open(self, task_id: str) -> Path:
        """Create ``<root>/<UTC timestamp>-<task name>/`` and flush the pending events."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        base = f"{stamp}-{task_id.split('/', 1)[-1]}"
        self.root.mkdir(parents=True, exist_ok=True)
        path, k = self.root / base, 1
        while path.exists():
            k += 1
            path = self.root / f"{base}-{k}"
        path.mkdir()
        self.path = path
        self._file = (path / EVENTS_FILE).open("a", encoding="utf-8")
        for event in self._pending:
            self(event)
        self._pending.clear()
        return path

    def __call__(self, event: Event) -> None:
        if self._file is None:
            self._pending.append(event)
            return
        self._file.write(json.dumps(event, default=str) + "\n")
        self._file.flush()

    def save(self, result_json: str, program: str, python: str) -> None:
        """Write the result and the best program as DSL and Python."""
        if self.path is None:
            return
        (self.path / RESULT_FILE).write_text(result_json + "\n", encoding="utf-8")
        (self.path / "best_program.dsl").write_text(program + "\n", encoding="utf-8")
        (self.path / "best_program.py").write_text(python, encoding="utf-8")

    def save_gif(self, task: Task, program: str, instance: int) -> Path | None:
        """Animate ``program`` on one instance as ``worst_instance.gif``; None if unsupported."""
        if self.path is None or not program:
            return None
        out = self.path / "worst_instance.gif"
        if task.domain == "karel" and hasattr(task, "initial_world"):
            from envs.karel.render import save_gif

            return save_gif(task, program, out, instance, cell=24)  # type: ignore[arg-type]
        if task.domain == "minigrid" and hasattr(task, "frames"):
            from envs.minigrid.render import render_rollout

            return render_rollout(task, program, instance, out, tile_size=24)  # type: ignore[arg-type]
        return None

    def close(self) -> None:
        """Close the event file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def info(self) -> dict[str, Any]:
        """Where things were written."""
        return {"path": str(self.path) if self.path else None}
