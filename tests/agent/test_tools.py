"""The agent tools: plain functions, their LangChain wrappers and the JSON tool-call parser."""

from __future__ import annotations

import pytest

import envs
from agent.tool_agent import parse_tool_call
from agent.tools.langchain_tools import TOOL_NAMES, ToolState, make_tools, tool_functions
from agent.tools.rollout import rollout, worst_instance
from agent.tools.scheduled_hc import scheduled_hc
from envs.errors import DSLSyntaxError

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
