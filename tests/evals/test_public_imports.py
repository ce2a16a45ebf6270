"""evals/ uses only what agent, search and envs export (issue 16): read from the source with ast.

The rule, for every import in ``evals/*.py`` (module level or inside a function) of a module of
``agent``, ``search`` or ``envs``:

* ``from P import X``: ``P`` is a package (an ``__init__.py``) and ``X`` is in its literal
  ``__all__``; importing from a module inside a package (``agent.prompting``,
  ``envs.errors``) reaches past the package's front door.
* ``import P``: ``P`` is a top-level package or a subpackage with an ``__all__``.
* No name or module path component starts with an underscore, and nothing imports
  ``agent.pipeline`` (``solve()``'s internals; ``agent`` exports what outside code may use).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("agent", "search", "envs")
EVALS = sorted((ROOT / "evals").glob("*.py"))


@cache
def exported(package: str) -> frozenset[str] | None:
    """The literal ``__all__`` of ``package``'s ``__init__.py``; None when it is no package
    or declares no ``__all__``."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return None
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return frozenset(ast.literal_eval(node.value))
    return None


def _module_problems(module: str) -> list[str]:
    parts = module.split(".")
    problems = []
    if any(p.startswith("_") for p in parts):
        problems.append(f"{module} is a private module")
    if parts[:2] == ["agent", "pipeline"]:
        problems.append(f"{module} is agent.pipeline, solve()'s internals")
    return problems


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Every import in ``source`` that breaks the rule, as ``file:line: why``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        problems: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] not in LAYERS:
                continue
            problems += _module_problems(node.module)
            names = exported(node.module)
            if names is None:
                problems.append(f"{node.module} is not a package with an __all__")
            for alias in node.names:
                if alias.name.startswith("_"):
                    problems.append(f"{alias.name} is private")
                elif names is not None and alias.name not in names:
                    problems.append(f"{node.module} does not export {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in LAYERS:
                    continue
                problems += _module_problems(alias.name)
                if "." in alias.name and exported(alias.name) is None:
                    problems.append(f"{alias.name} is not a package with an __all__")
        found += [f"{filename}:{node.lineno}: {why}" for why in problems]
    return found


@pytest.mark.parametrize("path", EVALS, ids=lambda p: p.name)
def test_evals_imports_only_exported_names(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), path.name) == []


def test_the_scan_sees_every_evals_module() -> None:
    names = {p.name for p in EVALS}
    assert {"cells.py", "proposals.py", "revision.py", "runner.py"} <= names


@pytest.mark.parametrize(
    ("line", "why"),
    [
        # the imports evals/proposals.py, runner.py and cells.py had before issue 16's change
        ("from agent.prompting import render_prompt", "agent.prompting is not a package"),
        ("from agent.conversion.grammar import python_gbnf", "is not a package"),
        ("from agent.llm import local_model", "agent.llm does not export local_model"),
        ("from search.executor import as_completed", "search.executor is not a package"),
        ("from envs.errors import ConfigError", "envs.errors is not a package"),
        ("from agent.pipeline import solver", "agent.pipeline, solve()'s internals"),
        ("from agent import _LAZY", "_LAZY is private"),
        ("import agent.pipeline.solver", "agent.pipeline, solve()'s internals"),
        ("import agent.llm.local_model", "is not a package with an __all__"),
    ],
)
def test_the_rule_catches_reaching_past_a_front_door(line: str, why: str) -> None:
    inside_a_function = "def f():\n    " + line + "\n"
    for source in (line + "\n", inside_a_function):
        found = violations(source)
        assert found and any(why in v for v in found), found


@pytest.mark.parametrize(
    "line",
    [
        "from agent import SolveConfig, render_prompt, solve",
        "from agent.conversion import convert_answer, python_gbnf",
        "from agent.llm import local_model_path, local_model_threads",
        "from search import Executor, SearchConfig, as_completed",
        "from envs import ConfigError, LlmgsError",
        "import envs",
        "import agent.llm",
        "import json",
        "from numpy import random",
    ],
)
def test_the_rule_accepts_exported_names(line: str) -> None:
    assert violations(line + "\n") == []


def test_the_exported_names_exist() -> None:
    """An ``__all__`` that names what the package does not define would pass the scan."""
    import agent
    import agent.conversion
    import agent.llm
    import envs
    import search

    for package in (agent, agent.conversion, agent.llm, envs, search):
        missing = [n for n in package.__all__ if not hasattr(package, n)]
        assert missing == [], package.__name__
