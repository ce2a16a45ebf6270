"""Python boolean expressions -> DSL conditions.

Accepted: perception calls (``frontIsClear()``, ``karel.front_is_clear()``,
``front_object_type("lava")``), ``not``, ``and``/``or`` (as the DSL's prefix ``and``/``or``
nodes, which evaluate left to right and short-circuit like Python, so the same perceptions are
called), comparisons with a boolean literal (``x == True``, ``x is False``, ``x != False``) and the
literals ``True``/``False`` (returned as Python bools so that the caller can fold them).
"""

from __future__ import annotations

import ast
import re

from agent.conversion.limits import MAX_NESTING
from agent.conversion.python_module import receiver_chain
from agent.conversion.vocabulary import resolve_name, suggestion
from envs.dsl.ast import And, BoolConst, Cond, Not, Or, Perception
from envs.dsl.grammar import Grammar
from envs.errors import ConversionError

_ARG_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fail(node: ast.AST, reason: str, what: str) -> ConversionError:
    line = getattr(node, "lineno", None)
    return ConversionError(f"line {line}: {what}", reason=reason, line=line)


def _not(value: Cond | bool) -> Cond | bool:
    if isinstance(value, bool):
        return not value
    return value.cond if isinstance(value, Not) else Not(value)


def _combine(op: ast.boolop, values: list[Cond | bool]) -> Cond | bool:
    # Fold from the right: `a and b and c` is And(a, And(b, c)); literals fold away exactly
    # (a literal costs no call, and short-circuiting past it skips nothing observable).
    is_and = isinstance(op, ast.And)
    result = values[-1]
    for value in reversed(values[:-1]):
        if isinstance(value, bool):
            if value is is_and:
                continue  # `True and x` is x, `False or x` is x
            result = value  # `False and x` is False, `True or x` is True
        elif isinstance(result, bool):
            # `x and True` is x as a boolean but `x and False` still calls x: keep it exact.
            result = (
                value if result is is_and else (And if is_and else Or)(value, BoolConst(result))
            )
        else:
            result = And(value, result) if is_and else Or(value, result)
    return result


def _perception(call: ast.Call, name: str, gram: Grammar) -> Perception:
    if not gram.takes_arg(name):
        if call.args or call.keywords:
            raise _fail(call, "call_arguments", f"the perception `{name}()` takes no arguments")
        return Perception(name)
    args = [*call.args, *(k.value for k in call.keywords)]
    values = ", ".join(f'"{v}"' for v in gram.perception_args[name])
    if len(args) != 1 or not (
        isinstance(args[0], ast.Constant)
        and isinstance(args[0].value, str)
        and _ARG_WORD.fullmatch(args[0].value.strip())
    ):
        raise _fail(call, "call_arguments", f"`{name}` takes one word in quotes, e.g. {values}")
    return Perception(name, args[0].value.strip().lower())


def to_condition(expr: ast.expr, gram: Grammar, helpers: set[str], depth: int = 0) -> Cond | bool:
    """Convert a Python test expression to a DSL condition, or a bool for a literal.

    Raises:
        ConversionError: The expression uses variables, unknown calls, comparisons other than
            with a boolean literal, or is nested too deeply.
    """
    if depth > MAX_NESTING:
        raise _fail(expr, "too_deep", f"a condition is nested more than {MAX_NESTING} levels")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return _not(to_condition(expr.operand, gram, helpers, depth + 1))
    if isinstance(expr, ast.BoolOp):
        values = [to_condition(v, gram, helpers, depth + 1) for v in expr.values]
        return _combine(expr.op, values)
    if isinstance(expr, ast.Compare):
        return _comparison(expr, gram, helpers, depth)
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and receiver_chain(func.value):
            name = func.attr
        else:
            raise _fail(expr, "unknown_call", f"cannot call `{ast.unparse(func)}` in a condition")
        resolved = resolve_name(name, gram)
        if resolved is None and name in helpers and isinstance(func, ast.Name):
            raise _fail(
                expr,
                "helper_condition",
                f"helper `{name}()` cannot be a condition: helpers return nothing in the DSL; "
                "test a perception instead",
            )
        if resolved is None:
            hint = suggestion(name, gram)
            raise _fail(expr, "unknown_call", f"unknown perception `{name}()`; {hint}")
        if resolved.kind == "action":
            raise _fail(expr, "action_condition", f"`{name}()` is an action, not a condition")
        return _perception(expr, resolved.name, gram)
    if isinstance(expr, ast.Name | ast.Attribute):
        name = expr.id if isinstance(expr, ast.Name) else expr.attr
        resolved = resolve_name(name, gram)
        if resolved is not None:
            raise _fail(expr, "missing_call", f"`{name}` is not called: write `{resolved.name}()`")
        raise _fail(expr, "variable", f"`{name}` is a variable: the DSL has no variables")
    kind = type(expr).__name__
    raise _fail(expr, "unsupported_condition", f"a condition cannot be a {kind} expression")


def _comparison(expr: ast.Compare, gram: Grammar, helpers: set[str], depth: int) -> Cond | bool:
    if len(expr.ops) == 1:
        left, right = expr.left, expr.comparators[0]
        op = expr.ops[0]
        if isinstance(left, ast.Constant) and isinstance(left.value, bool):
            left, right = right, left
        if (
            isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot)
            and isinstance(right, ast.Constant)
            and isinstance(right.value, bool)
        ):
            value = to_condition(left, gram, helpers, depth + 1)
            positive = right.value ^ isinstance(op, ast.NotEq | ast.IsNot)
            return value if positive else _not(value)
    raise _fail(
        expr,
        "comparison",
        "comparisons cannot be expressed, except with True/False; use the perception itself",
    )
