"""Limits of the conversion paths (issue 17, items 2, 4, 5 and 6).

Every text path is linear in its input (hangs run in a subprocess under the test's timeout),
nests at most MAX_NESTING brackets with a ConversionError that says so, reads repeat counts of
any length without int() of the whole digit string, and counts each statement once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.conversion import convert_answer, extract_dsl, python_to_dsl
from agent.conversion.limits import MAX_INPUT_CHARS, MAX_STATEMENTS
from envs.dsl import nesting, parse
from envs.errors import ConversionError
from envs.limits import MAX_NESTING

REPO = Path(__file__).resolve().parents[2]
# Each input below took 60 s or more before the fix; linear paths need well under a second.
LINEAR_TIMEOUT_S = 30


def wrap(body: str) -> str:
    return "```python\ndef run():\n" + textwrap.indent(body, "    ") + "\n```"


# -- item 2: linear text paths ------------------------------------------------------------------
PATHOLOGICAL = {
    "dotted": "a." * (MAX_INPUT_CHARS // 2),
    "dotted_call": "a." * (MAX_INPUT_CHARS // 2 - 2) + "()",
    "dotted_spaced": "a.a " * (MAX_INPUT_CHARS // 4),
    "bracket_letters": "m " * (MAX_INPUT_CHARS // 2),
    "spaces_after_letter": "m" + " " * (MAX_INPUT_CHARS - 2) + "x",
    "repeat_spaces": "R" + " " * (MAX_INPUT_CHARS - 3) + "=x",
    "calls": "move(" * (MAX_INPUT_CHARS // 5),
    "digits": "R=" + "9" * (MAX_INPUT_CHARS - 2),
    "defs": "DEF " * (MAX_INPUT_CHARS // 4),
    "fences": "```\n" * (MAX_INPUT_CHARS // 4),
    "parens": "(" * MAX_INPUT_CHARS,
}


def test_every_text_path_is_linear_in_its_input() -> None:
    code = """
        import sys, time
        from agent.conversion import convert_answer
        from agent.pipeline.matching import match_task
        from envs.dsl import parse
        from envs.errors import DSLSyntaxError
        cases = {cases!r}
        for name, text in cases.items():
            for domain in ("karel", "minigrid"):
                for strategy in ("python", "dsl"):
                    convert_answer(text, domain, strategy)
                try:
                    parse(text, domain)
                except DSLSyntaxError:
                    pass
            match_task(text[:20000] + " open the door")
        print("ok")
    """
    proc = subprocess.run(
        [sys.executable, "-"],
        input=textwrap.dedent(code).format(cases=PATHOLOGICAL),
        capture_output=True,
        text=True,
        timeout=LINEAR_TIMEOUT_S * len(PATHOLOGICAL),
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_dotted_answer_is_rejected_quickly() -> None:
    # The example: a quadratic regular expression took 62 s to reject it.
    code = """
        from agent.conversion import extract_dsl
        from envs.errors import ConversionError
        try:
            extract_dsl("a." * 49000)
        except ConversionError as err:
            print(err.reason)
    """
    proc = subprocess.run(
        [sys.executable, "-"],
        input=textwrap.dedent(code),
        capture_output=True,
        text=True,
        timeout=LINEAR_TIMEOUT_S,
        cwd=REPO,
    )
    assert proc.stdout.strip() == "no_dsl", proc.stderr[-2000:]


def test_dotted_names_and_empty_calls_still_tokenise_as_before() -> None:
    assert extract_dsl("DEF run m( karel.move() self.agent.turn_left() m)") == (
        "DEF run m( move turnLeft m)"
    )
    text = "DEF run m( WHILE c( front_is_clear() c) w( move() w) m)"
    assert extract_dsl(text) == "DEF run m( WHILE c( frontIsClear c) w( move w) m)"
    with pytest.raises(ConversionError):
        extract_dsl("DEF run m( foo() m)")


# -- item 5: repeat counts in model text --------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "n"),
    [("9" * 4400, 19), ("1000000000", 19), ("25", 19), ("19", 19), ("007", 7), ("-3", 0)],
)
def test_extractor_clamps_repeat_counts_like_the_reference_normaliser(count: str, n: int) -> None:
    text = f"DEF run m( REPEAT R={count} r( move r) m)"
    assert extract_dsl(text) == f"DEF run m( REPEAT R={n} r( move r) m)"
    outcome = convert_answer(text)
    assert outcome.program == f"DEF run m( REPEAT R={n} r( move r) m)"


@pytest.mark.parametrize("count", ["\u0661\u0665", "\u0663", "\uff15"])
def test_extractor_refuses_non_ascii_digits(count: str) -> None:
    with pytest.raises(ConversionError):
        extract_dsl(f"DEF run m( REPEAT R={count} r( move r) m)")


def test_convert_answer_never_raises_on_a_huge_count_and_keeps_other_answers() -> None:
    answers = [
        "DEF run m( REPEAT R=" + "9" * 4400 + " r( move r) m)",
        "```python\ndef run():\n    for _ in range(" + "9" * 4400 + "):\n        move()\n```",
        "DEF run m( move m)",
    ]
    outcomes = [convert_answer(a) for a in answers]
    assert outcomes[0].program == "DEF run m( REPEAT R=19 r( move r) m)"
    assert outcomes[2].program == "DEF run m( move m)"


def test_convert_answer_reports_an_unexpected_converter_failure_as_a_rejection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import agent.conversion.acceptance as acceptance

    def broken(text: str, domain: str) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(acceptance, "python_to_dsl", broken)
    outcome = convert_answer("no program here at all")
    assert not outcome.accepted and outcome.reason in ("internal", "no_dsl")
    monkeypatch.setattr(acceptance, "extract_dsl", broken)
    outcome = convert_answer("DEF run m( move m)")
    assert outcome.reason == "internal" and "RecursionError" in (outcome.message or "")


# -- item 4: one nesting limit at the conversion boundary ---------------------------------------
@pytest.mark.parametrize("operands", [150, 495, 2000])
@pytest.mark.parametrize("op", ["and", "or"])
def test_long_flat_boolean_chains_are_refused_as_too_deep(op: str, operands: int) -> None:
    chain = f" {op} ".join(["frontIsClear()"] * operands)
    for body in (f"if {chain}:\n    move()", f"while {chain}:\n    move()"):
        with pytest.raises(ConversionError, match="nests") as err:
            python_to_dsl(wrap(body))
        assert err.value.reason == "too_deep"


@pytest.mark.parametrize("op", ["and", "or"])
def test_boolean_chains_within_the_limit_convert_and_parse(op: str) -> None:
    chain = f" {op} ".join(["frontIsClear()", "markersPresent()"] * 40)
    program = python_to_dsl(wrap(f"if {chain}:\n    move()\nelse:\n    turnLeft()"))
    assert nesting(parse(program)) <= MAX_NESTING


def test_extractor_refuses_deep_programs_with_the_same_limit() -> None:
    nots = "DEF run m( IF " + "not " * 500 + "frontIsClear i( move i) m)"
    with pytest.raises(ConversionError, match=f"at most {MAX_NESTING} nested") as err:
        extract_dsl(nots)
    assert err.value.reason == "too_deep"
    levels = MAX_NESTING - 1
    deep = "DEF run m( " + "WHILE c( frontIsClear c) w( " * levels + "move" + " w)" * levels
    assert nesting(parse(extract_dsl(deep + " m)"))) == MAX_NESTING
    deeper = "DEF run m( " + "WHILE frontIsClear w( " * (levels + 1) + "move"
    with pytest.raises(ConversionError, match="nested"):
        extract_dsl(deeper)


def test_nested_range_loops_cannot_blow_up_the_printed_program() -> None:
    # range(25) is REPEAT 19 + REPEAT 6 sharing one body: 30 nested loops would print 2**30
    # copies of the body. The size is counted as printed, before printing.
    code = "move()"
    for _ in range(30):
        code = "for _ in range(25):\n" + textwrap.indent(code, "    ")
    with pytest.raises(ConversionError) as err:
        python_to_dsl(wrap(code))
    assert err.value.reason == "too_large"


# -- item 6: each statement counted once --------------------------------------------------------
def test_a_function_body_is_counted_once() -> None:
    lines = 2_501
    program = python_to_dsl(wrap("\n".join(["move()"] * lines)))
    assert program.count("move") == lines
    with pytest.raises(ConversionError, match=f"past {MAX_STATEMENTS}"):
        python_to_dsl(wrap("\n".join(["move()"] * (MAX_STATEMENTS + 1))))


def test_helpers_are_counted_once_per_inlined_copy() -> None:
    helper = "def turn_around():\n    turnLeft()\n    turnLeft()\n\n"
    within = helper + "def run():\n" + "    turn_around()\n" * (MAX_STATEMENTS // 2)
    assert python_to_dsl(within).count("turnLeft") == MAX_STATEMENTS
    beyond = helper + "def run():\n" + "    turn_around()\n" * (MAX_STATEMENTS // 2 + 1)
    with pytest.raises(ConversionError, match="grows past"):
        python_to_dsl(beyond)


@pytest.mark.parametrize("text", ["x = 1if True else 2\nmove()", "0x1for _ in range(2): move()"])
def test_odd_answers_print_no_compiler_warnings(text: str) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert_answer(text)
        convert_answer(wrap(text))
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]
