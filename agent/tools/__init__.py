"""Plain-function tools: Python-to-DSL conversion, DSL validation, rollout and Scheduled HC.

LangChain versions of all four: :func:`agent.tools.langchain_tools.make_tools`.
"""

from agent.tools.python_to_dsl import python_to_dsl
from agent.tools.rollout import RolloutSummary, rollout
from agent.tools.scheduled_hc import SearchSummary, scheduled_hc
from agent.tools.validate_dsl import DSLValidation, validate_dsl

__all__ = [
    "DSLValidation", "RolloutSummary", "SearchSummary", "python_to_dsl", "rollout",
    "scheduled_hc", "validate_dsl",
]  # fmt: skip
