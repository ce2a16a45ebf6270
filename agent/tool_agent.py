"""Agent mode: the model drives the tools (rollout, validate_dsl, python_to_dsl, scheduled_hc).

Two loops share the tools of :mod:`agent.tools.langchain_tools`:

- :func:`run_tool_calling_agent`: LangChain's tool-calling API (``bind_tools`` on a chat
  model, ``AIMessage.tool_calls`` in, ``ToolMessage`` out) for capable models (OpenAI, ...).
- :func:`run_text_tool_loop`: for local models that write tool calls as JSON text
  (spec/local-llm.md: the 1.5B model gets no structured ``tool_calls``). Each answer must hold
  ``{"tool": NAME, "arguments": {...}}`` (or Qwen's ``{"name": ..., "arguments": ...}``) or
  ``{"final": PROGRAM}``; an answer with a Python program and no call is converted and rolled
  out, so a small model that forgets the format still makes progress.

After the loop, any budget left is spent by Scheduled HC from the best programs the tools saw
(the LLM-GS finishing step), so agent mode never returns less than its search could find.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.events import Emitter
from agent.llm.types import LLM, SamplingSettings
from agent.tools.langchain_tools import ToolState, describe_tools, make_tools, tool_functions
from envs.errors import LlmgsError
from envs.task import Task

_INSTRUCTIONS = """You can use tools. To call a tool, answer with one JSON object and nothing else:
{{"tool": "<name>", "arguments": {{...}}}}
The tools:
{tools}
When you are done, answer with {{"final": "<the DSL program>"}}.
A good plan: write a Python program, convert it with python_to_dsl, score it with rollout, fix it
using the trace, then improve the best one with scheduled_hc."""


@dataclass(frozen=True)
class AgentOutcome:
    """What an agent run found.

    Attributes:
        best: Best ``(program, return)`` seen, or None.
        stop_reason: ``solved``, ``budget``, ``steps`` (tool calls used up) or ``cancelled``.
        evaluations: Evaluations spent by the tools and the final search.
        unique: Distinct programs (rollouts plus the searches' own distinct counts).
        steps: Tool calls made.
    """

    best: tuple[str, float] | None
    stop_reason: str
    evaluations: int
    unique: int
    steps: int


def parse_tool_call(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` that is a tool call or a final answer, normalised.

    Returns:
        ``{"tool": name, "arguments": dict}`` or ``{"final": program}``, or None.
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start >= 0:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            if "final" in obj:
                return {"final": str(obj["final"])}
            name = obj.get("tool", obj.get("name"))
            args = obj.get("arguments", obj.get("args", {}))
            if isinstance(name, str) and isinstance(args, dict):
                return {"tool": name, "arguments": args}
        start = text.find("{", start + 1)
    return None


def _call(fns: dict[str, Callable[..., str]], name: str, args: dict[str, Any]) -> str:
    if name not in fns:
        return f"error: no tool {name!r}; the tools are {', '.join(fns)}"
    try:
        return fns[name](**args)
    except TypeError as exc:  # wrong argument names from the model: tell it, do not crash
        return f"error: bad arguments for {name}: {exc}"


def run_text_tool_loop(
    llm: LLM,
    state: ToolState,
    messages: list[dict[str, str]],
    *,
    max_steps: int,
    emit: Emitter,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Let a model call the tools by writing JSON; returns the number of tool calls made."""
    from agent.conversion.acceptance import convert_answer

    fns = tool_functions(state)
    system = messages[0]["content"] + "\n\n" + _INSTRUCTIONS.format(tools=describe_tools(state))
    history = [{"role": "system", "content": system}, *messages[1:]]
    for step in range(1, max_steps + 1):
        if (should_stop is not None and should_stop()) or state.best_return >= 1.0:
            return step - 1
        settings = SamplingSettings(n=1, temperature=0.7, max_tokens=512, seed=seed + step)
        reply = llm.complete(history, settings).texts[0]
        call = parse_tool_call(reply)
        if call is None:
            outcome = convert_answer(reply, state.task.domain)
            if outcome.program is None:
                result = 'error: answer with one JSON object, e.g. {"tool": "rollout", ...}'
                call = {"tool": "none", "arguments": {}}
            else:  # a program without a call: score it, as the model surely meant
                call = {"tool": "rollout", "arguments": {"program": outcome.program}}
                result = _call(fns, "rollout", call["arguments"])
        elif "final" in call:
            result = _call(fns, "rollout", {"program": call["final"]})
            emit("tool_call", step=step, tool="final", arguments=call, result=result,
                 reply=reply[:500])  # fmt: skip
            return step
        else:
            result = _call(fns, call["tool"], call["arguments"])
        emit(
            "tool_call", step=step, tool=call["tool"], arguments=call["arguments"],
            result=result, reply=reply[:500],
        )  # fmt: skip
        history += [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": f"Result of {call['tool']}:\n{result}"},
        ]
    return max_steps


def run_tool_calling_agent(
    chat_model: Any,
    state: ToolState,
    messages: list[dict[str, str]],
    *,
    max_steps: int,
    emit: Emitter,
) -> int:
    """Let a LangChain chat model call the tools through ``bind_tools``; returns the calls made.

    Args:
        chat_model: Any LangChain ``BaseChatModel`` that supports tool calling.
        state: The tools' shared state (task, budget, best program).
        messages: System and user messages (the task prompt).
        max_steps: Tool calls allowed.
        emit: Event emitter.
    """
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage

    tools = {t.name: t for t in make_tools(state)}
    bound = chat_model.bind_tools(list(tools.values()))
    history: list[Any] = [
        SystemMessage(messages[0]["content"]),
        HumanMessage(messages[-1]["content"] + "\nUse the tools; finish with the DSL program."),
    ]
    calls = 0
    while calls < max_steps and state.best_return < 1.0:
        ai = bound.invoke(history)
        history.append(ai)
        if not ai.tool_calls:
            break
        for call in ai.tool_calls:
            calls += 1
            tool = tools.get(call["name"])
            result = tool.invoke(call["args"]) if tool else f"error: no tool {call['name']!r}"
            emit("tool_call", step=calls, tool=call["name"], arguments=call["args"],
                 result=result)  # fmt: skip
            history.append(ToolMessage(content=str(result), tool_call_id=call["id"]))
    return calls


def _chat_model(cfg: Any) -> Any | None:
    """A LangChain chat model for the config's litellm string (None without langchain-litellm).

    It calls the backend directly: structured tool calls do not go through the completion
    cache, so agent mode with a remote model is not replayable offline.
    """
    from agent.llm.gateway import import_litellm

    import_litellm()  # sets the offline price map before langchain-litellm imports litellm
    try:
        from langchain_litellm import ChatLiteLLM
    except ImportError:
        return None
    return ChatLiteLLM(model=cfg.model, api_base=cfg.api_base, temperature=cfg.temperature)


def run_agent(
    llm: LLM,
    task: Task,
    prompt: Any,
    budget: int,
    cfg: Any,
    emit: Emitter,
    should_stop: Callable[[], bool] | None,
) -> AgentOutcome:
    """Agent mode of ``solve()``: the model drives the tools, then search spends what is left."""
    from agent.prompting import render_prompt
    from agent.tools.scheduled_hc import scheduled_hc

    # Tools run on the plain task (cancellation is checked between steps); the final search
    # gets the cancellable one.
    state = ToolState(getattr(task, "inner", task), budget, cfg.seed)
    messages = render_prompt(prompt, cfg.strategy)
    chat = None
    if cfg.model is not None and not cfg.is_local:
        chat = _chat_model(cfg)
        if chat is None:
            emit("warning", message="langchain-litellm is not installed: using the JSON-text "
                 "tool loop instead of structured tool calls")  # fmt: skip
    if chat is not None:
        steps = run_tool_calling_agent(chat, state, messages, max_steps=cfg.agent_steps, emit=emit)
    else:
        steps = run_text_tool_loop(
            llm, state, messages, max_steps=cfg.agent_steps, emit=emit, seed=cfg.seed,
            should_stop=should_stop,
        )  # fmt: skip
    stopped = should_stop is not None and should_stop()
    reason = "solved" if state.best_return >= 1.0 else "steps"
    if reason != "solved" and state.remaining > 0 and not stopped:
        starts = [state.best_program] if state.best_program else None
        try:
            summary = scheduled_hc(task, starts, budget=state.remaining, seed=cfg.seed)
        except LlmgsError as exc:
            emit("warning", message=f"final search failed: {exc}")
        else:
            state.evaluations += summary.evaluations
            state.searched_unique += summary.unique_evaluations
            if summary.best_program:
                state.offer(summary.best_program, summary.best_return)
            reason = "solved" if summary.best_return >= 1.0 else "budget"
    best = (state.best_program, state.best_return) if state.best_program else None
    return AgentOutcome(
        best=best, stop_reason="cancelled" if stopped else reason,
        evaluations=state.evaluations, unique=len(state.programs) + state.searched_unique,
        steps=steps,
    )  # fmt: skip
