"""Run observability: the one event type, its emitter, the JSONL event log and the progress bar.

An :class:`Event` is one thing that happened in a run: a name, a Unix time and named fields.
Its JSON form (:meth:`Event.to_dict`, an :data:`EventDict`) is what every sink receives, what
``events.jsonl`` holds one per line and what the HTTP service streams: ``{"event": name,
"time": t, **fields}``. An :class:`EventEmitter` builds the events of one run, stamps each with
the run's fixed fields (a search's method, task and seed; a solve's current stage) and hands
it to every sink. Search and :mod:`agent.events` (the solve's events) share both.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

EventDict = dict[str, Any]
"""An :class:`Event` in its JSON form, ``{"event": name, "time": t, **fields}``."""

OnEvent = Callable[[EventDict], None]
"""A sink: receives the JSON form of every event as it happens."""


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run.

    Attributes:
        name: What happened (``best_updated``, ``stage_started``, ...).
        time: When, in Unix seconds.
        fields: Its data (JSON-ready values), in the order they were given.
    """

    name: str
    time: float
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> EventDict:
        """The JSON form: ``{"event": name, "time": time, **fields}`` (a new dict)."""
        return {"event": self.name, "time": self.time, **self.fields}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Read the JSON form back (a line of ``events.jsonl``).

        Raises:
            ValueError: ``data`` has no string ``event`` or no number ``time``.
        """
        name, when = data.get("event"), data.get("time")
        if not isinstance(name, str) or isinstance(when, bool) or not isinstance(when, int | float):
            raise ValueError(f"not an event (needs a string 'event' and a number 'time'): {data!r}")
        fields = {k: v for k, v in data.items() if k not in ("event", "time")}
        return cls(name, float(when), fields)


class EventEmitter:
    """Builds the events of one run, stamps them and hands their JSON form to every sink.

    Args:
        sinks: Callables receiving each event's JSON form (None entries are skipped).
        **stamp: Fields written into every event, after ``event`` and ``time`` and before the
            event's own data; :attr:`stamp` may be changed between events.
    """

    def __init__(self, sinks: Iterable[OnEvent | None], **stamp: Any) -> None:
        self.sinks = [s for s in sinks if s is not None]
        self.stamp = stamp

    def __call__(self, name: str, **data: Any) -> Event:
        """Emit the event ``name`` with ``data``; returns it."""
        event = Event(name, time.time(), {**self.stamp, **data})
        payload = event.to_dict()
        for sink in self.sinks:
            sink(payload)
        return event

    def add_sink(self, sink: OnEvent) -> None:
        """Send later events to ``sink`` too."""
        self.sinks.append(sink)


class EventLog:
    """Appends events as JSON lines to ``<run_dir>/events.jsonl`` (flushed per event)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._failed = False

    def __call__(self, event: EventDict) -> None:
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
