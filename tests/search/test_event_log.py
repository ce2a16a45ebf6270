"""The one writer of events.jsonl: search's EventLog, which a solve's RunDir writes through too.

Crash safety: a run killed mid-write cuts short at most its own last line; the next writer drops
that partial line before appending, and the reader skips it.
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.pipeline import rundir as rundir_module
from agent.pipeline.rundir import RunDir
from envs.errors import ConfigError
from search.progress import EVENTS_FILE, Event, EventLog, _drop_cut_line, read_events

EVENTS = [
    {"event": "solve_started", "time": 1.5, "stage": "start", "description": "open the door"},
    {"event": "best_updated", "time": 2.0, "stage": "search", "best_return": 0.5, "k": None},
    {"event": "warning", "time": 3.25, "stage": "verify", "message": "ünïcode", "path": Path("x")},
]


class FullDisk:
    """A file whose every write fails as on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_one_file_name_one_writer() -> None:
    assert rundir_module.EVENTS_FILE == EVENTS_FILE == "events.jsonl"
    assert rundir_module.EventLog is EventLog


def test_a_run_folder_and_a_search_write_the_same_lines(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "search" / EVENTS_FILE)
    run = RunDir(tmp_path / "runs")
    run(EVENTS[0])  # before open: kept, then written first
    run.open("karel/DoorKey")
    for event in EVENTS:
        log(event)
    for event in EVENTS[1:]:
        run(event)
    log.close()
    run.close()
    assert run.path is not None
    written = (tmp_path / "search" / EVENTS_FILE).read_bytes()
    assert (run.path / EVENTS_FILE).read_bytes() == written
    lines = written.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{**e, "path": "x"} if "path" in e else e
                                                    for e in EVENTS]  # fmt: skip
    assert lines[0] == json.dumps(EVENTS[0])  # json.dumps' own form, one object a line


def test_a_second_log_appends_and_keeps_every_earlier_line(tmp_path: Path) -> None:
    path = tmp_path / EVENTS_FILE
    first = EventLog(path)
    first(EVENTS[0])
    first.close()
    before = path.read_bytes()
    second = EventLog(path)
    second(EVENTS[1])
    second.close()
    assert path.read_bytes().startswith(before)
    assert [e.name for e in read_events(path)] == ["solve_started", "best_updated"]


@pytest.mark.parametrize("cut", [1, 10, len(json.dumps(EVENTS[1])) - 1])
def test_a_line_cut_short_by_a_killed_run_is_dropped_before_the_next_append(
    tmp_path: Path, cut: int
) -> None:
    path = tmp_path / EVENTS_FILE
    whole = json.dumps(EVENTS[0]) + "\n"
    path.write_text(whole + json.dumps(EVENTS[1])[:cut], encoding="utf-8")
    assert [e.name for e in read_events(path)] == ["solve_started"]  # the reader skips it
    log = EventLog(path)
    log({"event": "run_started", "time": 4.0})
    log.close()
    assert path.read_text(encoding="utf-8") == whole + '{"event": "run_started", "time": 4.0}\n'


def test_a_file_holding_only_a_cut_line_is_emptied_and_a_complete_file_is_untouched(
    tmp_path: Path,
) -> None:
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"event": "x", "ti', encoding="utf-8")
    EventLog(cut).close()
    assert cut.read_bytes() == b""
    complete = tmp_path / "complete.jsonl"
    complete.write_text(json.dumps(EVENTS[0]) + "\n", encoding="utf-8")
    before = complete.read_bytes()
    EventLog(complete).close()
    assert complete.read_bytes() == before


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="ab{}", max_size=40), max_size=5),
    st.text(alphabet="ab{}", max_size=40),
    st.integers(min_value=1, max_value=8),
)
def test_only_the_cut_line_goes_however_long_the_lines(
    whole: list[str], cut: str, chunk: int
) -> None:
    kept = "".join(line + "\n" for line in whole)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / EVENTS_FILE
        path.write_text(kept + cut, encoding="utf-8")
        _drop_cut_line(path, chunk=chunk)  # a small chunk: lines longer than one read
        assert path.read_text(encoding="utf-8") == kept


_WRITER = """
import sys
import time
from pathlib import Path
from search.progress import EventLog

log = EventLog(Path(sys.argv[1]))
print("ready", flush=True)
for k in range(200):  # long lines, so that the kill may land inside one
    log({"event": "tick", "time": float(k), "k": k, "pad": "x" * 50_000})
time.sleep(60)
"""


def test_a_killed_writer_leaves_only_whole_lines_after_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / EVENTS_FILE
    for _ in range(2):  # the second writer appends after the first one's kill
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    EventLog(path).close()
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) > 2
    ticks = [json.loads(line)["k"] for line in lines[:-1]]
    assert ticks[0] == 0 and 0 in ticks[1:]  # both runs' events, every line whole


def test_the_reader_names_a_damaged_line_that_is_not_the_last(tmp_path: Path) -> None:
    path = tmp_path / EVENTS_FILE
    path.write_text(json.dumps(EVENTS[0]) + '\n{"event": "x", "ti\n' + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"events.jsonl, line 2, is not an event"):
        read_events(path)
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1, is not an event: not a JSON object"):
        read_events(path)
    path.write_text('{"time": 1.0}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        read_events(path)


def test_a_failed_write_is_reported_once_and_costs_only_the_log(tmp_path: Path) -> None:
    reports: list[str] = []

    def on_error(what: str, err: OSError) -> None:
        reports.append(f"{what}: {err.strerror}")
        log({"event": "warning", "time": 0.0})  # a warning event comes back here: dropped

    log = EventLog(tmp_path / EVENTS_FILE, on_error=on_error)
    log(EVENTS[0])
    log._file = FullDisk()  # type: ignore[assignment]
    for event in EVENTS:
        log(event)
    log.close()
    assert log.failed
    assert reports == [f"{tmp_path / EVENTS_FILE}: No space left on device"]
    assert [e.name for e in read_events(tmp_path / EVENTS_FILE)] == ["solve_started"]


def test_without_a_handler_a_failed_write_is_one_warning_on_stderr(tmp_path: Path, capsys) -> None:
    log = EventLog(tmp_path / EVENTS_FILE)
    log._file = FullDisk()  # type: ignore[assignment]
    log(EVENTS[0])
    log(EVENTS[1])
    log.close()
    err = capsys.readouterr().err
    assert err.count("warning: could not write") == 1 and "No space left on device" in err


def test_a_run_folder_reports_a_failed_event_write_through_warn(tmp_path: Path) -> None:
    warnings: list[str] = []
    run = RunDir(tmp_path)
    run.warn = warnings.append
    run.open("karel/Harvester")
    assert run._log is not None
    run._log._file = FullDisk()  # type: ignore[assignment]
    run(EVENTS[0])
    run(EVENTS[1])
    run.close()
    assert len(warnings) == 1 and "events.jsonl: No space left on device" in warnings[0]


_fields = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda k: k not in ("event", "time")),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=30),
        st.floats(allow_nan=False, allow_infinity=False),
    ),  # fmt: skip
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=12), _fields), max_size=6))
def test_what_the_log_writes_reads_back_as_the_same_events(
    items: list[tuple[str, dict]],
) -> None:
    events = [Event(name, float(i), fields) for i, (name, fields) in enumerate(items)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / EVENTS_FILE
        log = EventLog(path)
        for event in events:
            log(event.to_dict())
        log.close()
        assert read_events(path) == events
