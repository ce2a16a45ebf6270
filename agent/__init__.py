"""The agent layer: LLM gateway, Pythonic-DSL conversion, revision, solve(), CLI and service.

The front door::

    from agent import solve, match_task
    result = solve("pick up the key and open the door")   # embedded model, no key needed
    print(result.program, result.reward)

Exports are loaded lazily so that ``import agent`` stays fast (no litellm, no numba).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.llm.types import LLMConfig
    from agent.pipeline.config import SolveConfig
    from agent.pipeline.matching import match_task
    from agent.pipeline.results import MatchResult, SolveResult
    from agent.pipeline.solver import solve
    from agent.prompting import render_prompt

__all__ = [
    "LLMConfig", "MatchResult", "SolveConfig", "SolveResult", "match_task", "render_prompt",
    "solve",
]  # fmt: skip

_LAZY = {
    "solve": "agent.pipeline.solver",
    "match_task": "agent.pipeline.matching",
    "MatchResult": "agent.pipeline.results",
    "SolveResult": "agent.pipeline.results",
    "SolveConfig": "agent.pipeline.config",
    "LLMConfig": "agent.llm.types",
    "render_prompt": "agent.prompting",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
