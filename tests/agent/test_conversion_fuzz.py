"""Fuzzing the conversion paths (issue 17): no answer makes the DSL extractor or the Python
converter raise anything but ConversionError, whatever they return parses, and
``convert_answer`` never raises and never reports an unexpected failure (reason
``"internal"``). Example counts are modest so that the suite stays fast."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.conversion import convert_answer, extract_dsl, python_to_dsl
from envs.dsl import grammar, nesting, parse
from envs.errors import ConversionError
from envs.limits import MAX_NESTING

FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOMAINS = ("karel", "minigrid")


def _dsl_words(domain: str) -> list[str]:
    gram = grammar(domain)
    return [
        "DEF", "run", "m(", "m)", "WHILE", "IF", "IFELSE", "ELSE", "REPEAT", "R=3", "R=25",
        "R=" + "7" * 4500, "R=\u0663", "R=-2", "c(", "c)", "w(", "w)", "i(", "i)", "e(", "e)",
        "r(", "r)", "h(", "h)", "not", "and", "or", "true", "False", "(", ")", "{", "}", "`",
        ";", "'", "a.b.c", "karel.", "()", "m", "c", "\u0661", *gram.actions, *gram.perceptions,
        *(f"{name}()" for name in gram.actions), "lava", "ball", "red",
    ]  # fmt: skip


def dsl_answers(domain: str) -> st.SearchStrategy[str]:
    """Prose-free DSL-ish token streams with noise, joined by varied whitespace."""
    words = st.lists(st.sampled_from(_dsl_words(domain)), max_size=60)
    return st.tuples(words, st.sampled_from([" ", "", "\n", " \t "])).map(
        lambda ws: ws[1].join(ws[0])
    )


def _python_lines(domain: str) -> list[str]:
    gram = grammar(domain)
    act = next(iter(gram.actions))
    per = next(iter(gram.perceptions))
    return [
        "def run():", "def helper():", "def run(agent):", f"{act}()", f"karel.{act}()",
        f"while {per}():", f"if not {per}():", f"if {per}() and {per}():", "else:", "elif x:",
        "for _ in range(3):", "for i in range(" + "9" * 4400 + "):", "for _ in range(10**9):",
        "helper()", "run()", "pass", "return", "break", "x = 1", "while True:", "import os",
        f"if {' or '.join([per + '()'] * 120)}:", "class A:", "print('hi')", "# comment",
        '"""doc"""', "(" * 120, "a." * 50, "```", "```python", "",
    ]  # fmt: skip


def python_answers(domain: str) -> st.SearchStrategy[str]:
    """Lines of Python-ish code at random indents, sometimes fenced, sometimes with prose."""
    line = st.tuples(st.integers(0, 3), st.sampled_from(_python_lines(domain)))
    lines = st.lists(line, min_size=1, max_size=25).map(
        lambda ls: "\n".join("    " * indent + text for indent, text in ls)
    )
    return st.one_of(
        lines,
        lines.map(lambda code: f"Here is the program:\n```python\n{code}\n```\nDone."),
        st.tuples(lines, dsl_answers(domain)).map(lambda p: f"```python\n{p[0]}\n```\n{p[1]}"),
    )


def _converted_or_refused(convert, text: str, domain: str) -> None:
    try:
        program = convert(text, domain)
    except ConversionError as err:
        assert err.reason and str(err)
        return
    parsed = parse(program, domain)
    assert str(parsed) == program
    assert nesting(parsed) <= MAX_NESTING


def _never_raises(text: str, domain: str) -> None:
    for strategy in ("pythonic_dsl", "python", "dsl"):
        outcome = convert_answer(text, domain, strategy)
        assert outcome.reason != "internal", outcome.message
        if outcome.program is not None:
            assert str(parse(outcome.program, domain)) == outcome.program


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text(domain: str, text: str) -> None:
    _converted_or_refused(extract_dsl, text, domain)
    _converted_or_refused(python_to_dsl, text, domain)
    _never_raises(text, domain)


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(data=st.data())
def test_dsl_like_answers(domain: str, data: st.DataObject) -> None:
    text = data.draw(dsl_answers(domain))
    _converted_or_refused(extract_dsl, text, domain)
    _never_raises(text, domain)


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(data=st.data())
def test_python_like_answers(domain: str, data: st.DataObject) -> None:
    text = data.draw(python_answers(domain))
    _converted_or_refused(python_to_dsl, text, domain)
    _never_raises(text, domain)
