"""The ``python_to_dsl`` tool as a plain function (see agent.conversion for the rules)."""

from __future__ import annotations

from agent.conversion.python_to_dsl import python_to_dsl

__all__ = ["python_to_dsl"]
