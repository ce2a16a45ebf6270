"""Plain-function tools: Python-to-DSL conversion and DSL validation."""

from agent.tools.python_to_dsl import python_to_dsl
from agent.tools.validate_dsl import DSLValidation, validate_dsl

__all__ = ["DSLValidation", "python_to_dsl", "validate_dsl"]
