"""DSL extractor, validate_dsl, acceptance statistics and trace feedback."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.conversion import AcceptanceStats, convert_answer, extract_dsl, tally
from agent.revision_feedback import TAG, format_trace
from agent.tools import python_to_dsl, validate_dsl
from envs.dsl import parse, preorder
from envs.errors import ConfigError, ConversionError
from envs.task import Rollout, TraceStep

LOOP = "DEF run m( WHILE c( frontIsClear c) w( move w) m)"
DEEP = "DEF run m( " + "IF c( frontIsClear c) i( " * 60 + "move" + " i)" * 60 + " m)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DEF run m( move m)", "DEF run m( move m)"),
        ("`DEF run m( move(); turnLeft(); m)`", "DEF run m( move turnLeft m)"),
        ("DEF run m( karel.move turn_left m)", "DEF run m( move turnLeft m)"),
        ("DEF run m( IF c( not c( true c) c) i( move i) m)",
         "DEF run m( IF c( False c) i( move i) m)"),
        ("DEF run m( WHILE c( True c) w( move w) m)", "DEF run m( WHILE c( True c) w( move w) m)"),
        ("DEF run m( WHILE c( frontIsClear c) w( move", LOOP),
        ("DEF run m( WHILE c( frontIsClear c) i( move e) m)", LOOP),
        ("DEF run m( WHILE frontIsClear { move } m)", LOOP),
        ("DEF run m( IF c( not c( markersPresent c) c) i( move i) m)",
         "DEF run m( IF c( not c( markersPresent c) c) i( move i) m)"),
        ("DEF run m( IF c( and c( frontIsClear c) c( leftIsClear c) c) i( move i) m)",
         "DEF run m( IF c( and c( frontIsClear c) c( leftIsClear c) c) i( move i) m)"),
        ("DEF run m( REPEAT 3 r( move r) m)", "DEF run m( REPEAT R=3 r( move r) m)"),
    ],
)  # fmt: skip
def test_extractor_repairs(text: str, expected: str) -> None:
    assert extract_dsl(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("no program here", "no_dsl"),
        ("DEF run m( m)", "empty_program"),
        ("DEF run m( WHILE c( frontIsClear c) w( w) m)", "dsl_syntax"),
        ("DEF run m( REPEAT r( move r) m)", "dsl_syntax"),
        ("DEF run m( IF c( move c) i( move i) m)", "dsl_syntax"),
        (
            "DEF run m( " + "IF c( frontIsClear c) i( " * 120 + "move" + " i)" * 120 + " m)",
            "too_deep",
        ),
    ],
)
def test_extractor_rejections(text: str, why: str) -> None:
    with pytest.raises(ConversionError) as info:
        extract_dsl(text)
    assert info.value.reason == why


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["DEF", "run", "m(", "m)", "c(", "c)", "w(", "w)", "i(", "i)", "e(", "e)", "r(", "r)",
             "WHILE", "IF", "IFELSE", "ELSE", "REPEAT", "R=3", "R=40", "not", "and", "or", "move",
             "turnLeft()", "frontIsClear", "markersPresent", "True", "(", ")", "{", "}", "x", ";",
             "front_object_type", "h(", "lava", "h)", "forward", "`"]
        ),
        max_size=40,
    ),
    st.sampled_from(["karel", "minigrid"]),
)  # fmt: skip
def test_fuzz_extractor(tokens: list[str], domain: str) -> None:
    try:
        result = extract_dsl(" ".join(tokens), domain)
    except ConversionError:
        return
    assert str(parse(result, domain)) == result


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_extractor_text(text: str) -> None:
    try:
        extract_dsl(text)
    except ConversionError:
        pass


def test_validate_dsl_ok_and_error_with_caret() -> None:
    ok = validate_dsl("DEF  run m(\n move m)")
    assert ok.ok and ok.program == "DEF run m( move m)" and "valid" in str(ok)
    bad = validate_dsl("DEF run m(\n  WHILE c( frontIsClear c)\n  w( jump w) m)")
    assert not bad.ok and bad.program is None
    assert bad.token == "jump" and bad.position == 8
    assert "expected an action" in bad.message
    shown, caret = bad.message.splitlines()[-2:]
    assert shown[caret.index("^") :].startswith("jump")
    end = validate_dsl("DEF run m( move")
    assert end.token == "" and "end of the program" in end.message
    minigrid = validate_dsl("DEF run m( move m)", "minigrid")
    assert not minigrid.ok and "forward" in minigrid.expected
    with pytest.raises(ConfigError):
        validate_dsl("DEF run m( move m)", "atari")


def test_tools_package_exports_plain_functions() -> None:
    assert python_to_dsl("move()") == "DEF run m( move m)"


def test_acceptance_statistics() -> None:
    answers = [
        "```python\ndef run():\n    move()\n```",
        "```python\ndef run():\n    while True:\n        move()\n```\nDEF run m( move m)",
        "```python\nx = 1\n```",
        "I cannot do that.",
    ]
    outcomes = [convert_answer(a) for a in answers]
    assert [o.source for o in outcomes] == ["python", "dsl", None, None]
    stats = tally(outcomes)
    assert (stats.total, stats.accepted, stats.rejected) == (4, 2, 2)
    assert stats.rate == 0.5
    assert dict(stats.by_reason) == {"variable": 1, "no_dsl": 1}
    assert dict(stats.by_source) == {"python": 1, "dsl": 1}
    merged = stats.merge(tally([outcomes[0]]))
    assert merged.total == 5 and merged.by_source["python"] == 2
    data = json.loads(json.dumps(merged.to_dict()))
    assert data["acceptance_rate"] == pytest.approx(3 / 5)
    assert AcceptanceStats().rate == 0.0
    python_only = convert_answer(answers[1], strategy="python")
    assert not python_only.accepted and python_only.reason == "while_true"
    assert convert_answer(answers[1], strategy="dsl").program == "DEF run m( move m)"
    with pytest.raises(ConfigError):
        convert_answer("x", strategy="nope")  # type: ignore[arg-type]


def test_format_trace_tags_the_executing_line() -> None:
    program = parse(
        "DEF run m( WHILE c( frontIsClear c) w( move w) IF c( not c( markersPresent c) c) "
        "i( putMarker i) m)"
    )
    nodes = preorder(program)
    loc = {str(n): k for k, n in enumerate(nodes)}
    steps = (
        TraceStep("perception", "frontIsClear", True, (1, 1), "E", 0.0, loc["frontIsClear"], 1),
        TraceStep("action", "move", None, (1, 2), "E", 0.25, loc["move"], 2),
        TraceStep("perception", "frontIsClear", False, (1, 2), "E", 0.0, loc["frontIsClear"], 3),
        TraceStep("perception", "markersPresent", False, (1, 2), "E", 0.0,
                  loc["markersPresent"], 4),
        TraceStep("action", "putMarker", None, (1, 2), "E", -1.0, loc["putMarker"], 5),
    )  # fmt: skip
    rollout = Rollout(0, -0.75, True, False, 5, steps)
    text = format_trace(rollout, program, "#####\n#>..#\n#####", "karel", True)
    assert "#>..#" in text and "Total return: -0.75" in text
    tagged = [line for line in text.splitlines() if TAG in line]
    assert len(tagged) == 5
    assert "while frontIsClear():" in tagged[0] and "move()" in tagged[1]
    assert "if not markersPresent():" in tagged[3] and "putMarker()" in tagged[4]
    plain = format_trace(rollout, program, "grid", "karel", False, max_steps=2)
    assert TAG not in plain and "3 more steps" in plain and "reward +0.25" in plain
    full = format_trace(rollout, program, "grid", "karel", True, full_program=True)
    assert full.count(TAG) == 5 and full.count("def run():") >= 6


def test_format_trace_minigrid_arguments() -> None:
    program = parse("DEF run m( IF c( front_object_type h( lava h) c) i( left i) m)", "minigrid")
    step = TraceStep("perception", "front_object_type h( lava h)", True, (1, 1), "E", 0.0, 2, 1)
    text = format_trace(Rollout(0, 0.0, False, False, 1, (step,)), program, "", "minigrid", True)
    assert 'front_object_type("lava") -> True' in text
