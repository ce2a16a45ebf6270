"""Run observability: the JSONL event log, event fan-out and the tqdm progress bar."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

Event = dict[str, Any]
OnEvent = Callable[[Event], None]


class EventLog:
    """Appends events as JSON lines to ``<run_dir>/events.jsonl`` (flushed per event)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._failed = False

    def __call__(self, event: Event) -> None:
        if self._failed:
            return
        try:
            self._file.write(json.dumps(event) + "\n")
            self._file.flush()
        except OSError as err:  # a full disk costs the log, never the search
            self._failed = True
            print(
                f"warning: could not write {self.path}: {err.strerror or err} (the search "
                "goes on without its event log)",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Close the file (a failure to flush it was or is reported, not raised)."""
        try:
            self._file.close()
        except OSError:
            if not self._failed:
                self._failed = True
                print(f"warning: could not write {self.path}", file=sys.stderr, flush=True)


class Emitter:
    """Stamps events with a time and the run's identity and hands them to every sink."""

    def __init__(self, sinks: list[OnEvent], **identity: Any) -> None:
        self.sinks = sinks
        self.identity = identity

    def __call__(self, name: str, **data: Any) -> None:
        event: Event = {"event": name, "time": time.time(), **self.identity, **data}
        for sink in self.sinks:
            sink(event)


class Progress:
    """A tqdm bar over the budget: best return, current k, evaluations/s and ETA.

    Off when ``enabled`` is False or stderr is not a terminal, so logs and CI stay clean.
    """

    def __init__(self, total: int, initial: int, enabled: bool, desc: str) -> None:
        self.active = enabled and sys.stderr.isatty()
        self._bar = (
            tqdm(total=total, initial=initial, desc=desc, unit="eval", dynamic_ncols=True)
            if self.active
            else None
        )
        self._shown = initial
        self._postfix: dict[str, str] = {}

    def count(self, n: int) -> None:
        """The evaluation counter reached ``n``."""
        if self._bar is not None and n - self._shown >= 64:
            self._bar.update(n - self._shown)
            self._shown = n

    def note(self, **fields: Any) -> None:
        """Update the fields shown beside the bar (e.g. best=0.5, k=256)."""
        if self._bar is None:
            return
        for key, value in fields.items():
            self._postfix[key] = f"{value:.4g}" if isinstance(value, float) else str(value)
        self._bar.set_postfix(self._postfix, refresh=False)

    def close(self, n: int) -> None:
        """Show the final count and close the bar."""
        if self._bar is not None:
            self._bar.update(n - self._shown)
            self._bar.close()
