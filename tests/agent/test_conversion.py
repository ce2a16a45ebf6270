"""Unit, property and fuzz tests of the Python <-> DSL conversion."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.conversion import python_to_dsl, python_to_program, to_python, to_python_with_lines
from agent.conversion.limits import MAX_INPUT_CHARS, repeat_exactly
from envs.dsl import GRAMMARS, MAX_REPEAT, parse, preorder
from envs.dsl.ast import (
    Action,
    And,
    Cond,
    If,
    IfElse,
    Not,
    Or,
    Perception,
    Program,
    Repeat,
    Stmt,
    While,
)
from envs.errors import ConversionError

# -- random programs of the search space (plus and/or when asked) ---------------------------


def random_condition(rng: random.Random, domain: str, boolean_ops: bool = False) -> Cond:
    """A perception, maybe negated; with ``boolean_ops`` also and/or of those."""
    gram = GRAMMARS[domain]
    name = rng.choice(list(gram.perceptions))
    arg = rng.choice(gram.perception_args[name]) if gram.takes_arg(name) else None
    cond: Cond = Perception(name, arg)
    if rng.random() < 0.3:
        cond = Not(cond)
    if boolean_ops and rng.random() < 0.3:
        other = random_condition(rng, domain, boolean_ops)
        cond = (And if rng.random() < 0.5 else Or)(cond, other)
        if rng.random() < 0.2:
            cond = Not(cond)
    return cond


def random_block(
    rng: random.Random, domain: str, depth: int, boolean_ops: bool = False
) -> tuple[Stmt, ...]:
    """A non-empty block of 1..4 statements nested at most ``depth`` deep."""
    gram = GRAMMARS[domain]
    out: list[Stmt] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random() if depth > 0 else 1.0
        if kind < 0.2:
            cond = random_condition(rng, domain, boolean_ops)
            out.append(While(cond, random_block(rng, domain, depth - 1, boolean_ops)))
        elif kind < 0.35:
            cond = random_condition(rng, domain, False)  # IF + and: see the normalisation test
            out.append(If(cond, random_block(rng, domain, depth - 1, boolean_ops)))
        elif kind < 0.5:
            cond = random_condition(rng, domain, boolean_ops)
            body = random_block(rng, domain, depth - 1, boolean_ops)
            out.append(IfElse(cond, body, random_block(rng, domain, depth - 1, boolean_ops)))
        elif kind < 0.6:
            body = random_block(rng, domain, depth - 1, boolean_ops)
            out.append(Repeat(rng.randint(0, MAX_REPEAT), body))
        else:
            out.append(Action(rng.choice(list(gram.actions))))
    return tuple(out)


def random_program(
    rng: random.Random, domain: str = "karel", depth: int = 4, boolean_ops: bool = False
) -> Program:
    """A random program (search-space shaped unless ``boolean_ops``)."""
    return Program(random_block(rng, domain, depth, boolean_ops))


def wrap(body: str) -> str:
    return "def run():\n" + "\n".join("    " + line for line in body.splitlines()) + "\n"


def reason(text: str, domain: str = "karel") -> str:
    with pytest.raises(ConversionError) as info:
        python_to_dsl(text, domain)
    return info.value.reason


# -- exact semantics of individual constructs ------------------------------------------------
@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "REPEAT R=0 r( move r)"),
        (19, "REPEAT R=19 r( move r)"),
        (20, "REPEAT R=19 r( move r) REPEAT R=1 r( move r)"),
        (38, "REPEAT R=2 r( REPEAT R=19 r( move r) r)"),
        (40, "REPEAT R=2 r( REPEAT R=19 r( move r) r) REPEAT R=2 r( move r)"),
    ],
)
def test_range_counts_become_exact_repeats(n: int, expected: str) -> None:
    assert python_to_dsl(wrap(f"for _ in range({n}):\n    move()")) == f"DEF run m( {expected} m)"


def _iterations(stmts: tuple) -> int:
    total = 0
    for s in stmts:
        total += s.n * _iterations(s.body) if isinstance(s, Repeat) else 1
    return total


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=10**7))
def test_repeat_exactly_runs_the_body_n_times(n: int) -> None:
    assert _iterations(repeat_exactly(n, (Action("move"),))) == n


@pytest.mark.parametrize(
    ("args", "count"), [("3", 3), ("2, 5", 3), ("5, 2", 0), ("0, 10, 3", 4), ("10, 0, -2", 5)]
)
def test_range_forms(args: str, count: int) -> None:
    program = python_to_program(wrap(f"for _ in range({args}):\n    move()"))
    assert _iterations(program.body) == count


def test_if_and_without_else_is_nested_if_with_else_is_prefix_and() -> None:
    nested = python_to_program(wrap("if frontIsClear() and markersPresent():\n    move()"))
    assert nested.body == (
        If(Perception("frontIsClear"), (If(Perception("markersPresent"), (Action("move"),)),)),
    )
    with_else = python_to_program(
        wrap("if frontIsClear() and markersPresent():\n    move()\nelse:\n    turnLeft()")
    )
    assert isinstance(with_else.body[0], IfElse)
    assert with_else.body[0].cond == And(Perception("frontIsClear"), Perception("markersPresent"))


def test_boolean_literals_fold_exactly() -> None:
    assert python_to_dsl(wrap("if True:\n    move()\nelse:\n    turnLeft()")) == (
        "DEF run m( move m)"
    )
    assert python_to_dsl(wrap("while False:\n    move()\nputMarker()")) == (
        "DEF run m( putMarker m)"
    )
    # `x and False` still evaluates x: the call is kept.
    kept = python_to_program(wrap("while frontIsClear() and False:\n    move()"))
    assert isinstance(kept.body[0], While) and isinstance(kept.body[0].cond, And)


def test_keeps_what_the_model_wrote_for_negated_markers() -> None:
    a = python_to_dsl(wrap("if not markersPresent():\n    move()"))
    b = python_to_dsl(wrap("if noMarkersPresent():\n    move()"))
    assert a == "DEF run m( IF c( not c( markersPresent c) c) i( move i) m)"
    assert b == "DEF run m( IF c( noMarkersPresent c) i( move i) m)"


def test_blank_lines_and_comments_never_drop_code() -> None:
    text = wrap("while frontIsClear():\n\n    # step\n    move()\n\n    putMarker()\nturnLeft()")
    assert (
        python_to_dsl(text)
        == "DEF run m( WHILE c( frontIsClear c) w( move putMarker w) turnLeft m)"
    )


def test_minigrid_forward_converts() -> None:  # the reference sends forward() to REPEAT and crashes
    assert (
        python_to_dsl(wrap("forward()\nforward()"), "minigrid") == "DEF run m( forward forward m)"
    )


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("x = 1\nmove()", "variable"),
        ("while True:\n    move()", "while_true"),
        ("while frontIsClear():\n    break", "break"),
        ("for _ in range(3):\n    continue", "continue"),
        ("return move()", "return"),
        ("jump()", "unknown_call"),
        ("move(3)", "call_arguments"),
        ("if frontIsClear() < 3:\n    move()", "comparison"),
        ("for i, j in range(3):\n    move()", "variable"),
        ("while frontIsClear():\n    move()\nelse:\n    move()", "loop_else"),
        ("def inner():\n    move()\ninner()", "nested_def"),
        ("import os\nmove()", "import"),
        ("with open('x'):\n    move()", "unsupported"),
        ("lambda: move()", "unsupported"),
        ("move", "unsupported"),
        ("if frontIsClear:\n    move()", "missing_call"),
    ],
)
def test_rejections_name_reason_and_line(code: str, why: str) -> None:
    with pytest.raises(ConversionError) as info:
        python_to_dsl(wrap(code))
    assert info.value.reason == why
    assert info.value.line is not None and info.value.line >= 2
    assert f"line {info.value.line}" in str(info.value)


def test_helpers_shadowing_actions_and_helpers_as_conditions() -> None:
    shadow = "def turnRight():\n    turnLeft()\n    turnLeft()\n    turnLeft()\n\nturnRight()\n"
    assert python_to_dsl(shadow) == "DEF run m( turnLeft turnLeft turnLeft m)"
    method = "def move(karel):\n    karel.move()\n    karel.move()\n\nmove(k)\n"
    assert python_to_dsl(method) == "DEF run m( move move m)"
    helper_test = "def blocked():\n    turnLeft()\n\nif blocked():\n    move()\n"
    assert reason(helper_test) == "helper_condition"
    assert python_to_dsl("\ufeffmove()\r\nturnLeft()\r\n") == "DEF run m( move turnLeft m)"


def test_unknown_call_suggests_a_close_name() -> None:
    with pytest.raises(ConversionError, match=r"did you mean turnLeft\(\)"):
        python_to_dsl(wrap("turnleftt()"))


def test_entry_point_rules() -> None:
    two_roots = "def a():\n    move()\n\ndef b():\n    turnLeft()\n"
    assert python_to_dsl(two_roots) == "DEF run m( turnLeft m)"  # the last uncalled function
    with_main = "def main():\n    move()\n\ndef other():\n    turnLeft()\n"
    assert python_to_dsl(with_main) == "DEF run m( move m)"
    assert python_to_dsl("def run():\n    move()\nprint('ready')\n") == "DEF run m( move m)"
    assert reason("def run():\n    move()\n\ndef run():\n    move()\n") == "duplicate_def"
    assert reason("@decorator\ndef run():\n    move()\n") == "decorator"


# -- limits: errors, quickly, never a crash or a hang ----------------------------------------
def test_limits() -> None:
    assert reason("move()\n" * (MAX_INPUT_CHARS // 7 + 1)) == "too_large"
    deep = "def run():\n" + "".join("    " * (i + 1) + "if frontIsClear():\n" for i in range(60))
    assert reason(deep + "    " * 61 + "move()\n") == "too_deep"
    parens = "if " + "(" * 3000 + "frontIsClear()" + ")" * 3000 + ":\n    move()\n"
    assert reason(parens) in ("python_syntax", "too_deep")
    nots = "if " + "not " * 20000 + "frontIsClear():\n    move()\n"
    assert reason(nots) in ("python_syntax", "too_deep")
    blowup = "".join(f"def f{i}():\n    f{i - 1}()\n    f{i - 1}()\n" for i in range(1, 40))
    assert reason(blowup + "def f0():\n    move()\nf39()\n") == "too_large"
    assert reason("for _ in range(" + "9" * 5000 + "):\n    move()\n") == "python_syntax"
    assert reason("a()\nb()\n" + "def a():\n    b()\ndef b():\n    a()\n") == "recursion"
    assert reason(b"move()\x00".decode()) in ("no_code", "python_syntax")
    with pytest.raises(ConversionError):
        python_to_dsl(None)  # type: ignore[arg-type]


# -- printer and round trip -----------------------------------------------------------------
@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_round_trip_thousands_of_random_programs(domain: str) -> None:
    rng = random.Random(1234)
    for _ in range(1000):
        program = random_program(rng, domain, depth=3)
        assert python_to_program(to_python(program, domain), domain) == program


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_round_trip_with_boolean_operators(domain: str) -> None:
    rng = random.Random(99)
    for _ in range(300):
        program = random_program(rng, domain, depth=3, boolean_ops=True)
        assert python_to_program(to_python(program, domain), domain) == program


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["karel", "minigrid"]))
def test_round_trip_property(seed: int, domain: str) -> None:
    program = random_program(random.Random(seed), domain, depth=4)
    assert python_to_dsl(to_python(program, domain), domain) == str(program)


def test_if_with_and_normalises_to_nested_if() -> None:
    program = parse("DEF run m( IF c( and c( frontIsClear c) c( markersPresent c) c) i( move i) m)")
    assert "if frontIsClear() and markersPresent():" in to_python(program)
    assert python_to_dsl(to_python(program)) == (
        "DEF run m( IF c( frontIsClear c) i( IF c( markersPresent c) i( move i) i) m)"
    )


def _python_form(node: object) -> str:
    if isinstance(node, Action):
        return f"{node.name}()"
    if isinstance(node, Perception):
        return node.name
    return {"While": "while ", "If": "if ", "IfElse": "if ", "Repeat": "for _ in range("}.get(
        type(node).__name__, ""
    )


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_line_map_covers_every_preorder_location(domain: str) -> None:
    rng = random.Random(7)
    for _ in range(300):
        program = random_program(rng, domain, boolean_ops=True)
        rendering = to_python_with_lines(program, domain)
        lines = rendering.text.splitlines()
        nodes = preorder(program)
        assert sorted(rendering.lines) == list(range(len(nodes)))
        assert rendering.lines[0] == 1 and lines[0] == "def run():"
        for loc, node in enumerate(nodes):
            line = lines[rendering.lines[loc] - 1].strip()
            form = _python_form(node)
            if isinstance(node, Program) or not form:
                continue
            if isinstance(node, If | IfElse):
                assert line.startswith(("if ", "elif ")), (line, node)
            else:
                assert form in line, (line, node)


# -- fuzzing: nothing but ConversionError, ever ------------------------------------------------
_FRAGMENTS = [
    "def run():", "def helper():", "while frontIsClear():", "if markersPresent():", "elif",
    "else:", "for _ in range(3):", "for i in range(25):", "move()", "turnLeft()", "pass",
    "helper()", "run()", "x = 1", "while True:", "break", "return", "not", "and", "or",
    "front_object_type('ball')", "karel.move()", "```python", "```", "#", '"""doc"""',
    "if __name__ == '__main__':", "print('hi')", "(", ")", ":", "DEF run m(", "m)",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=3)),
        max_size=25,
    ),
    st.sampled_from(["karel", "minigrid"]),
)
def test_fuzz_python_like_answers(lines: list, domain: str) -> None:
    text = "\n".join("    " * indent + " ".join(parts) for indent, parts in lines)
    try:
        result = python_to_dsl(text, domain)
    except ConversionError:
        return
    assert str(parse(result, domain)) == result


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["karel", "minigrid"]))
def test_fuzz_arbitrary_text(text: str, domain: str) -> None:
    try:
        result = python_to_dsl(text, domain)
    except ConversionError:
        return
    assert str(parse(result, domain)) == result
