"""Agent mode: the model drives the tools (rollout, validate_dsl, python_to_dsl, scheduled_hc).

Two loops share the tools of :mod:`agent.tools.langchain_tools`:

- :func:`run_text_tool_loop`: what ``solve(mode="agent")`` runs for every model. The model
  writes each call as JSON text and every request goes through the :class:`~agent.llm.LLM` it
  is given (in ``solve()`` the gateway: cache and ``--cache replay``, retries, seeds,
  ``max_tokens``, usage, errors), so agent mode has no side door to the backend. Each answer
  must hold ``{"tool": NAME, "arguments": {...}}`` (or Qwen's ``{"name": ..., "arguments":
  ...}``) or ``{"final": PROGRAM}``; an answer with a Python program and no call is converted
  and rolled out, so a small model that forgets the format still makes progress.
- :func:`run_tool_calling_agent`: LangChain's tool-calling API (``bind_tools`` on a chat
  model, ``AIMessage.tool_calls`` in, ``ToolMessage`` out), for a LangChain chat model of
  the user's own; ``solve()`` does not use it.

Arguments written by the model are never trusted: a bad call (unknown tool, wrong argument
names or types, a budget of "all remaining") is answered with ``error: ...`` and the loop
goes on. After the loop, any budget left is spent by Scheduled HC from the best programs the
tools saw (the LLM-GS finishing step), so agent mode never returns less than its search could
find.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.events import StageEmitter
from agent.llm.types import LLM, SamplingSettings
from agent.tools.arguments import bind_arguments
from agent.tools.langchain_tools import ToolState, describe_tools, make_tools, tool_functions
from envs.errors import CacheMiss, ConfigError, LLMError, LlmgsError
from envs.task import Task

#: Sampling temperature of the tool-driving model: lower than proposals', a call must parse.
AGENT_TEMPERATURE = 0.7

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
        warnings: What went wrong without ending the run (the model failed mid-loop).
    """

    best: tuple[str, float] | None
    stop_reason: str
    evaluations: int
    unique: int
    steps: int
    warnings: tuple[str, ...] = ()


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
            if isinstance(name, str):
                # Arguments of the wrong shape are the tool's to reject, in words.
                return {"tool": name, "arguments": args}
        start = text.find("{", start + 1)
    return None


def _call(fns: dict[str, Callable[..., str]], name: str, args: Any) -> str:
    """Run one tool call written by the model; any fault of the call is answered in words."""
    if name not in fns:
        return f"error: no tool {name!r}; the tools are {', '.join(fns)}"
    try:
        kwargs = bind_arguments(fns[name], name, args)
    except ConfigError as exc:
        return f"error: {exc}"
    return fns[name](**kwargs)


def run_text_tool_loop(
    llm: LLM,
    state: ToolState,
    messages: list[dict[str, str]],
    *,
    max_steps: int,
    emit: StageEmitter,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
    max_tokens: int = 512,
) -> int:
    """Let a model call the tools by writing JSON; returns the number of tool calls made.

    Args:
        llm: The model (in ``solve()``, the gateway).
        state: The tools' shared state (task, budget, best program).
        messages: System and user messages (the task prompt).
        max_steps: Model answers (tool calls) allowed.
        emit: Event emitter (``llm_progress`` per answer, ``tool_call`` per call).
        seed: Seed of the first answer; answer ``k`` uses ``seed + k``.
        should_stop: Polled before each answer; True ends the loop.
        max_tokens: Tokens per answer.

    Raises:
        LLMError: The model failed (``CacheMiss`` in replay-only mode).
    """
    from agent.conversion.acceptance import convert_answer

    fns = tool_functions(state)
    system = messages[0]["content"] + "\n\n" + _INSTRUCTIONS.format(tools=describe_tools(state))
    history = [{"role": "system", "content": system}, *messages[1:]]
    for step in range(1, max_steps + 1):
        state.turns = step - 1
        if (should_stop is not None and should_stop()) or state.best_return >= 1.0:
            return step - 1
        settings = SamplingSettings(
            n=1, temperature=AGENT_TEMPERATURE, max_tokens=max_tokens, seed=seed + step
        )
        emit("llm_request", round=0, sample=step - 1, of=max_steps, n=1)
        started = time.perf_counter()
        answer = llm.complete(history, settings).items[0]
        seconds = time.perf_counter() - started
        emit(
            "llm_progress", round=0, sample=step, of=max_steps, cached=answer.cached,
            completion_tokens=answer.completion_tokens, seconds=round(seconds, 3),
            tokens_per_s=None if answer.cached or seconds <= 0
            else round(answer.completion_tokens / seconds, 1),
        )  # fmt: skip
        reply = answer.text
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
    emit: StageEmitter,
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
            # make_tools answers schema violations in words (handle_validation_error).
            result = tool.invoke(call["args"]) if tool else f"error: no tool {call['name']!r}"
            emit("tool_call", step=calls, tool=call["name"], arguments=call["args"],
                 result=result)  # fmt: skip
            history.append(ToolMessage(content=str(result), tool_call_id=call["id"]))
    return calls


def run_agent(
    llm: LLM,
    task: Task,
    prompt: Any,
    budget: int,
    cfg: Any,
    emit: StageEmitter,
    should_stop: Callable[[], bool] | None,
) -> AgentOutcome:
    """Agent mode of ``solve()``: the model drives the tools, then search spends what is left."""
    from agent.prompting import render_prompt
    from agent.tools.scheduled_hc import scheduled_hc

    # Tools run on the plain task (cancellation is checked between steps); the final search
    # gets the cancellable one.
    state = ToolState(getattr(task, "inner", task), budget, cfg.seed)
    messages = render_prompt(prompt, cfg.strategy)
    limit = cfg.resolved_generation_s()
    deadline = time.monotonic() + limit

    def loop_over() -> bool:
        """The run is stopped, or the generation time budget is spent (the search gets the rest)."""
        if should_stop is not None and should_stop():
            return True
        if time.monotonic() < deadline:
            return False
        emit("warning", message=f"the generation time budget of {limit:g} s is spent: the "
             "model is asked nothing more and the search spends the evaluations left",
             kind="generation_time")  # fmt: skip
        return True

    # Every model, local or remote, drives the tools through ``llm`` (the gateway in solve()).
    warnings: tuple[str, ...] = ()
    try:
        steps = run_text_tool_loop(
            llm, state, messages, max_steps=cfg.agent_steps, emit=emit, seed=cfg.seed,
            should_stop=loop_over, max_tokens=cfg.resolved_max_tokens(),
        )  # fmt: skip
    except CacheMiss:
        raise  # replay promises the recorded run or an error, never a different run
    except LLMError as exc:  # keep what the tools found: the search below carries on from it
        steps = state.turns
        warnings = (f"the model failed after {steps} tool calls; the search carries on from "
                    f"the best program the tools saw: {exc}",)  # fmt: skip
        emit("warning", message=warnings[0], kind="llm_failed")
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
        steps=steps, warnings=warnings,
    )  # fmt: skip
