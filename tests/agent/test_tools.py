"""The agent tools: plain functions, their LangChain wrappers and the JSON tool-call parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs
from agent.tool_agent import parse_tool_call
from agent.tools.langchain_tools import TOOL_NAMES, ToolState, make_tools, tool_functions
from agent.tools.rollout import rollout, worst_instance
from agent.tools.scheduled_hc import scheduled_hc
from envs.errors import ConfigError, DSLSyntaxError

PROGRAM = "DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft pickMarker m)"


@pytest.fixture(scope="module")
def doorkey() -> envs.Task:
    return envs.make("karel/DoorKey", n=8)


def test_rollout_summarises_returns_and_traces_the_worst_instance(doorkey: envs.Task) -> None:
    summary = rollout(PROGRAM, doorkey, trace_steps=5)
    returns = doorkey.returns(PROGRAM)
    assert summary.returns == tuple(returns)
    assert summary.mean_return == doorkey.evaluate(PROGRAM)
    assert summary.worst_instance == worst_instance(returns)
    assert 1 <= len(summary.worst_trace) <= 6 and summary.worst_trace[0].startswith("step 1: ")
    text = str(summary)
    assert "mean return" in text and f"worst instance {summary.worst_instance}" in text
    assert summary.to_dict()["program"] == PROGRAM


def test_worst_instance_takes_the_lowest_index_on_ties() -> None:
    assert worst_instance([0.5, 0.0, 0.0, 1.0]) == 1


def test_rollout_of_a_bad_program_raises_with_the_position(doorkey: envs.Task) -> None:
    with pytest.raises(DSLSyntaxError):
        rollout("DEF run m( move", doorkey)


def test_scheduled_hc_keeps_its_budget_and_reports_a_true_return(doorkey: envs.Task) -> None:
    summary = scheduled_hc(doorkey, [PROGRAM, "DEF run m( oops m)"], budget=120, seed=1)
    assert summary.evaluations <= 120
    assert summary.best_return == doorkey.evaluate(summary.best_program)
    assert len(summary.skipped) == 1 and "#1" in summary.skipped[0]
    assert "best return" in str(summary)


def test_langchain_tools_have_documented_arguments_and_answer_errors_in_words(
    doorkey: envs.Task,
) -> None:
    state = ToolState(doorkey, budget=40, seed=0)
    tools = {t.name: t for t in make_tools(state)}
    assert tuple(tools) == TOOL_NAMES
    for t in tools.values():
        assert t.description
        assert all(arg.get("description") for arg in t.args.values()), t.name
    assert tools["validate_dsl"].invoke({"program": "DEF run m( move"}).startswith("invalid")
    assert tools["python_to_dsl"].invoke({"code": "def run():\n    move()"}) == (
        "DEF run m( move m)"
    )
    assert tools["rollout"].invoke({"program": "DEF run m( move"}).startswith("error:")
    assert "mean return" in tools["rollout"].invoke({"program": PROGRAM})
    assert state.evaluations == 1 and state.best_program == PROGRAM
    # The search may spend only what is left of the shared budget.
    tools["scheduled_hc"].invoke({"programs": [PROGRAM], "budget": 1000})
    assert state.evaluations == 40
    assert tools["rollout"].invoke({"program": PROGRAM}).startswith("error: the evaluation budget")


def test_plain_tool_functions_match_the_langchain_ones(doorkey: envs.Task) -> None:
    fns = tool_functions(ToolState(doorkey, budget=5))
    assert set(fns) == set(TOOL_NAMES)
    assert fns["validate_dsl"](PROGRAM).startswith("valid")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"tool": "rollout", "arguments": {"program": "x"}}',
         {"tool": "rollout", "arguments": {"program": "x"}}),
        ('Sure! <tool_call>{"name": "validate_dsl", "arguments": {"program": "y"}}</tool_call>',
         {"tool": "validate_dsl", "arguments": {"program": "y"}}),
        ('I am done. {"final": "DEF run m( move m)"}', {"final": "DEF run m( move m)"}),
        ("no json here {not json}", None),
        ('{"something": 1}', None),
    ],
)  # fmt: skip
def test_parse_tool_call(text: str, expected: dict | None) -> None:
    assert parse_tool_call(text) == expected


def test_model_written_arguments_are_coerced_or_answered_in_words(doorkey: envs.Task) -> None:
    from agent.tool_agent import _call

    state = ToolState(doorkey, budget=30, seed=0)
    fns = tool_functions(state)
    # The call from the issue: a budget in words spends what is left, instead of raising.
    out = _call(fns, "scheduled_hc", {"programs": ["DEF run m( move m)"],
                                      "budget": "all remaining"})  # fmt: skip
    assert "best return" in out and state.evaluations == 30
    state = ToolState(doorkey, budget=30, seed=0)
    fns = tool_functions(state)
    bad = {
        "lots": {"programs": [PROGRAM], "budget": "lots"},
        "negative": {"programs": [PROGRAM], "budget": -5},
        "bool": {"programs": [PROGRAM], "budget": True},
        "items": {"programs": [PROGRAM, 7]},
        "dict": {"programs": {"a": 1}},
        "name": {"program": PROGRAM},
        "shape": ["not", "an", "object"],
    }
    for label, arguments in bad.items():
        answer = _call(fns, "scheduled_hc", arguments)
        assert answer.startswith("error: "), label
    assert state.evaluations == 0
    assert _call(fns, "rollout", {}).startswith("error: rollout needs the argument 'program'")
    assert _call(fns, "rollout", {"program": 42}).startswith("error: program must be")
    assert _call(fns, "rollout", {"program": ""}).startswith("error: program must be")
    assert _call(fns, "python_to_dsl", '{"code": "def run():\\n    move()"}') == (
        "DEF run m( move m)"
    )
    assert "mean return" in _call(fns, "rollout", {"program": [PROGRAM]})
    assert "best return" in _call(fns, "scheduled_hc", {"programs": PROGRAM, "budget": "5"})


def test_langchain_tools_answer_schema_violations_in_words(doorkey: envs.Task) -> None:
    state = ToolState(doorkey, budget=20, seed=0)
    tools = {t.name: t for t in make_tools(state)}
    answer = tools["scheduled_hc"].invoke({"programs": [PROGRAM], "budget": "all remaining"})
    assert "best return" in answer and state.evaluations == 20
    for args in ({"programs": [PROGRAM], "budget": "lots"}, {"programs": [1, 2]},
                 {"program": 3}):  # fmt: skip
        assert (
            tools["scheduled_hc" if "programs" in args else "rollout"]
            .invoke(args)
            .startswith("error: ")
        ), args


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(value=_JSON, remaining=st.integers(min_value=1, max_value=10_000))
def test_argument_checks_take_any_json_and_answer_a_value_or_a_config_error(
    value: object, remaining: int
) -> None:
    from agent.tools.arguments import as_budget, as_programs, as_text, bind_arguments

    def tool(programs: object = None, budget: object = 5) -> str:
        return "ok"

    for check in (
        lambda: as_budget(value, remaining, 5),
        lambda: as_programs(value, "DEF run m( move m)"),
        lambda: as_text(value, "program", "DEF run m( move m)"),
        lambda: bind_arguments(tool, "tool", value),
    ):
        try:
            out = check()
        except ConfigError as exc:
            assert str(exc)  # a message the model can act on
            continue
        if isinstance(out, int):
            assert 1 <= out <= remaining
        elif isinstance(out, list):
            assert all(isinstance(p, str) and p.strip() for p in out)
        elif isinstance(out, str):
            assert out.strip()
