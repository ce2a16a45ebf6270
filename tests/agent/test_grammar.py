"""The GBNF grammar for constrained decoding: every string it allows converts, and it is finite.

The grammar text is read back by a small interpreter of the GBNF subset it uses (literals,
rule names, alternatives, groups), which draws random strings from it and computes its longest
string, so the tests check the emitted text itself, not the generator's own data.
"""

from __future__ import annotations

import random
import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.conversion import python_to_dsl
from agent.conversion.grammar import GrammarLimits, max_answer_chars, python_gbnf
from envs.dsl import GRAMMARS, parse
from envs.errors import ConfigError
from search.limits import MAX_TOKENS, program_tokens

Expr = list[list[object]]  # alternatives of sequences of str literals / ("ref", name) / Expr
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_]+|\(|\)|\|)')


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), literal[1:-1])


def _parse_expr(tokens: list[str], pos: int) -> tuple[Expr, int]:
    alts: Expr = [[]]
    while pos < len(tokens) and tokens[pos] != ")":
        tok = tokens[pos]
        if tok == "|":
            alts.append([])
            pos += 1
        elif tok == "(":
            group, pos = _parse_expr(tokens, pos + 1)
            alts[-1].append(group)
            pos += 1  # the closing parenthesis
        elif tok.startswith('"'):
            alts[-1].append(_unescape(tok))
            pos += 1
        else:
            alts[-1].append(("ref", tok))
            pos += 1
    return alts, pos


def parse_gbnf(text: str) -> dict[str, Expr]:
    rules: dict[str, Expr] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, body = line.partition(" ::= ")
        tokens, pos = [], 0
        while body[pos:].strip():
            match = _TOKEN.match(body, pos)
            assert match is not None, f"not in the GBNF subset read here: {line}"
            tokens.append(match.group(1))
            pos = match.end()
        rules[name], _ = _parse_expr(tokens, 0)
    return rules


def sample(rules: dict[str, Expr], rng: random.Random) -> str:
    out: list[str] = []

    def expand(expr: Expr) -> None:
        for item in rng.choice(expr):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, tuple):
                expand(rules[item[1]])
            else:
                expand(item)  # a group

    expand(rules["root"])
    return "".join(out)


def longest(rules: dict[str, Expr]) -> int:
    @cache
    def rule(name: str) -> int:
        return alternatives(rules[name])

    def alternatives(expr: Expr) -> int:
        return max(sum(item_len(i) for i in alt) for alt in expr)

    def item_len(item: object) -> int:
        if isinstance(item, str):
            return len(item)
        if isinstance(item, tuple):
            return rule(item[1])
        return alternatives(item)  # type: ignore[arg-type]

    return rule("root")


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_every_string_of_the_grammar_converts(domain: str, seed: int) -> None:
    rules = _rules(domain)
    text = sample(rules, random.Random(seed))
    dsl = python_to_dsl(text, domain)
    program = parse(dsl, domain)
    assert str(program) == dsl
    assert len(text) <= max_answer_chars(domain)
    assert program_tokens(program) <= MAX_TOKENS  # inside the search space's size limit


@cache
def _rules(domain: str) -> dict[str, Expr]:
    return parse_gbnf(python_gbnf(domain))


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_grammar_is_generated_from_the_domain_vocabulary(domain: str) -> None:
    rng = random.Random(0)
    rules = _rules(domain)
    texts = "".join(sample(rules, rng) for _ in range(400))
    gram = GRAMMARS[domain]
    for action in gram.actions:
        assert f"{action}()" in texts
    for perception in gram.perceptions:
        assert f"{perception}(" in texts
    for keyword in ("if ", "else:", "elif ", "while ", "for _ in range(", "not "):
        assert keyword in texts
    other = GRAMMARS["minigrid" if domain == "karel" else "karel"]
    assert not any(f"{a}()" in python_gbnf(domain) for a in other.actions if a not in gram.actions)


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_the_language_is_finite_and_its_longest_string_is_the_bound(domain: str) -> None:
    # A cycle would make `longest` recurse forever; a finite grammar has a longest string.
    assert longest(_rules(domain)) == max_answer_chars(domain)


def test_limits_bound_depth_tokens_and_counts() -> None:
    limits = GrammarLimits(max_tokens=5, max_depth=1, max_repeat=3)
    rules = parse_gbnf(python_gbnf("karel", limits))
    rng = random.Random(1)
    for _ in range(300):
        text = sample(rules, rng)
        body = text.splitlines()[1:]
        assert 1 <= len(body) <= 5
        assert program_tokens(parse(python_to_dsl(text))) <= 5 + 4
        assert all(not line.startswith(" " * 12) for line in body)  # at most one level inside
        assert all(n in "123" for n in re.findall(r"range\((\d+)\)", text))
        python_to_dsl(text)


def test_bad_limits_and_domain_are_clear_errors() -> None:
    with pytest.raises(ConfigError):
        GrammarLimits(max_tokens=0)
    with pytest.raises(ConfigError):
        GrammarLimits(max_repeat=20)
    with pytest.raises(ConfigError):
        python_gbnf("chess")


def test_a_structure_outside_the_grammar_is_not_generated() -> None:
    text = python_gbnf("karel")
    for word in ("True", "break", "return", " and ", " or ", "=", "#"):
        assert word not in text.replace("::=", "")


def accepts(rules: dict[str, Expr], text: str) -> bool:
    """Whether the grammar derives exactly ``text`` (memoised descent over end positions)."""

    @cache
    def rule_ends(name: str, pos: int) -> frozenset[int]:
        return expr_ends(id(rules[name]), name, pos)

    def seq_ends(items: list[object], pos: int) -> set[int]:
        ends = {pos}
        for item in items:
            ends = {e2 for e in ends for e2 in item_ends(item, e)}
        return ends

    def item_ends(item: object, pos: int) -> set[int]:
        if isinstance(item, str):
            return {pos + len(item)} if text.startswith(item, pos) else set()
        if isinstance(item, tuple):
            return set(rule_ends(item[1], pos))
        return {e for alt in item for e in seq_ends(alt, pos)}  # type: ignore[union-attr]

    def expr_ends(_key: int, name: str, pos: int) -> frozenset[int]:
        return frozenset(e for alt in rules[name] for e in seq_ends(alt, pos))

    return len(text) in rule_ends("root", 0)


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_worked_examples_are_written_in_the_grammar(domain: str) -> None:
    # The prompt's examples show the model the very language it is held to.
    from agent.conversion.to_python import to_python
    from agent.prompting import worked_examples

    rules = _rules(domain)
    for example in worked_examples(domain):
        assert accepts(rules, to_python(example.program, domain)), example.task_id


def test_recogniser_rejects_what_the_grammar_does_not_allow() -> None:
    rules = _rules("karel")
    assert accepts(rules, "def run():\n    move()\n")
    assert not accepts(rules, "def run():\n    move()")  # every line ends with a newline
    assert not accepts(rules, "def run():\n  move()\n")
    assert not accepts(rules, "def run():\n    while True:\n        move()\n")
    assert not accepts(rules, "def run():\n    if frontIsClear():\n    move()\n")
    six = "    move()\n" * 6
    assert accepts(rules, "def run():\n" + six)
    assert not accepts(rules, "def run():\n" + six + "    move()\n")  # 6 actions in a row
    loop = "    while frontIsClear():\n" + "        turnLeft()\n" * 6
    assert accepts(rules, "def run():\n" + loop * 3 + "    move()\n" * 5)  # 3 x 12 + 5 = 41
    assert not accepts(rules, "def run():\n" + loop * 3 + "    move()\n" * 6)  # 42 tokens
