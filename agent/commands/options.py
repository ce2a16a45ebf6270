"""Command-line options derived from the settings dataclasses, spelled and explained once.

A field of :class:`~agent.pipeline.config.SolveConfig`, :class:`~agent.llm.types.LLMConfig` or
:class:`~search.config.SearchConfig` whose metadata has a ``help`` text is an option: its flag
is ``--field-name`` (or the metadata's ``flag``), its choices come from its ``Literal`` type (or
the metadata's ``choices``), a ``bool`` is ``--name/--no-name``, and its default is the field's
own, named in the help. The parser leaves an option that was not given out of the namespace
(``argparse.SUPPRESS``), so the dataclass default is the only default.

The completion cache is ``--cache on|off|replay`` and ``--cache-dir DIR`` in every command that
calls a model (``llmgs solve``, ``llmgs serve``, ``llmgs llm``).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, get_args, get_origin

from agent.llm.types import CacheMode, LLMConfig
from envs.errors import ConfigError
from search.config import parse_count

CACHE_MODES: tuple[str, ...] = get_args(CacheMode)


@dataclasses.dataclass(frozen=True)
class Option:
    """One command-line option derived from a dataclass field.

    Attributes:
        name: The field's name (the key in the parsed namespace).
        flag: The option, ``--field-name`` unless the field's metadata names another.
        kind: ``int``, ``float``, ``str``, ``Path`` or ``bool``.
        choices: The allowed values, or None for any of ``kind``.
        default: The field's default (None: decided at run time, the help says how).
        help: The field's help text.
    """

    name: str
    flag: str
    kind: type
    choices: tuple[Any, ...] | None
    default: Any
    help: str


def _kind(hint: Any) -> tuple[type, tuple[Any, ...] | None]:
    """The scalar type and the choices of a field's type hint (``X | None`` is ``X``)."""
    if get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is Literal:
        return str, get_args(hint)
    return hint, None


def config_options(cls: type) -> dict[str, Option]:
    """The command-line options of a settings dataclass, by field name (fields with help)."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Option] = {}
    for f in dataclasses.fields(cls):
        if "help" not in f.metadata:
            continue
        kind, choices = _kind(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        out[f.name] = Option(
            name=f.name, flag=f.metadata.get("flag", "--" + f.name.replace("_", "-")),
            kind=kind, choices=tuple(f.metadata.get("choices", choices) or ()) or None,
            default=default, help=f.metadata["help"],
        )  # fmt: skip
    return out


def add_option(
    parser: argparse.ArgumentParser, option: Option, *, help: str | None = None, default: Any = ...
) -> None:
    """Add one derived option; given options only reach the namespace.

    Args:
        parser: The command's parser.
        option: The option (from :func:`config_options`).
        help: A help text replacing the field's (a command's own wording).
        default: A parser default instead of ``argparse.SUPPRESS`` (commands that read the
            namespace attribute directly).
    """
    text = option.help if help is None else help
    if option.default is not None:
        shown = ("on" if option.default else "off") if option.kind is bool else option.default
        text += f" (default {shown})"
    kwargs: dict[str, Any] = {
        "dest": option.name,
        "default": argparse.SUPPRESS if default is ... else default,
        "help": text.replace("%", "%%"),
    }
    if option.kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        kwargs["type"] = parse_count if option.kind is int else option.kind
        if option.choices is not None:
            kwargs["choices"] = option.choices
    parser.add_argument(option.flag, **kwargs)
    # The settings' own errors name the field ("max_tokens must be >= 1"); the CLI says the
    # flag instead (agent.cli reads this map through ``in_flags``).
    flags = dict(parser.get_default(FLAGS_DEST) or {})
    flags[option.name] = option.flag
    parser.set_defaults(**{FLAGS_DEST: flags})


FLAGS_DEST = "option_flags"
"""Namespace attribute holding {field name: flag} of a command's derived options."""


def in_flags(message: str, flags: dict[str, str]) -> str:
    """``message`` with a leading settings field name replaced by its command-line flag.

    >>> in_flags("max_tokens must be >= 1, got 0", {"max_tokens": "--max-tokens"})
    '--max-tokens must be >= 1, got 0'
    """
    head, sep, rest = message.partition(" ")
    flag = flags.get(head)
    return f"{flag}{sep}{rest}" if flag is not None else message


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    names: tuple[str, ...] | None = None,
    helps: dict[str, str] | None = None,
) -> tuple[str, ...]:
    """Add the options of ``cls``'s fields (all those with help, or ``names``, in that order).

    Args:
        parser: The command's parser.
        cls: A settings dataclass.
        names: The fields to offer; None for every field with a help text.
        helps: Help texts replacing the fields' own, by field name.

    Returns:
        The field names added (read them back with :func:`given`).
    """
    options = config_options(cls)
    chosen = tuple(options) if names is None else names
    for name in chosen:
        add_option(parser, options[name], help=(helps or {}).get(name))
    return chosen


def given(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The options among ``names`` that the command line gave (defaults stay the config's)."""
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def add_cache_arguments(
    parser: argparse.ArgumentParser, *, default: str | None = "on", default_text: str = "on"
) -> None:
    """Add ``--cache`` and ``--cache-dir`` (from :class:`LLMConfig`'s fields).

    Args:
        parser: The command's parser.
        default: The value of ``--cache`` when it is not given (None: let the command decide).
        default_text: How the help names that default.
    """
    options = config_options(LLMConfig)
    cache = dataclasses.replace(options["cache"], default=None)
    add_option(parser, cache, default=default, help=f"{cache.help}; default {default_text}")
    add_option(parser, options["cache_dir"], default=None)


__all__ = [
    "CACHE_MODES",
    "FLAGS_DEST",
    "Option",
    "add_cache_arguments",
    "add_config_arguments",
    "given",
    "in_flags",
]


def check_budget(args: argparse.Namespace) -> None:
    """Refuse a ``--budget`` below 1: such a run evaluates nothing and has no program to print.

    (The library allows a budget of 0, which scores nothing; on the command line it is a
    mistake.)

    Raises:
        ConfigError: ``args.budget`` is given and below 1.
    """
    budget = getattr(args, "budget", None)
    if budget is not None and budget < 1:
        raise ConfigError(f"--budget must be at least 1 evaluation, got {budget}")
