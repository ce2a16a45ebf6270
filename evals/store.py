"""The results of a suite on disk: ``rows.jsonl`` (append-only) and ``results.sqlite``.

``rows.jsonl`` is the record: one JSON row per finished cell, appended and flushed as each cell
finishes, so a killed suite loses only the cells that were running. When a cell is redone (a
failed cell, or a cell whose settings changed), its newer row supersedes the older one.
``results.sqlite`` mirrors the latest row of every cell in a ``rows`` table with the columns
reports query (and the full row as JSON); it is rebuilt from ``rows.jsonl`` when missing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from envs import ConfigError

ROWS_FILE = "rows.jsonl"
DB_FILE = "results.sqlite"
SUITE_FILE = "suite.yaml"

#: Columns of the ``rows`` table besides the full JSON row.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "TEXT PRIMARY KEY"), ("fingerprint", "TEXT"), ("suite", "TEXT"), ("task", "TEXT"),
    ("method", "TEXT"), ("kind", "TEXT"), ("backend", "TEXT"), ("seed", "INTEGER"),
    ("budget", "INTEGER"), ("status", "TEXT"), ("reason", "TEXT"), ("final_return", "REAL"),
    ("solved", "INTEGER"), ("evaluations", "INTEGER"), ("evals_to_solve", "INTEGER"),
    ("pre_search_return", "REAL"), ("acceptance_rate", "REAL"), ("llm_calls", "INTEGER"),
    ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"), ("cost_usd", "REAL"),
    ("wall_s", "REAL"), ("finished_at", "TEXT"), ("heldout_return", "REAL"),
    ("seconds_to_solve", "REAL"), ("code", "TEXT"),
)  # fmt: skip


class ResultStore:
    """Rows of one suite run folder.

    Args:
        folder: The results folder (created when missing).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows_path = self.folder / ROWS_FILE
        self.db_path = self.folder / DB_FILE

    def read_rows(self) -> list[dict[str, Any]]:
        """The latest row of every cell, in the order cells first finished.

        A torn last line (the process was killed mid-write) is ignored.
        """
        latest: dict[str, dict[str, Any]] = {}
        if not self.rows_path.exists():
            return []
        for line in self.rows_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # only a killed write leaves a partial line; that cell is redone
            latest[row["key"]] = row
        return list(latest.values())

    def append(self, row: dict[str, Any]) -> None:
        """Append one row to ``rows.jsonl`` (flushed to disk) and upsert it into SQLite."""
        torn = self._ends_torn()
        with self.rows_path.open("a", encoding="utf-8") as fh:
            # After a kill mid-write the file may end without a newline: end that torn line
            # first, or this row would be glued to it and lost.
            fh.write(("\n" if torn else "") + json.dumps(row, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with self._connect() as db:
            _upsert(db, [row])

    def _ends_torn(self) -> bool:
        if not self.rows_path.exists() or self.rows_path.stat().st_size == 0:
            return False
        with self.rows_path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"

    def sync(self) -> None:
        """Rebuild ``results.sqlite`` from ``rows.jsonl``."""
        rows = self.read_rows()
        with self._connect() as db:
            db.execute("DELETE FROM rows")
            _upsert(db, rows)

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query on ``results.sqlite`` (table ``rows``) and return dict rows.

        Example:
            >>> store.query("SELECT method, AVG(final_return) AS r FROM rows GROUP BY method")
        """
        if not self.db_path.exists():
            self.sync()
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, tuple(params))]

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            cols = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
            db.execute(f"CREATE TABLE IF NOT EXISTS rows ({cols}, json TEXT)")
            # A store written before a column was added gets it (empty for its old rows).
            have = {r[1] for r in db.execute("PRAGMA table_info(rows)")}
            for name, kind in COLUMNS:
                if name not in have:
                    db.execute(f"ALTER TABLE rows ADD COLUMN {name} {kind}")
            yield db
            db.commit()
        except sqlite3.DatabaseError as err:
            if type(err) is not sqlite3.DatabaseError:
                raise  # a bad query (OperationalError, ...) is the caller's, not damage
            raise ConfigError(
                f"{self.db_path} is damaged ({err}); it only indexes {self.rows_path.name}: "
                "delete it and it is rebuilt from there on the next read"
            ) from None
        finally:
            db.close()


def _upsert(db: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> None:
    names = [name for name, _ in COLUMNS] + ["json"]
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT OR REPLACE INTO rows ({', '.join(names)}) VALUES ({marks})"
    for row in rows:
        values = [_column(row.get(name)) for name, _ in COLUMNS]
        db.execute(sql, [*values, json.dumps(row, sort_keys=True)])


def _column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
