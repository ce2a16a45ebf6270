"""Pythonic-DSL: model answers (Python or DSL) to canonical DSL, and DSL back to Python."""

from agent.conversion.acceptance import AcceptanceStats, ConversionOutcome, convert_answer, tally
from agent.conversion.extract_dsl import extract_dsl
from agent.conversion.grammar import max_answer_chars, python_gbnf
from agent.conversion.python_to_dsl import python_to_dsl, python_to_program
from agent.conversion.to_python import PythonRendering, to_python, to_python_with_lines

__all__ = [
    "AcceptanceStats", "ConversionOutcome", "PythonRendering", "convert_answer", "extract_dsl",
    "max_answer_chars", "python_gbnf", "python_to_dsl", "python_to_program", "tally", "to_python",
    "to_python_with_lines",
]  # fmt: skip
