"""The two execution limits of envs.limits (issue 17, items 1, 4 and 5).

Loops that make no call are bounded by max_free_steps in every engine, with the same crash
point everywhere; programs nest at most MAX_NESTING brackets, checked once by the parser, and
every walker after the parser copes with a program at the limit even with much of Python's
stack already used. Hangs are tested in a subprocess under the test's own timeout.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import envs
from envs.dsl import nesting, parse, preorder
from envs.errors import DSLSyntaxError
from envs.limits import MAX_NESTING, max_free_steps

REPO = Path(__file__).resolve().parents[2]
HANG_TIMEOUT_S = 120  # the fixed engines need seconds; before the fix these ran for hours


def _nest(levels: int, inner: str, count: int = 19) -> str:
    for _ in range(levels):
        inner = f"REPEAT R={count} r( {inner} r)"
    return inner


def _free_steps(levels: int) -> int:
    """Free steps of ``_nest(levels, "IF c( False c) i( ... i)")``: entry, iterations, literal."""
    steps = 1  # the literal
    for _ in range(levels):
        steps = 1 + 19 * (1 + steps)
    return steps


def _run_python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-"],
        input=textwrap.dedent(code),
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT_S,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


# -- item 1: loops that make no call ------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "engine", "n", "action"),
    [
        ("karel/Harvester", "compiled", 32, "move"),
        ("karel/Harvester", "python", 2, "move"),
        ("minigrid/LavaGap", None, 2, "left"),
    ],
)
def test_seven_nested_call_free_repeats_end_quickly(
    task: str, engine: str | None, n: int, action: str
) -> None:
    # 19**7 = 9e8 iterations per episode without a single call: hours before the bound.
    program = f"DEF run m( {_nest(7, f'IF c( False c) i( {action} i)')} m)"
    extra = f", engine={engine!r}" if engine else ""
    out = _run_python(
        f"""
        import envs
        task = envs.make({task!r}, n={n}{extra})
        print(task.returns({program!r}))
        """
    )
    assert out.strip() == str([0.0] * n)


def test_free_step_counts_match_the_documented_formula() -> None:
    assert _free_steps(4) == 275_121
    assert max_free_steps(10_000) == 1_000_000 and max_free_steps(1_000) == 100_000
    assert 3 * _free_steps(4) < max_free_steps(10_000) < 4 * _free_steps(4)
    assert 6 * _free_steps(3) < max_free_steps(1_000) < 7 * _free_steps(3)


def _blocks(k: int, action: str, levels: int = 4) -> str:
    return " ".join([_nest(levels, f"IF c( False c) i( {action} i)")] * k)


@pytest.mark.parametrize("engine", ["compiled", "python"])
def test_karel_engines_crash_at_the_same_free_step(engine: str) -> None:
    # putMarker on Harvester adds a marker: reward -1 if it runs, 0 if the cap came first.
    n = 32 if engine == "compiled" else 1
    task = envs.make("karel/Harvester", n=n, engine=engine)
    within = f"DEF run m( {_blocks(3, 'move')} putMarker m)"
    beyond = f"DEF run m( {_blocks(4, 'move')} putMarker m)"
    assert task.returns(within) == [-1.0] * n
    assert task.returns(beyond) == [0.0] * n
    if engine == "python":
        assert task.rollout(beyond, trace=False).crashed
        assert task.rollout(within, trace=False).calls == 1


@pytest.mark.parametrize("engine", ["compiled", "python"])
def test_the_cap_scales_with_the_call_budget(engine: str) -> None:
    task = envs.make("karel/Harvester", n=2, engine=engine, max_calls=1_000)
    within = f"DEF run m( {_blocks(6, 'move', 3)} putMarker m)"
    beyond = f"DEF run m( {_blocks(7, 'move', 3)} putMarker m)"
    assert task.returns(within) == [-1.0] * 2
    assert task.returns(beyond) == [0.0] * 2


def test_minigrid_crashes_at_the_same_free_step() -> None:
    task = envs.make("minigrid/LavaGap", n=1)
    within = task.rollout(f"DEF run m( {_blocks(6, 'right', 3)} left m)", trace=False)
    beyond = task.rollout(f"DEF run m( {_blocks(7, 'right', 3)} left m)", trace=False)
    assert (within.calls, within.crashed) == (1, False)
    assert (beyond.calls, beyond.crashed) == (0, True)


def test_call_free_literals_count_in_while_conditions_too() -> None:
    # WHILE c( not c( False c) c) makes no call: the repeat check ends it at the second test.
    task = envs.make("karel/Harvester", n=4, engine="python")
    program = "DEF run m( WHILE c( not c( False c) c) w( pickMarker w) m)"
    compiled = envs.make("karel/Harvester", n=4, engine="compiled")
    assert task.returns(program) == compiled.returns(program)


# -- item 5: repeat counts in the parser --------------------------------------------------------
@pytest.mark.parametrize(
    "count",
    ["9" * 4400, "20", "100", "-1", "\u0661\u0665", "\u0663", "1\u0660", "R=5", "", "1e1"],
)
def test_parser_refuses_repeat_counts_outside_0_to_19(count: str) -> None:
    with pytest.raises(DSLSyntaxError, match="repeat count"):
        parse(f"DEF run m( REPEAT R={count} r( move r) m)")


@pytest.mark.parametrize(("count", "n"), [("0", 0), ("19", 19), ("07", 7), ("0" * 5000 + "3", 3)])
def test_parser_reads_ascii_counts(count: str, n: int) -> None:
    program = parse(f"DEF run m( REPEAT R={count} r( move r) m)")
    assert str(program) == f"DEF run m( REPEAT R={n} r( move r) m)"


# -- item 4: one nesting limit, checked by the parser -------------------------------------------
def _deep_statements(levels: int, domain: str = "karel") -> str:
    """``levels`` nested control structures; nesting() is levels + 1."""
    cond = "frontIsClear" if domain == "karel" else "front_is_clear"
    act = "move" if domain == "karel" else "forward"
    text = act
    for k in range(levels):
        kind = k % 4
        if kind == 0:
            text = f"WHILE c( {cond} c) w( {text} w)"
        elif kind == 1:
            text = f"IF c( not c( {cond} c) c) i( {text} i)"
        elif kind == 2:
            text = f"REPEAT R=2 r( {text} r)"
        else:
            text = f"IFELSE c( {cond} c) i( {act} i) ELSE e( {text} e)"
    return f"DEF run m( {text} m)"


def _deep_condition(levels: int, domain: str = "karel") -> str:
    """A condition of ``levels`` nested not/and/or; nesting() is levels + 2 (+1 with h()."""
    leaf = "frontIsClear" if domain == "karel" else "front_object_type h( lava h)"
    act = "move" if domain == "karel" else "forward"
    cond = leaf
    for k in range(levels):
        if k % 3 == 0:
            cond = f"not c( {cond} c)"
        elif k % 3 == 1:
            cond = f"and c( {leaf} c) c( {cond} c)"
        else:
            cond = f"or c( {cond} c) c( {leaf} c)"
    return f"DEF run m( IF c( {cond} c) i( {act} i) {act} m)"


def test_nesting_is_counted_in_brackets() -> None:
    assert nesting(parse("DEF run m( move m)")) == 1
    assert nesting(parse(_deep_statements(5))) == 6
    assert nesting(parse(_deep_condition(5))) == 7
    assert nesting(parse(_deep_condition(5, "minigrid"), "minigrid")) == 8


@pytest.mark.parametrize(
    ("make", "extra"), [(_deep_statements, 1), (_deep_condition, 2)], ids=["stmts", "cond"]
)
def test_parser_accepts_the_limit_and_refuses_one_more(make, extra: int) -> None:
    at_limit = make(MAX_NESTING - extra)
    assert nesting(parse(at_limit)) == MAX_NESTING
    with pytest.raises(DSLSyntaxError, match=f"at most {MAX_NESTING} nested brackets"):
        parse(make(MAX_NESTING - extra + 1))


@pytest.mark.parametrize("levels", [500, 5000, 50_000])
def test_absurd_nesting_is_a_syntax_error_not_a_recursion_error(levels: int) -> None:
    text = "DEF run m( " + "WHILE c( frontIsClear c) w( " * levels + "move" + " w)" * levels
    with pytest.raises(DSLSyntaxError, match="nested brackets"):
        parse(text + " m)")
    nots = "DEF run m( IF c( " + "not c( " * levels + "frontIsClear" + " c)" * levels
    with pytest.raises(DSLSyntaxError, match="nested brackets"):
        parse(nots + " c) i( move i) m)")


def _with_stack_used(frames: int, fn):
    """Call ``fn`` with ``frames`` extra Python frames below it (a deep caller, a thread)."""
    if frames == 0:
        return fn()
    return _with_stack_used(frames - 1, fn)


# Frames a caller may already use when a walker runs (pytest, solve, a service worker).
CALLER_FRAMES = 300


def _karel_walkers(text: str, tmp_path: Path) -> None:
    import numpy as np

    from agent.conversion.to_python import to_python, to_python_with_lines
    from agent.revision_feedback import format_trace
    from envs.karel.render import save_gif
    from search.mutate import Mutator, local_edits, spots
    from search.space import neighbour

    program = parse(text)
    assert parse(str(program)) == program
    assert hash(program) == hash(parse(text))
    assert len(preorder(program)) > MAX_NESTING // 2
    to_python(program)
    to_python_with_lines(program)
    python = envs.make("karel/Harvester", n=2, engine="python")
    compiled = envs.make("karel/Harvester", n=2, engine="compiled")
    assert python.returns(program) == compiled.returns(program)
    rollout = python.rollout(program, 1, trace=True)
    format_trace(rollout, program, "", with_program_lines=True, full_program=True)
    save_gif(python, text, tmp_path / "deep.gif", 0, cell=4)
    neighbour(program, np.random.RandomState(0), "karel")  # an LLM seed entering the search
    mutator, rng = Mutator("karel"), random.Random(0)
    for _ in range(20):  # the default search (mosaic) edits seeds the same way
        sp = spots(program)
        mutator.mutate(rng, program, sp)
        for edit in local_edits(program, sp)[:5]:
            edit()


def _minigrid_walkers(text: str) -> None:
    program = parse(text, "minigrid")
    task = envs.make("minigrid/LavaGap", n=2)
    task.returns(program)
    task.rollout(program, 0, trace=True)


@pytest.mark.parametrize("make", [_deep_statements, _deep_condition], ids=["stmts", "cond"])
def test_every_walker_copes_with_a_program_at_the_limit(make, tmp_path: Path) -> None:
    extra = 1 if make is _deep_statements else 2
    _with_stack_used(CALLER_FRAMES, lambda: _karel_walkers(make(MAX_NESTING - extra), tmp_path))
    minigrid = make(MAX_NESTING - extra - (make is _deep_condition), "minigrid")
    assert nesting(parse(minigrid, "minigrid")) == MAX_NESTING
    _with_stack_used(CALLER_FRAMES, lambda: _minigrid_walkers(minigrid))
