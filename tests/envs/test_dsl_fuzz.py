"""Fuzzing the DSL parser (issue 17): printing round-trips, and no text makes it raise anything
but DSLSyntaxError. Example counts are modest so that the suite stays fast; raise them with
hypothesis' ``--hypothesis-profile`` or ``max_examples`` when hunting."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import programs

from envs.dsl import grammar, nesting, parse
from envs.errors import DSLSyntaxError
from envs.limits import MAX_NESTING

FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOMAINS = ("karel", "minigrid")

_BRACKETS = [f"{x}{p}" for x in "mcwierh" for p in "()"]
_ODD = [
    "R=", "R=-1", "R=20", "R=" + "9" * 5000, "R=\u0661", "R=\uff11", "R=07", "(", ")", "x(",
    "x)", "True", "False", "not", "and", "or", "", "\u00a0", "\x00", "DEF", "run", "ELSE",
]  # fmt: skip


def _vocabulary(domain: str) -> list[str]:
    gram = grammar(domain)
    args = [v for values in gram.perception_args.values() for v in values]
    keywords = ["DEF", "run", "WHILE", "IF", "IFELSE", "ELSE", "REPEAT", "not"]
    counts = [f"R={n}" for n in (0, 1, 19)]
    return [*keywords, *counts, *_BRACKETS, *gram.actions, *gram.perceptions, *args, *_ODD]


def token_soup(domain: str) -> st.SearchStrategy[str]:
    """Whitespace-joined DSL tokens and near-misses: reaches deep into the parser."""
    words = st.lists(st.sampled_from(_vocabulary(domain)), max_size=60)
    seps = st.sampled_from([" ", "  ", "\n", "\t"])
    return st.tuples(words, seps).map(lambda ws: ws[1].join(ws[0]))


def mutated_program(domain: str) -> st.SearchStrategy[str]:
    """A valid program's text with one token replaced, dropped or duplicated."""

    def mutate(args: tuple) -> str:
        program, k, op, token = args
        tokens = program.tokens()
        k %= len(tokens)
        if op == 0:
            tokens[k] = token
        elif op == 1:
            del tokens[k]
        else:
            tokens.insert(k, tokens[k])
        return " ".join(tokens)

    vocabulary = st.sampled_from(_vocabulary(domain))
    parts = st.tuples(
        programs(domain, logic=True), st.integers(0, 999), st.integers(0, 2), vocabulary
    )
    return parts.map(mutate)


def _parse_or_syntax_error(text: str, domain: str) -> None:
    try:
        program = parse(text, domain)
    except DSLSyntaxError as err:
        assert str(err)  # every refusal says something
        return
    assert parse(str(program), domain) == program
    assert nesting(program) <= MAX_NESTING


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(data=st.data())
def test_printing_round_trips(domain: str, data: st.DataObject) -> None:
    program = data.draw(programs(domain, max_depth=4, logic=True))
    assert parse(str(program), domain) == program
    assert str(parse(str(program), domain)) == str(program)


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_only_raises_syntax_errors(domain: str, text: str) -> None:
    _parse_or_syntax_error(text, domain)
    _parse_or_syntax_error(f"DEF run m( {text} m)", domain)


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(data=st.data())
def test_token_soup_only_raises_syntax_errors(domain: str, data: st.DataObject) -> None:
    soup = data.draw(token_soup(domain))
    _parse_or_syntax_error(soup, domain)
    _parse_or_syntax_error(f"DEF run m( {soup} m)", domain)


@pytest.mark.parametrize("domain", DOMAINS)
@FUZZ
@given(data=st.data())
def test_mutated_programs_only_raise_syntax_errors(domain: str, data: st.DataObject) -> None:
    _parse_or_syntax_error(data.draw(mutated_program(domain)), domain)
