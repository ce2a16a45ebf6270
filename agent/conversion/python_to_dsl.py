"""Exact Python -> DSL conversion by walking Python's own ``ast`` (never executing anything).

The reference converter cuts strings by indentation and silently drops code (spec/benchmark.md
§7.3). This one parses the model's code with :func:`ast.parse`, inlines helper functions,
and translates each construct to the DSL statement that means exactly the same thing, or raises
:class:`ConversionError` naming the construct, its line and the reason. The accepted language
is documented in docs/pythonic-dsl.md.

Example:
    >>> python_to_dsl("```python\\ndef run():\\n    while frontIsClear():\\n        move()\\n```")
    'DEF run m( WHILE c( frontIsClear c) w( move w) m)'
"""

from __future__ import annotations

import ast

from agent.conversion.limits import (
    MAX_NESTING,
    Budget,
    check_program,
    cond_size,
    repeat_exactly,
)
from agent.conversion.python_conditions import to_condition
from agent.conversion.python_module import ProgramSource, find_program, receiver_chain
from agent.conversion.source import extract_python
from agent.conversion.vocabulary import resolve_name, suggestion
from envs.dsl.ast import (
    Action,
    And,
    Cond,
    If,
    IfElse,
    Not,
    Program,
    Stmt,
    While,
)
from envs.dsl.grammar import Grammar, grammar
from envs.dsl.parser import parse
from envs.errors import ConversionError, DSLSyntaxError


def _fail(node: ast.AST, reason: str, what: str) -> ConversionError:
    line = getattr(node, "lineno", None)
    return ConversionError(f"line {line}: {what}", reason=reason, line=line)


def _agent_argument(arg: ast.expr) -> bool:
    # Helpers may be handed the agent object (`turn_around(karel)`, `run(Karel())`), nothing else.
    if isinstance(arg, ast.Call):
        return receiver_chain(arg.func) and all(isinstance(a, ast.Constant) for a in arg.args)
    return receiver_chain(arg)


def negate(cond: Cond) -> Cond:
    """``not cond``, removing a double negation (it evaluates the same perceptions)."""
    if isinstance(cond, Not):
        return cond.cond
    return Not(cond)


def _nested_if(cond: Cond, body: tuple[Stmt, ...]) -> tuple[If, int]:
    # `if a and b: body` without else is exactly IF a (IF b body): same short-circuit, same
    # perception calls. This keeps the program inside the search's grammar (no And node).
    # A loop, not recursion: a flat `a and b and ...` chain may have thousands of operands.
    lefts: list[Cond] = []
    while isinstance(cond, And):
        lefts.append(cond.left)
        cond = cond.right
    node = If(cond, body)
    for left in reversed(lefts):
        node = If(left, (node,))
    return node, len(lefts) + 1


class _Converter:
    """Walks the statements of the chosen program, inlining helpers."""

    def __init__(self, source: ProgramSource, gram: Grammar) -> None:
        self.source = source
        self.gram = gram
        self.budget = Budget()
        self.stack: list[str] = []

    # -- blocks ----------------------------------------------------------------------------
    def block(self, nodes: list[ast.stmt], depth: int, in_function: bool) -> tuple[Stmt, ...]:
        if depth > MAX_NESTING:
            raise _fail(nodes[0], "too_deep", f"code is nested more than {MAX_NESTING} levels")
        out: list[Stmt] = []
        for k, node in enumerate(nodes):
            last = in_function and k == len(nodes) - 1
            out.extend(self.statement(node, depth, last))
        # No spending here: statements are counted where they are made, so a helper's body
        # or a folded branch passed up through this block is not counted twice.
        return tuple(out)

    def statement(self, node: ast.stmt, depth: int, last: bool) -> tuple[Stmt, ...]:
        if isinstance(node, ast.Expr):
            return self.expression_statement(node, depth)
        if isinstance(node, ast.Pass):
            return ()
        if isinstance(node, ast.If):
            return self.if_statement(node, depth)
        if isinstance(node, ast.While):
            return self.while_statement(node, depth)
        if isinstance(node, ast.For):
            return self.for_statement(node, depth)
        if isinstance(node, ast.Return):
            if node.value is None and last:
                return ()  # a bare `return` ending a function changes nothing
            raise _fail(node, "return", "`return` cannot be expressed: the DSL has no early exit")
        return self.unsupported(node)

    def unsupported(self, node: ast.stmt) -> tuple[Stmt, ...]:
        if isinstance(node, ast.Break | ast.Continue):
            word = "break" if isinstance(node, ast.Break) else "continue"
            raise _fail(node, word, f"`{word}` cannot be expressed: the DSL has no loop exits")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            raise _fail(node, "variable", "variables cannot be expressed: the DSL has no variables")
        if isinstance(node, ast.Global | ast.Nonlocal):
            raise _fail(node, "variable", "global/nonlocal variables cannot be expressed")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            raise _fail(node, "nested_def", "define helper functions at the top level only")
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise _fail(node, "import", "imports are only allowed at the top level")
        name = type(node).__name__.lower()
        raise _fail(node, "unsupported", f"`{name}` statements cannot be expressed in the DSL")

    # -- calls -----------------------------------------------------------------------------
    def expression_statement(self, node: ast.Expr, depth: int) -> tuple[Stmt, ...]:
        value = node.value
        if isinstance(value, ast.Constant):
            return ()  # docstrings and `...`
        if not isinstance(value, ast.Call):
            raise _fail(node, "unsupported", "only calls can be statements")
        name = self.source.call_name(value)
        if name is None:
            raise _fail(node, "unknown_call", f"cannot call `{ast.unparse(value.func)}`")
        if name in self.source.functions and isinstance(value.func, ast.Name):
            # `karel.move()` is the agent's method even inside a helper named `move`.
            return self.inline(value, name, depth)
        if name == "print":
            if all(isinstance(a, ast.Constant) for a in value.args):
                return ()  # printing constants has no effect on the agent
            raise _fail(node, "unsupported", "print() may only show literal text")
        resolved = resolve_name(name, self.gram)
        if resolved is None:
            hint = suggestion(name, self.gram)
            raise _fail(node, "unknown_call", f"unknown function `{name}()`; {hint}")
        if resolved.kind == "perception":
            raise _fail(
                node,
                "perception_statement",
                f"`{name}()` is a perception: use it in an if/while condition, not as a statement",
            )
        if value.args or value.keywords:
            raise _fail(node, "call_arguments", f"the action `{name}()` takes no arguments")
        self.budget.spend(1, node.lineno)
        return (Action(resolved.name),)

    def inline(self, call: ast.Call, name: str, depth: int) -> tuple[Stmt, ...]:
        if name in self.stack:
            chain = " -> ".join([*self.stack, name])
            raise _fail(call, "recursion", f"recursion cannot be expressed ({chain})")
        if len(self.stack) >= MAX_NESTING:
            raise _fail(call, "too_deep", f"helpers call each other more than {MAX_NESTING} deep")
        if call.keywords or not all(_agent_argument(a) for a in call.args):
            raise _fail(call, "call_arguments", f"helper `{name}()` is called with arguments")
        func = self.source.functions[name]
        self.stack.append(name)
        try:
            return self.block(func.body, depth + 1, in_function=True)
        finally:
            self.stack.pop()

    # -- control flow ----------------------------------------------------------------------
    def condition(self, expr: ast.expr) -> Cond | bool:
        return to_condition(expr, self.gram, set(self.source.functions))

    def if_statement(self, node: ast.If, depth: int) -> tuple[Stmt, ...]:
        cond = self.condition(node.test)
        body = self.block(node.body, depth + 1, in_function=False)
        orelse = self.block(node.orelse, depth + 1, in_function=False) if node.orelse else ()
        if isinstance(cond, bool):
            return body if cond else orelse
        if not body and not orelse:
            return ()  # documented: drops one perception evaluation (call count only)
        made = 1
        if not body:
            stmt: Stmt = If(negate(cond), orelse)
        elif not orelse:
            stmt, made = _nested_if(cond, body)
        else:
            stmt = IfElse(cond, body, orelse)
        self.budget.spend(made, node.lineno, cond_size(cond))
        return (stmt,)

    def while_statement(self, node: ast.While, depth: int) -> tuple[Stmt, ...]:
        cond = self.condition(node.test)
        if cond is True:
            raise _fail(
                node,
                "while_true",
                "`while True` loops forever and the DSL has no break: loop on a perception, "
                "e.g. `while frontIsClear():`, or repeat a fixed number of times with range(n)",
            )
        if node.orelse:
            raise _fail(node, "loop_else", "`while ... else` cannot be expressed")
        body = self.block(node.body, depth + 1, in_function=False)
        if cond is False:
            return ()
        if not body:
            raise _fail(node, "empty_loop", "a while loop needs at least one action in its body")
        self.budget.spend(1, node.lineno, cond_size(cond))
        return (While(cond, body),)

    def for_statement(self, node: ast.For, depth: int) -> tuple[Stmt, ...]:
        if node.orelse:
            raise _fail(node, "loop_else", "`for ... else` cannot be expressed")
        if not isinstance(node.target, ast.Name):
            raise _fail(node, "variable", "a for loop may only bind one unused name, e.g. `_`")
        count = self.source.range_count(node.iter)
        if self.source.uses_name(node.body, node.target.id):
            raise _fail(
                node, "variable", f"the loop variable `{node.target.id}` is used in the body"
            )
        body = self.block(node.body, depth + 1, in_function=False)
        if not body:
            return ()
        loops = repeat_exactly(count, body, node.lineno)
        self.budget.spend(len(loops), node.lineno)
        return loops


def python_to_program(text: str, domain: str = "karel") -> Program:
    """Convert a raw model answer to a parsed :class:`Program` (see :func:`python_to_dsl`).

    Raises:
        ConversionError: As :func:`python_to_dsl`.
    """
    gram = grammar(domain)
    block = extract_python(text)
    source = find_program(block.code, gram)
    body = _Converter(source, gram).block(source.body, 0, in_function=source.is_function)
    if not body:
        raise ConversionError(
            "the program has no actions: the DSL needs at least one statement",
            reason="empty_program",
        )
    program = Program(body)
    check_program(program)  # before printing: bounded size and nesting
    try:
        parse(str(program), domain)
    except DSLSyntaxError as err:  # e.g. a Minigrid argument the tokens cannot hold
        raise ConversionError(f"the converted program is not valid DSL: {err}") from err
    return program


def python_to_dsl(text: str, domain: str = "karel") -> str:
    """Convert a raw model answer (prose, fences, helpers) to canonical DSL text.

    Args:
        text: The model's whole answer; the Python code is found inside it.
        domain: ``"karel"`` or ``"minigrid"``.

    Returns:
        Canonical DSL, e.g. ``"DEF run m( move m)"``.

    Raises:
        ConversionError: The code cannot be expressed exactly; ``reason`` is a short code
            (``"variable"``, ``"while_true"``, ``"unknown_call"``, ...) and ``line`` the line in
            the extracted code.
    """
    return str(python_to_program(text, domain))


__all__ = ["negate", "python_to_dsl", "python_to_program"]
