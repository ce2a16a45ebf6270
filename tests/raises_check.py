"""Finds public functions that raise one of llmgs's errors without a ``Raises:`` section.

The project's errors are the classes of ``envs/errors.py`` and every class in the tree that
derives from one of them (by name, to a fixed point). A function or method is checked when it
is public (its name, and its class's name, do not start with ``_``; ``__init__`` counts, and
may document its errors in the class's docstring instead) and its own body (not a nested
function or class) raises such an error: ``raise ConfigError(...)``, ``raise ConfigError``, or
``raise make_error(...)`` where ``make_error`` is a function of the same module annotated to
return a project error. A raise inside a ``try`` whose handler catches that error (or a base of
it) is not counted. Errors that escape from a function it calls are not followed: those need a
human reading.

Run it as a script over any folders, e.g. from the repository root::

    python tests/raises_check.py agent envs search evals

It prints ``path:line: name raises X without a Raises: section`` per offender and exits 1 when
there is one. ``tests/agent/test_raises_sections.py`` runs it over the folders it owns.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRORS_MODULE = ROOT / "envs" / "errors.py"

_BUILTIN_BASES = {"Exception", "BaseException"}


@dataclass(frozen=True)
class Offender:
    """A public function that raises a project error and has no ``Raises:`` section.

    Attributes:
        path: The file, relative to the repository root when under it.
        line: 1-based line of the ``def``.
        name: ``function`` or ``Class.method``.
        errors: The project errors it raises, sorted.
    """

    path: str
    line: int
    name: str
    errors: tuple[str, ...]

    def __str__(self) -> str:
        raised = ", ".join(self.errors)
        return f"{self.path}:{self.line}: {self.name} raises {raised} without a Raises: section"


def _python_files(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        if folder.is_file():
            yield folder
            continue
        for path in sorted(folder.rglob("*.py")):
            if not any(part.startswith(".") or part == "__pycache__" for part in path.parts):
                yield path


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: Iterable[ast.Module]) -> dict[str, set[str]]:
    """Every project error class and the names of its bases (itself included), transitively.

    Args:
        trees: Parsed modules to look for subclasses in (``envs/errors.py`` is always read).

    Returns:
        Class name -> the names an ``except`` could catch it by.
    """
    bases: dict[str, set[str]] = {}
    for tree in [ast.parse(ERRORS_MODULE.read_text()), *trees]:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                named = {b for b in map(_base_name, node.bases) if b}
                bases.setdefault(node.name, set()).update(named)
    known = {"LlmgsError"}
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in known and parents & known:
                known.add(name)
                changed = True
    closure: dict[str, set[str]] = {}
    for name in known:
        seen, todo = {name}, [name]
        while todo:
            for parent in bases.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        closure[name] = seen | _BUILTIN_BASES
    return closure


def _own_nodes(func: ast.AST) -> Iterator[tuple[ast.AST, tuple[ast.Try, ...]]]:
    """The nodes of ``func``'s own body with the ``try`` blocks (body part) around each."""
    stack: list[tuple[ast.AST, tuple[ast.Try, ...]]] = [
        (child, ()) for child in ast.iter_child_nodes(func)
    ]
    while stack:
        node, tries = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield node, tries
        if isinstance(node, ast.Try | ast.TryStar):
            stack.extend((child, (*tries, node)) for child in node.body)
            for part in (node.handlers, node.orelse, node.finalbody):
                stack.extend((child, tries) for child in part)
        else:
            stack.extend((child, tries) for child in ast.iter_child_nodes(node))


def _caught(error_bases: set[str], tries: tuple[ast.Try, ...]) -> bool:
    for block in tries:
        for handler in block.handlers:
            if handler.type is None:
                return True
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if {n for n in map(_base_name, types) if n} & error_bases:
                return True
    return False


def _raised(func: ast.AST, errors: dict[str, set[str]], factories: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for node, tries in _own_nodes(func):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        name = _base_name(target)
        if name in factories and isinstance(node.exc, ast.Call):
            name = factories[name]
        if name in errors and not _caught(errors[name], tries):
            found.add(name)
    return found


def _factories(tree: ast.Module, errors: dict[str, set[str]]) -> dict[str, str]:
    """Module functions annotated to return a project error: name -> the error."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            name = _base_name(node.returns)
            if name is None and isinstance(node.returns, ast.Constant):
                name = str(node.returns.value)
            if name in errors:
                out[node.name] = name
    return out


def _documented(func: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None) -> bool:
    if "Raises:" in (ast.get_docstring(func) or ""):
        return True
    return (
        func.name == "__init__"
        and owner is not None
        and "Raises:" in (ast.get_docstring(owner) or "")
    )


def _public_functions(
    tree: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("_"):
                yield node, None
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name == "__init__" or not item.name.startswith("_")
                ):
                    yield item, node


@functools.cache
def _tree_classes() -> tuple[ast.Module, ...]:
    # Error classes may be defined anywhere in the tree, not only in the files checked; only
    # the class definitions are kept, to parse the tree once per process.
    folders = [ROOT / name for name in ("agent", "envs", "search", "evals")]
    modules = []
    for path in _python_files(folders):
        classes = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)]
        modules.append(ast.Module(body=classes, type_ignores=[]))
    return tuple(modules)


def offenders(folders: Iterable[Path]) -> list[Offender]:
    """Public functions under ``folders`` that raise a project error with no ``Raises:``.

    Args:
        folders: Folders (searched for ``*.py``) or single files.

    Returns:
        The offenders, in file and line order.
    """
    parsed = [(path, ast.parse(path.read_text(), str(path))) for path in _python_files(folders)]
    errors = error_classes([*_tree_classes(), *(tree for _, tree in parsed)])
    out: list[Offender] = []
    for path, tree in parsed:
        factories = _factories(tree, errors)
        shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        for func, owner in _public_functions(tree):
            raised = _raised(func, errors, factories)
            if raised and not _documented(func, owner):
                name = f"{owner.name}.{func.name}" if owner else func.name
                out.append(Offender(shown, func.lineno, name, tuple(sorted(raised))))
    return sorted(out, key=lambda o: (o.path, o.line))


def documented_errors(doc: str, errors: Iterable[str]) -> set[str]:
    """The project errors a docstring's ``Raises:`` section names."""
    known, found, inside = set(errors), set(), False
    for line in doc.splitlines():
        if line.strip() == "Raises:":
            inside = True
        elif inside and line and not line.startswith(" ") and line.rstrip().endswith(":"):
            inside = False  # the next section
        elif inside:
            head = line.strip().split(":", 1)[0].split(".")[-1]
            if head in known:
                found.add(head)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _index() -> dict[str, tuple[ast.Module, dict[str, tuple[str, str]]]]:
    """Every module of the tree: dotted name -> (tree, imported name -> (module, name))."""
    out = {}
    for path in _python_files([ROOT / name for name in ("agent", "envs", "search", "evals")]):
        tree = ast.parse(path.read_text())
        imports = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    imports[alias.asname or alias.name] = (node.module, alias.name)
        out[_module_name(path)] = (tree, imports)
    return out


def _definition(module: str, name: str, depth: int = 0) -> ast.AST | None:
    """The function or class ``name`` of ``module``, following re-exports a few steps."""
    entry = _index().get(module)
    if entry is None or depth > 3:
        return None
    tree, imports = entry
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return node
    if name in imports:
        return _definition(*imports[name], depth + 1)
    return None


def _callee_errors(node: ast.AST | None, errors: dict[str, set[str]]) -> set[str]:
    if isinstance(node, ast.FunctionDef):
        return documented_errors(ast.get_docstring(node) or "", errors)
    if isinstance(node, ast.ClassDef):  # a constructor: the class's or __init__'s section
        found = documented_errors(ast.get_docstring(node) or "", errors)
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                found |= documented_errors(ast.get_docstring(item) or "", errors)
        return found
    return set()


def escaping(folders: Iterable[Path]) -> list[Offender]:
    """Public functions with no ``Raises:`` that call a project function documenting errors.

    One level of calls is followed: a function of the same module, a name imported from a
    project module (re-exports followed), a project class (its constructor) or ``self.method``;
    a call inside a ``try`` that catches the error is not counted. Whether the error can
    really escape (the arguments may rule it out) needs a human reading: this is a list to
    read, not a test.

    Args:
        folders: Folders (searched for ``*.py``) or single files under the repository.

    Returns:
        The functions, with the errors their callees document.
    """
    errors = error_classes(_tree_classes())
    out: list[Offender] = []
    for path in _python_files(folders):
        module = _module_name(path)
        tree, _ = _index()[module]
        for func, owner in _public_functions(tree):
            if _documented(func, owner):
                continue
            found: set[str] = set()
            for node, tries in _own_nodes(func):
                if not isinstance(node, ast.Call):
                    continue
                target = None
                if isinstance(node.func, ast.Name):
                    target = _definition(module, node.func.id)
                elif (
                    owner is not None
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "self"
                ):
                    target = next((i for i in owner.body if isinstance(i, ast.FunctionDef)
                                   and i.name == node.func.attr), None)  # fmt: skip
                found |= {e for e in _callee_errors(target, errors)
                          if not _caught(errors[e], tries)}  # fmt: skip
            if found:
                name = f"{owner.name}.{func.name}" if owner else func.name
                shown = str(path.relative_to(ROOT))
                out.append(Offender(shown, func.lineno, name, tuple(sorted(found))))
    return out


def main(argv: list[str]) -> int:
    """Print the offenders under the folders named in ``argv``; 1 when there is one.

    With ``--calls`` first, list instead the public functions without ``Raises:`` whose
    callees document errors (:func:`escaping`), always exiting 0.
    """
    calls = bool(argv) and argv[0] == "--calls"
    folders = [Path(a).resolve() for a in argv[calls:]] or [ROOT / "agent", ROOT / "envs"]
    found = escaping(folders) if calls else offenders(folders)
    for offender in found:
        print(str(offender).replace(" raises ", " calls what raises " if calls else " raises "))
    what = "call what raises" if calls else "raise"
    print(f"{len(found)} public functions {what} without a Raises: section", file=sys.stderr)
    return 1 if found and not calls else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
