"""The one event type: its JSON form, the emitter's stamps, the solve's stage stamp."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.events import StageEmitter
from search.progress import Event, EventEmitter

_names = st.text(min_size=1, max_size=20)
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.floats(allow_nan=False, allow_infinity=False))  # fmt: skip
_fields = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(lambda k: k not in ("event", "time")), _values
)


@given(_names, st.floats(min_value=0, max_value=4e9), _fields)
def test_the_json_form_reads_back_to_the_same_event(name: str, when: float, fields: dict) -> None:
    event = Event(name, when, fields)
    line = json.dumps(event.to_dict())
    assert Event.from_dict(json.loads(line)) == event


def test_the_json_form_is_name_time_then_fields_in_order() -> None:
    event = Event("best_updated", 12.5, {"method": "shc", "best_return": 0.5})
    assert list(event.to_dict()) == ["event", "time", "method", "best_return"]


_NOT_EVENTS = [
    {},
    {"event": "x"},
    {"time": 1.0},
    {"event": 3, "time": 1.0},
    {"event": "x", "time": "noon"},
    {"event": "x", "time": True},
]


@pytest.mark.parametrize("data", _NOT_EVENTS)
def test_a_dict_that_is_no_event_is_refused(data: dict) -> None:
    with pytest.raises(ValueError, match="not an event"):
        Event.from_dict(data)


def test_the_emitter_stamps_every_event_and_feeds_every_sink() -> None:
    first: list[dict] = []
    second: list[dict] = []
    emit = EventEmitter([first.append, None, second.append], method="shc", task="karel/DoorKey")
    event = emit("best_updated", evaluations=3, best_return=0.25)
    assert first == second == [event.to_dict()]
    assert list(first[0]) == ["event", "time", "method", "task", "evaluations", "best_return"]
    assert first[0]["event"] == "best_updated" and math.isfinite(first[0]["time"])
    later: list[dict] = []
    emit.add_sink(later.append)
    emit("run_finished")
    assert [e["event"] for e in first] == ["best_updated", "run_finished"]
    assert [e["event"] for e in later] == ["run_finished"]


def test_the_solve_emitter_stamps_the_stage_running_at_each_event() -> None:
    seen: list[dict] = []
    emit = StageEmitter([seen.append])
    emit("solve_started", description="open the door")
    emit.stage = "generate"
    emit("llm_request", round=0, sample=0, of=2)
    assert [(e["event"], e["stage"]) for e in seen] == [
        ("solve_started", "start"),
        ("llm_request", "generate"),
    ]
    assert list(seen[1]) == ["event", "time", "stage", "round", "sample", "of"]
    assert emit.stage == "generate"
