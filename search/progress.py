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
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from envs.errors import ConfigError

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


EVENTS_FILE = "events.jsonl"
"""The event log's name in a run's folder (a search's ``run_dir``, a solve's run directory)."""

OnWriteError = Callable[[str, OSError], None]
"""Told once, with the file and the error, when the event log cannot be written."""


class EventLog:
    """The one writer of ``events.jsonl``: appends each event's JSON form as one line.

    Search (``SearchConfig.run_dir``) and a solve's run directory
    (:class:`agent.pipeline.rundir.RunDir`) both write through it. Each event is one ``write``
    of a whole line, then a flush, on a file opened for appending: a run killed mid-write can
    cut short only its own last line. Opening a log whose last line was cut short that way
    drops the partial line first, so that the next event starts a line of its own and no
    line before it is ever damaged; :func:`read_events` skips such a last line.

    A write that fails (a full disk) costs the log, never the run: ``on_error`` is told once
    (by default a warning on stderr) and later events are dropped.

    Args:
        path: The file; its folder is created.
        on_error: Told ``(file, error)`` of the first failed write; None prints a warning.

    Raises:
        OSError: The folder or the file cannot be created or opened.
    """

    def __init__(self, path: Path, on_error: OnWriteError | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.on_error = on_error
        _drop_cut_line(path)
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._failed = False

    @property
    def failed(self) -> bool:
        """A write failed; later events are dropped."""
        return self._failed

    def __call__(self, event: EventDict) -> None:
        if self._failed:
            return
        try:
            # default=str: a field that is not JSON (a Path, say) is logged as text, not fatal
            self._file.write(json.dumps(event, default=str) + "\n")
            self._file.flush()
        except OSError as err:
            self._fail(err)

    def _fail(self, err: OSError) -> None:
        # Set first: on_error may emit a warning event, which comes back here and stops.
        self._failed = True
        if self.on_error is not None:
            self.on_error(str(self.path), err)
        else:
            print(
                f"warning: could not write {self.path}: {err.strerror or err} (the run goes "
                "on without its event log)",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Close the file (a failure to flush it was or is reported, not raised)."""
        try:
            self._file.close()
        except OSError as err:
            if not self._failed:
                self._fail(err)


def _drop_cut_line(path: Path, chunk: int = 1 << 16) -> None:
    """Cut a last line that a killed writer left without its newline (never a whole line)."""
    try:
        with path.open("rb") as fh:
            end = fh.seek(0, 2)
            if end == 0 or (fh.seek(end - 1), fh.read(1))[1] == b"\n":
                return
            keep, stop = 0, end
            while stop > 0:  # back from the end, a chunk at a time, to the last newline
                start = max(0, stop - chunk)
                fh.seek(start)
                piece = fh.read(stop - start)
                if b"\n" in piece:
                    keep = start + piece.rfind(b"\n") + 1
                    break
                stop = start
    except FileNotFoundError:
        return
    os.truncate(path, keep)


def read_events(path: Path) -> list[Event]:
    """The events of an ``events.jsonl``, skipping a last line that a killed run cut short.

    Raises:
        ConfigError: A line other than a cut-short last one is not an event (the message names
            the file and the line).
        OSError: The file cannot be read.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    # The piece after the last newline is "" in a complete log; otherwise it is the line a
    # killed run was writing, which is no event.
    lines = text.split("\n")[:-1]
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            events.append(Event.from_dict(data))
        except ValueError as err:
            raise ConfigError(f"{path}, line {number}, is not an event: {err}") from None
    return events


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
