"""Runs the cells of a suite in parallel and resumes an interrupted suite.

Each finished cell is appended to ``rows.jsonl`` and ``results.sqlite`` at once (see
:mod:`evals.store`), so a killed suite keeps every finished cell. On the next run, a cell whose
latest row has the same key and fingerprint (settings and search code, see
:meth:`~evals.suite.Cell.matches`) and the status ``ok`` (or ``skipped`` while its backend is
still unavailable) is not run again; failed cells and cells whose settings or search code
changed are. Rerunning a finished suite therefore does no work.

Example:
    >>> from evals.suite import load_suite
    >>> from evals.runner import run_suite
    >>> summary = run_suite(load_suite("smoke"), "out/smoke", workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from envs import ConfigError
from evals.cells import cell_unavailable, run_cell
from evals.store import ResultStore
from evals.suite import Cell, Suite
from search import Executor, as_completed, check_executor

OnRow = Callable[[dict[str, Any]], None]
RUNS_FILE = "runs.jsonl"


@dataclass(frozen=True)
class RunSummary:
    """What one invocation of :func:`run_suite` did.

    Attributes:
        suite: Suite name.
        out_dir: Results folder.
        total: Cells in the suite.
        already_done: Cells skipped because a valid row already existed.
        ran: Cells executed now.
        ok: Of those, finished normally.
        skipped: Of those, recorded as skipped (backend unavailable).
        failed: Of those, failed (retried next run).
    """

    suite: str
    out_dir: str
    total: int
    already_done: int
    ran: int
    ok: int
    skipped: int
    failed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def is_done(row: dict[str, Any] | None, cell: Cell) -> bool:
    """Whether ``row`` already records ``cell`` so that it need not run again."""
    if row is None or not cell.matches(row):
        return False
    if row.get("status") == "ok":
        return True
    # A skipped cell is redone once its backend becomes usable (e.g. a key was set).
    return row.get("status") == "skipped" and cell_unavailable(cell) is not None


def pending_cells(
    suite: Suite, store: ResultStore, methods: Sequence[str] | None = None
) -> tuple[list[Cell], int]:
    """The cells still to run (of ``methods`` only, when given), and how many are done.

    Raises:
        ConfigError: ``methods`` names a method the suite does not have.
    """
    rows = {row["key"]: row for row in store.read_rows()}
    todo = [cell for cell in suite.cells() if not is_done(rows.get(cell.key), cell)]
    done = len(suite.cells()) - len(todo)
    if methods is not None:
        unknown = set(methods) - {m.name for m in suite.methods}
        if unknown:
            raise ConfigError(f"suite {suite.name!r} has no method {', '.join(sorted(unknown))}")
        todo = [cell for cell in todo if cell.method.name in methods]
    return todo, done


def default_out_dir(suite: Suite) -> Path:
    """``evals/results/<suite name>`` under the current folder."""
    return Path("evals") / "results" / suite.name


def run_suite(
    suite: Suite,
    out_dir: str | Path | None = None,
    *,
    workers: int = 1,
    executor: Executor = "process",
    llm: Any = None,
    on_row: OnRow | None = None,
    methods: Sequence[str] | None = None,
) -> RunSummary:
    """Run every pending cell of a suite and record one row per cell.

    Args:
        suite: The suite.
        out_dir: Results folder; None for :func:`default_out_dir`.
        workers: Cells run at once (processes, or Ray CPUs).
        executor: ``"process"`` (local process pool) or ``"ray"`` (a Ray cluster; a local
            one is started when none is connected).
        llm: A ready LLM (e.g. ``ScriptedLLM``) for every model cell; runs in this process.
        on_row: Called with each new row after it is stored (progress output).
        methods: Run only the cells of these methods (the others stay pending).

    Returns:
        The summary of this invocation.

    Raises:
        ConfigError: workers < 1, an unknown executor, or Ray missing.
        KeyboardInterrupt: Interrupted; finished cells are stored and resume next time.
    """
    check_executor(executor, workers)
    store = ResultStore(out_dir if out_dir is not None else default_out_dir(suite))
    if suite.path is not None:
        (store.folder / "suite.yaml").write_text(
            Path(suite.path).read_text(encoding="utf-8"), encoding="utf-8"
        )
    todo, done = pending_cells(suite, store, methods)
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    started, run_id = _now(), uuid.uuid4().hex[:12]
    # Logged at the start too, so that a killed invocation still shows up in the report.
    _log_run(store.folder, "started", (started, run_id), workers, executor, {"pending": len(todo)})

    def record(row: dict[str, Any]) -> None:
        store.append(row)
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if on_row is not None:
            on_row(row)

    try:
        if todo and llm is not None:
            # A ready LLM object lives in this process: its cells run here, in order.
            for cell in todo:
                record(run_cell(cell, llm))
        elif todo:
            # Ctrl-C stops the workers at once; rows of finished cells are already on disk.
            for _, row in as_completed(run_cell, todo, workers=workers, executor=executor):
                record(row)
    except KeyboardInterrupt:
        # Logged, so the report says "interrupted" rather than "killed" (a kill logs nothing).
        _log_run(store.folder, "interrupted", (started, run_id), workers, executor,
                 {"ran": sum(counts.values())})  # fmt: skip
        raise
    summary = RunSummary(
        suite=suite.name, out_dir=str(store.folder), total=len(suite.cells()),
        already_done=done, ran=sum(counts.values()), ok=counts["ok"],
        skipped=counts["skipped"], failed=counts["failed"],
    )  # fmt: skip
    _log_run(store.folder, "finished", (started, run_id), workers, executor, summary.to_dict())
    return summary


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _log_run(
    folder: Path, event: str, run: tuple[str, str], workers: int, ex: str, data: dict[str, Any]
) -> None:
    """Append the start, end or interruption of this invocation (command, dates, machine) to
    ``runs.jsonl``."""
    entry = {
        "event": event, "run_id": run[1], "started_at": run[0],
        "at": _now(), "argv": sys.argv, "workers": workers, "executor": ex,
        "cpu_count": os.cpu_count(), "machine": platform.platform(),
        "python": platform.python_version(), **data,
    }  # fmt: skip
    with (folder / RUNS_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
