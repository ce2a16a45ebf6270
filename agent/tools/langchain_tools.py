"""The four agent tools as LangChain tools, bound to one task and one evaluation budget.

``make_tools(task)`` returns ``rollout``, ``validate_dsl``, ``python_to_dsl`` and
``scheduled_hc`` as ``langchain_core`` tools whose descriptions and argument docs come from their
Google docstrings (``parse_docstring=True``: without it LangChain drops argument docs). Each
returns a short text a model can act on; a bad program is an answer ("error: ..."), not an
exception, because tools report and the library raises. The shared :class:`ToolState` counts
evaluations against the budget and remembers the best program any tool saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.tools.arguments import as_budget, as_programs, as_text
from agent.tools.rollout import rollout
from agent.tools.scheduled_hc import scheduled_hc
from agent.tools.validate_dsl import validate_dsl
from envs.errors import LlmgsError
from envs.task import Task

TOOL_NAMES: tuple[str, ...] = ("rollout", "validate_dsl", "python_to_dsl", "scheduled_hc")
#: Evaluations of one ``scheduled_hc`` call when the model names no budget.
TOOL_SEARCH_BUDGET = 2000
EXAMPLE_PROGRAM = "DEF run m( move m)"
EXAMPLE_PYTHON = "def run():\n    move()"


@dataclass
class ToolState:
    """Mutable bookkeeping shared by the tools of one agent run.

    Attributes:
        task: The task the tools act on.
        budget: Evaluations the tools may spend in total.
        seed: Seed of the searches the tools run.
        evaluations: Evaluations spent so far (a rollout counts 1).
        best_program: Best program seen by any tool ("" before the first).
        best_return: Its mean return.
        programs: Every distinct program a tool evaluated.
        searched_unique: Distinct programs the searches evaluated, summed over searches.
        turns: Model turns completed by the agent loop.
        on_event: Receives search events of ``scheduled_hc``.
    """

    task: Task
    budget: int
    seed: int = 0
    evaluations: int = 0
    best_program: str = ""
    best_return: float = float("-inf")
    programs: set[str] = field(default_factory=set)
    searched_unique: int = 0
    turns: int = 0
    on_event: Callable[[dict[str, Any]], None] | None = None

    @property
    def remaining(self) -> int:
        """Evaluations left."""
        return max(0, self.budget - self.evaluations)

    def offer(self, program: str, value: float) -> None:
        """Record an evaluated program; keep it if it is the best so far."""
        self.programs.add(program)
        if value > self.best_return:
            self.best_program, self.best_return = program, value


def _guard(work: Callable[[], str]) -> str:
    try:
        return work()
    except LlmgsError as exc:  # tools answer errors in words; the model can fix its input
        return f"error: {exc}"


def make_tools(state: ToolState) -> list[Any]:
    """The four tools as LangChain ``StructuredTool`` objects bound to ``state``."""
    from langchain_core.tools import tool  # a base dependency, imported late to keep start-up light

    fns = tool_functions(state)
    tools = [tool(fns[name], parse_docstring=True) for name in TOOL_NAMES]
    for t in tools:
        # A call the schema rejects is answered in words, like every other bad call.
        t.handle_validation_error = _validation_answer(t.name)
    return tools


def _validation_answer(name: str) -> Callable[[Exception], str]:
    def answer(exc: Exception) -> str:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            parts = [
                f"{'.'.join(str(x) for x in e.get('loc', ())) or 'arguments'}: {e.get('msg', '')}"
                for e in errors()
            ]
            detail = "; ".join(parts)
        else:
            detail = str(exc)
        return f"error: bad arguments for {name}: {detail}"

    return answer


def tool_functions(state: ToolState) -> dict[str, Callable[..., str]]:
    """The four tools as plain functions returning text, bound to ``state`` (by name)."""
    domain = state.task.domain

    def rollout_tool(program: str) -> str:
        """Run a DSL program on every instance of the task and report its returns.

        Args:
            program: The program in the task's DSL, e.g. "DEF run m( move m)".
        """

        def work() -> str:
            text = as_text(program, "program", EXAMPLE_PROGRAM)
            if state.remaining < 1:
                return "error: the evaluation budget is used up; give your final answer"
            summary = rollout(text, state.task)
            state.evaluations += 1
            state.offer(summary.program, summary.mean_return)
            return str(summary)

        return _guard(work)

    def validate_dsl_tool(program: str) -> str:
        """Check that a DSL program parses; explain the first error and where it is.

        Args:
            program: The program in the task's DSL.
        """
        return _guard(
            lambda: validate_dsl(as_text(program, "program", EXAMPLE_PROGRAM), domain).message
        )

    def python_to_dsl_tool(code: str) -> str:
        """Convert a Python program (def run(): ... using the task's actions) to the DSL.

        Args:
            code: Python source of the program; prose and code fences are allowed around it.
        """
        from agent.conversion.python_to_dsl import python_to_dsl

        return _guard(lambda: python_to_dsl(as_text(code, "code", EXAMPLE_PYTHON), domain))

    def scheduled_hc_tool(
        programs: list[str] | str | None = None, budget: int | str = TOOL_SEARCH_BUDGET
    ) -> str:
        """Improve programs by Scheduled Hill Climbing and return the best program found.

        Args:
            programs: Start programs in the task's DSL (may be empty for random starts).
            budget: Evaluations to spend, a whole number (each program on all instances counts
                1), or "all" for everything left.
        """

        def work() -> str:
            starts = as_programs(programs, EXAMPLE_PROGRAM)
            if state.remaining < 1:
                return "error: the evaluation budget is used up; give your final answer"
            allowed = as_budget(budget, state.remaining, TOOL_SEARCH_BUDGET)
            summary = scheduled_hc(
                state.task, starts, budget=allowed, seed=state.seed, on_event=state.on_event
            )
            state.evaluations += summary.evaluations
            state.searched_unique += summary.unique_evaluations
            if summary.best_program:
                state.offer(summary.best_program, summary.best_return)
            return str(summary)

        return _guard(work)

    rollout_tool.__name__ = "rollout"
    validate_dsl_tool.__name__ = "validate_dsl"
    python_to_dsl_tool.__name__ = "python_to_dsl"
    scheduled_hc_tool.__name__ = "scheduled_hc"
    return {
        "rollout": rollout_tool,
        "validate_dsl": validate_dsl_tool,
        "python_to_dsl": python_to_dsl_tool,
        "scheduled_hc": scheduled_hc_tool,
    }


def describe_tools(state: ToolState) -> str:
    """One JSON line per tool (name, description, arguments) for a text-parsed tool loop."""
    import inspect

    lines = []
    for name, fn in tool_functions(state).items():
        doc = inspect.getdoc(fn) or ""
        summary = doc.split("\n\n")[0]
        args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
        params: dict[str, str] = {}
        for line in args.splitlines():
            head, sep, rest = line.strip().partition(":")
            if line.startswith("    ") and not line.startswith("     ") and sep:
                params[head.strip()] = rest.strip()
            elif params and line.strip():  # a continuation line of the last argument
                last = next(reversed(params))
                params[last] += " " + line.strip()
        lines.append(json.dumps({"name": name, "description": summary, "arguments": params}))
    return "\n".join(lines)
