"""The DSL shared by every domain: AST, parser/printer and grammar data."""

from envs.dsl.ast import (
    Action,
    And,
    BoolConst,
    Cond,
    If,
    IfElse,
    Node,
    Not,
    Or,
    Perception,
    Program,
    Repeat,
    Stmt,
    While,
    height,
    max_block_length,
    nesting,
    preorder,
    token_count,
)
from envs.dsl.grammar import GRAMMARS, KAREL, MAX_REPEAT, MINIGRID, Grammar, grammar
from envs.dsl.parser import ensure_program, parse

__all__ = [
    "Action", "And", "BoolConst", "Cond", "GRAMMARS", "Grammar", "If", "IfElse", "KAREL",
    "MAX_REPEAT", "MINIGRID", "Node", "Not", "Or", "Perception", "Program", "Repeat", "Stmt",
    "While", "ensure_program", "grammar", "height", "max_block_length", "nesting", "parse",
    "preorder", "token_count",
]  # fmt: skip
