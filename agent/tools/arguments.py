"""Checking and coercing tool arguments written by a model: never trusted, always answered.

A model calls the tools with whatever JSON it wrote: a budget of ``"all remaining"``, one program
where a list was asked for, a misspelt argument name. Each helper here either returns a clean
value or raises :class:`~envs.errors.ConfigError` with a message the model can act on (what was
expected, what it sent, an example); the tools turn that into an ``error: ...`` answer, so one
bad call costs a step, never the run.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from typing import Any

from envs.errors import ConfigError

#: Budget words a model uses for "everything that is left".
_ALL_WORDS = frozenset(
    {"all", "all remaining", "remaining", "max", "maximum", "everything", "rest"}
)


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=repr, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_text(value: Any, name: str, example: str) -> str:
    """One string argument (a program, Python code).

    Raises:
        ConfigError: ``value`` is missing, empty or not a string.
    """
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], str):
        return as_text(value[0], name, example)  # one item wrapped in a list: clear enough
    if isinstance(value, list | tuple):
        raise ConfigError(
            f"{name} must be one string, got a list of {len(value)}; call the tool once per "
            f"item, e.g. {{{json.dumps(name)}: {json.dumps(example)}}}"
        )
    got = "an empty string" if isinstance(value, str) else _shown(value)
    raise ConfigError(f"{name} must be a non-empty string such as {json.dumps(example)}, got {got}")


def as_programs(value: Any, example: str) -> list[str]:
    """A list of program strings (one string or nothing is accepted too).

    Raises:
        ConfigError: ``value`` is neither a string nor a list of strings.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
        if not bad:
            return [item for item in value if item.strip()]
        raise ConfigError(
            f"programs must be a list of DSL program strings; item {bad[0]} is "
            f'{_shown(value[bad[0]])}, e.g. {{"programs": [{json.dumps(example)}]}}'
        )
    raise ConfigError(
        f"programs must be a list of DSL program strings, got {_shown(value)}, "
        f'e.g. {{"programs": [{json.dumps(example)}]}}'
    )


def as_budget(value: Any, remaining: int, default: int) -> int:
    """An evaluation budget: a whole number, or a word meaning "all that is left".

    The result is clipped to ``remaining`` (the shared budget is the real limit).

    Raises:
        ConfigError: ``value`` is not a positive whole number nor "all".
    """
    if value is None:
        number = default
    elif isinstance(value, bool):
        number = -1
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value == int(value):
        number = int(value)
    elif isinstance(value, str) and value.strip().lower() in _ALL_WORDS:
        number = remaining
    elif isinstance(value, str) and value.strip().replace("_", "").replace(",", "").isdecimal():
        digits = value.strip().replace("_", "").replace(",", "")
        number = int(digits) if len(digits) <= 12 and digits.isascii() else -1
    else:
        number = -1
    if number < 1:
        raise ConfigError(
            f"budget must be a whole number of evaluations from 1 to {remaining} (what is left), "
            f'or "all" for everything left; got {_shown(value)}'
        )
    return min(number, remaining)


def bind_arguments(fn: Callable[..., str], name: str, arguments: Any) -> dict[str, Any]:
    """Check a call's argument names against the tool's signature.

    Returns:
        The arguments as keyword arguments of ``fn``.

    Raises:
        ConfigError: ``arguments`` is not an object, names an unknown argument or misses one.
    """
    if isinstance(arguments, str):
        try:  # OpenAI-style calls carry their arguments as a JSON string
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            arguments = None
    signature = inspect.signature(fn)
    usage = ", ".join(
        p.name if p.default is inspect.Parameter.empty else f"{p.name} (optional)"
        for p in signature.parameters.values()
    )
    if not isinstance(arguments, dict):
        raise ConfigError(
            f"the arguments of {name} must be a JSON object with {usage}, got {_shown(arguments)}"
        )
    unknown = [k for k in arguments if k not in signature.parameters]
    if unknown:
        raise ConfigError(f"{name} has no argument {unknown[0]!r}; its arguments are {usage}")
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty and p.name not in arguments
    ]
    if missing:
        raise ConfigError(f"{name} needs the argument {missing[0]!r}; its arguments are {usage}")
    return dict(arguments)
