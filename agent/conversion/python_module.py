"""Reading a model's Python module: which code is the program, what the helpers are.

Rules (documented in docs/pythonic-dsl.md):

* Top-level imports, docstrings, ``pass``, ``print`` of literals and ``if __name__ ==
  "__main__":`` guards (whose body counts as top level) are skipped, and so is the creation
  of an agent object such as ``agent = Karel()`` (a name bound to a call of something that is
  neither a DSL name nor a helper).
* If any other top-level statement exists, those statements are the program (``run()`` at the
  end of a file simply inlines ``run``).
* Otherwise the program is the function ``run``, else ``main``, else the last defined function
  that no other function calls.
* Every other ``def`` is a helper that is inlined where it is called; recursion is refused.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from agent.conversion.limits import MAX_REPEAT_COUNT
from agent.conversion.source import parse_quietly
from agent.conversion.vocabulary import resolve_name
from envs.dsl.grammar import Grammar
from envs.errors import ConversionError

_ENTRY_NAMES = ("run", "main")


def _fail(node: ast.AST, reason: str, what: str) -> ConversionError:
    line = getattr(node, "lineno", None)
    return ConversionError(f"line {line}: {what}", reason=reason, line=line)


def receiver_chain(expr: ast.expr) -> bool:
    """Whether ``expr`` is ``name`` or ``name.attr.attr``: something a method is called on."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name)


@dataclass
class ProgramSource:
    """The parts of a model's module the converter needs.

    Attributes:
        functions: Top-level ``def``s by name.
        body: The statements that make up the program.
        is_function: Whether ``body`` is a function's body.
        loaded: Every name read anywhere in the module.
    """

    functions: dict[str, ast.FunctionDef]
    body: list[ast.stmt]
    is_function: bool = False
    loaded: frozenset[str] = frozenset()

    def call_name(self, call: ast.Call) -> str | None:
        """The called name: ``move`` for ``move()``, ``karel.move()`` and ``self.agent.move()``."""
        func = call.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute) and receiver_chain(func.value):
            return func.attr
        return None

    def range_count(self, expr: ast.expr) -> int:
        """Iterations of ``range(...)`` with literal integer arguments.

        Raises:
            ConversionError: ``expr`` is not such a ``range`` call (reason ``"for_iterable"``),
                an argument is a variable (reason ``"variable"``) or not a whole number, the
                step is zero or it runs more than :data:`MAX_REPEAT_COUNT` times (reason
                ``"repeat_count"``).
        """
        if not (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "range"
            and 1 <= len(expr.args) <= 3
            and not expr.keywords
        ):
            raise _fail(expr, "for_iterable", "a for loop must iterate over range(n)")
        values = [_int_literal(a) for a in expr.args]
        start, stop, step = (0, values[0], 1) if len(values) == 1 else (*values[:2], 1)
        if len(values) == 3:
            step = values[2]
        if step == 0:
            raise _fail(expr, "repeat_count", "range() step must not be zero")
        if step > 0:
            count = max(0, (stop - start + step - 1) // step)
        else:
            count = max(0, (start - stop - step - 1) // (-step))
        if count > MAX_REPEAT_COUNT:
            raise _fail(expr, "repeat_count", f"a loop of {count} iterations is too long")
        return count

    def uses_name(self, body: list[ast.stmt], name: str) -> bool:
        """Whether ``name`` is read in ``body`` other than as a method receiver."""
        if name not in self.loaded:
            return False  # fast path: the name is never read anywhere in the module
        skip = set()
        for node in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(node, ast.Attribute):
                skip.add(id(node.value))
        return any(
            isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)
            and n.id == name
            and id(n) not in skip
            for stmt in body
            for n in ast.walk(stmt)
        )


def _int_literal(expr: ast.expr) -> int:
    sign = 1
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(expr.op, ast.USub) else 1
        expr = expr.operand
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return sign * expr.value
    if isinstance(expr, ast.Name):
        raise _fail(expr, "variable", f"range() uses the variable `{expr.id}`; write a number")
    raise _fail(expr, "repeat_count", "range() arguments must be whole-number literals")


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or node.orelse:
        return False
    text = ast.unparse(node.test).replace("'", '"').replace(" ", "")
    return text in ('__name__=="__main__"', '"__main__"==__name__')


def _is_agent_creation(node: ast.stmt, gram: Grammar, functions: dict) -> bool:
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return False
    target, value = node.targets[0], node.value
    if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
        return False
    if not receiver_chain(value.func) or value.keywords:
        return False
    callee = value.func.attr if isinstance(value.func, ast.Attribute) else value.func.id
    constant_args = all(isinstance(a, ast.Constant) for a in value.args)
    return constant_args and callee not in functions and resolve_name(callee, gram) is None


def _is_literal_print(expr: ast.expr) -> bool:
    # A top-level `print("ready")` must not turn the file's defs into an empty program.
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "print"
        and all(isinstance(a, ast.Constant) for a in expr.args)
    )


def _scan(stmts: list[ast.stmt], gram: Grammar, source: ProgramSource) -> None:
    for node in stmts:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
            continue
        if isinstance(node, ast.Expr) and (
            isinstance(node.value, ast.Constant) or _is_literal_print(node.value)
        ):
            continue
        if isinstance(node, ast.FunctionDef):
            if node.name in source.functions:
                raise _fail(node, "duplicate_def", f"function `{node.name}` is defined twice")
            if node.decorator_list:
                raise _fail(node, "decorator", f"function `{node.name}` has a decorator")
            source.functions[node.name] = node
        elif isinstance(node, ast.AsyncFunctionDef | ast.ClassDef):
            raise _fail(node, "class", "write plain functions: classes and async code are refused")
        elif _is_main_guard(node):
            _scan(node.body, gram, source)
        elif _is_agent_creation(node, gram, source.functions):
            continue  # `karel = Karel()`: method calls on it are plain actions
        else:
            source.body.append(node)


def _entry(functions: dict[str, ast.FunctionDef]) -> str:
    for name in _ENTRY_NAMES:
        if name in functions:
            return name
    called = {
        n.func.id
        for f in functions.values()
        for n in ast.walk(f)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    roots = [name for name in functions if name not in called]
    return roots[-1] if roots else list(functions)[-1]


def parse_python(code: str) -> ast.Module:
    """``ast.parse`` with every failure mapped to :class:`ConversionError`.

    Raises:
        ConversionError: The code does not parse (reason ``"python_syntax"``) or nests too
            deeply for the parser (reason ``"too_deep"``).
    """
    try:
        return parse_quietly(code)
    except SyntaxError as err:
        line = err.lineno
        shown = (err.text or "").rstrip("\n")
        caret = " " * max((err.offset or 1) - 1, 0) + "^" if shown else ""
        detail = f"\n    {shown}\n    {caret}" if shown else ""
        raise ConversionError(
            f"line {line}: the Python code does not parse: {err.msg}{detail}",
            reason="python_syntax",
            line=line,
        ) from None
    except (RecursionError, MemoryError):
        raise ConversionError(
            "the Python code is nested too deeply to parse", reason="too_deep"
        ) from None
    except ValueError as err:  # null bytes, integer literals too long to convert
        raise ConversionError(
            f"the Python code does not parse: {err}", reason="python_syntax"
        ) from None


def find_program(code: str, gram: Grammar) -> ProgramSource:
    """Parse ``code`` and decide which statements are the program (see the module docstring).

    Raises:
        ConversionError: The code does not parse, defines a class, a function twice, or has
            nothing to run.
    """
    tree = parse_python(code)
    loaded = frozenset(
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    )
    source = ProgramSource(functions={}, body=[], loaded=loaded)
    _scan(tree.body, gram, source)
    if source.body:
        return source
    if not source.functions:
        raise ConversionError("the code defines no function and runs nothing", reason="no_code")
    name = _entry(source.functions)
    func = source.functions[name]
    call = ast.Expr(ast.Call(ast.Name(name, ast.Load()), [], []))
    source.body = [ast.copy_location(call, func)]
    ast.copy_location(call.value, func)
    return source
