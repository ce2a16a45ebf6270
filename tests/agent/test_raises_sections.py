"""Every public function that raises one of llmgs's errors says so in a ``Raises:`` section.

Runs ``tests/raises_check.py`` over ``agent``, ``search``, ``evals`` and
``envs`` (but Minigrid), and checks the checker on a small module of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.raises_check import ROOT, offenders

CHECKED = (
    "agent",
    "envs/dsl",
    "envs/karel",
    "evals",
    "search",
)


@pytest.mark.parametrize("folder", CHECKED)
def test_public_functions_that_raise_document_it(folder: str) -> None:
    assert [str(o) for o in offenders([ROOT / folder])] == []


def test_the_modules_of_envs_that_raise_document_it() -> None:
    # envs/minigrid is checked with its own tests, not here.
    assert [str(o) for o in offenders(sorted((ROOT / "envs").glob("*.py")))] == []


SAMPLE = '''
from envs.errors import ConfigError, LlmgsError


class HomeError(ConfigError):
    """A project error defined outside envs/errors.py."""


def _make() -> HomeError:
    return HomeError("made")


def bare():
    raise ConfigError("no")


def subclass():
    raise HomeError


def made():
    raise _make()


def nested_only():
    def inner():
        raise ConfigError("inner")
    return inner


def caught():
    try:
        raise ConfigError("handled")
    except LlmgsError:
        return None


def reraised_in_handler():
    try:
        return int("x")
    except ValueError as err:
        raise ConfigError("bad") from err


def documented():
    """Does it.

    Raises:
        ConfigError: Always.
    """
    raise ConfigError("yes")


def builtin():
    raise ValueError("not a project error")


def _private():
    raise ConfigError("private")


class Public:
    """Documents its constructor's errors here.

    Raises:
        ConfigError: Always.
    """

    def __init__(self):
        raise ConfigError("init")

    def method(self):
        raise HomeError("method")


class _Hidden:
    def method(self):
        raise ConfigError("hidden")
'''


def test_the_checker_finds_exactly_the_undocumented_raises(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(SAMPLE)
    found = {o.name: o.errors for o in offenders([module])}
    assert found == {
        "bare": ("ConfigError",),
        "subclass": ("HomeError",),
        "made": ("HomeError",),
        "reraised_in_handler": ("ConfigError",),
        "Public.method": ("HomeError",),
    }
