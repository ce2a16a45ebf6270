"""Agent mode: the JSON-text tool loop (local models) and LangChain tool calling (capable ones)."""

from __future__ import annotations

import json
from typing import Any

import envs
from agent import solve
from agent.events import StageEmitter
from agent.llm import ScriptedLLM
from agent.tool_agent import run_tool_calling_agent
from agent.tools.langchain_tools import ToolState

WALK = "DEF run m( WHILE c( frontIsClear c) w( move w) m)"


def _call(tool: str, **arguments: Any) -> str:
    return "Calling a tool. " + json.dumps({"tool": tool, "arguments": arguments})


def test_text_tool_loop_drives_the_tools_then_search_spends_the_rest() -> None:
    script = [
        _call("python_to_dsl", code="def run():\n    while frontIsClear():\n        move()"),
        _call("rollout", program=WALK),
        _call("no_such_tool"),
        "```python\ndef run():\n    turnLeft()\n    move()\n```",  # no call: rolled out anyway
        json.dumps({"final": WALK}),
    ]
    llm = ScriptedLLM(script)
    seen: list[dict[str, Any]] = []
    result = solve("pick up the key and open the door", llm=llm, mode="agent", agent_steps=8,
                   budget=60, save=False, instances=4, on_event=seen.append)  # fmt: skip
    calls = [e for e in seen if e["event"] == "tool_call"]
    assert [c["tool"] for c in calls] == [
        "python_to_dsl", "rollout", "no_such_tool", "rollout", "final"
    ]  # fmt: skip
    assert calls[0]["result"] == WALK
    assert calls[2]["result"].startswith("error: no tool")
    # Each tool result went back to the model as the next user message.
    assert "Result of rollout" in llm.calls[2].messages[-1]["content"]
    assert "scheduled_hc" in llm.calls[0].messages[0]["content"]
    assert result.mode == "agent" and result.evaluations <= 60
    assert result.reward == envs.make(result.task, n=4).evaluate(result.program)


def test_langchain_tool_calling_loop_runs_the_bound_tools() -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    class ToolCallingFake(GenericFakeChatModel):
        bound: list[Any] = []

        def bind_tools(self, tools: list[Any], **_: Any) -> ToolCallingFake:
            self.bound.extend(t.name for t in tools)
            return self

    replies = iter([
        AIMessage(content="", tool_calls=[
            {"name": "validate_dsl", "args": {"program": WALK}, "id": "a"},
            {"name": "rollout", "args": {"program": WALK}, "id": "b"},
        ]),
        AIMessage(content="Done: " + WALK),
    ])  # fmt: skip
    model = ToolCallingFake(messages=replies)
    state = ToolState(envs.make("karel/DoorKey", n=4), budget=10)
    seen: list[dict[str, Any]] = []
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
    calls = run_tool_calling_agent(model, state, messages, max_steps=5,
                                   emit=StageEmitter([seen.append]))  # fmt: skip
    assert calls == 2 and model.bound == [
        "rollout", "validate_dsl", "python_to_dsl", "scheduled_hc"
    ]  # fmt: skip
    assert [e["tool"] for e in seen] == ["validate_dsl", "rollout"]
    assert seen[0]["result"].startswith("valid")
    assert state.best_program == WALK and state.evaluations == 1


def test_bad_tool_arguments_never_end_a_run() -> None:
    """The call from the issue, and worse ones, in the text loop: answered, then the search."""
    script = [
        _call("scheduled_hc", programs=["DEF run m( move m)"], budget="soon"),
        _call("rollout", program=["a", "b"]),
        _call("validate_dsl", text=WALK),
        '{"tool": "rollout", "arguments": "not json"}',
        _call("scheduled_hc", programs=["DEF run m( move m)"], budget="all remaining"),
    ]
    seen: list[dict[str, Any]] = []
    result = solve("pick up the key and open the door", llm=ScriptedLLM(script), mode="agent",
                   agent_steps=5, budget=40, save=False, instances=4,
                   on_event=seen.append)  # fmt: skip
    results = [e["result"] for e in seen if e["event"] == "tool_call"]
    assert [r.startswith("error: ") for r in results] == [True, True, True, True, False]
    assert "budget must be a whole number" in results[0]
    assert "validate_dsl has no argument 'text'" in results[2]
    assert result.evaluations == 40 and result.program


def test_structured_tool_calls_with_bad_arguments_are_answered() -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    class ToolCallingFake(GenericFakeChatModel):
        def bind_tools(self, tools: list[Any], **_: Any) -> ToolCallingFake:
            return self

    replies = iter([
        AIMessage(content="", tool_calls=[
            {"name": "scheduled_hc", "args": {"programs": [WALK], "budget": "all remaining"},
             "id": "a"},
            {"name": "scheduled_hc", "args": {"programs": [WALK], "budget": "lots"}, "id": "b"},
            {"name": "rollout", "args": {"program": 5}, "id": "c"},
        ]),
        AIMessage(content="done"),
    ])  # fmt: skip
    state = ToolState(envs.make("karel/DoorKey", n=4), budget=10)
    seen: list[dict[str, Any]] = []
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
    calls = run_tool_calling_agent(ToolCallingFake(messages=replies), state, messages,
                                   max_steps=5, emit=StageEmitter([seen.append]))  # fmt: skip
    assert calls == 3
    assert "best return" in seen[0]["result"] and state.evaluations == 10
    assert all(str(e["result"]).startswith("error: ") for e in seen[1:])


def test_the_agent_mode_without_a_model_says_it_runs_the_pipeline() -> None:
    result = solve("play snake", model=None, mode="agent", budget=50, instances=2, save=False)
    assert any("agent mode needs a model" in w for w in result.warnings)
    assert result.evaluations == 50 or result.reward >= 1.0
