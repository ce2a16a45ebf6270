"""The archive of climb end points: lexicase selection and trimming."""

from __future__ import annotations

import random

import pytest

from envs.dsl import parse
from envs.errors import ConfigError
from search.archive import Archive, Elite


def _elite(text: str, returns: tuple[float, ...]) -> Elite:
    program = parse(text)
    return Elite(str(program), program, returns, sum(returns) / len(returns))


A = _elite("DEF run m( move m)", (1.0, 0.0, 0.0))  # best on instance 0 alone
B = _elite("DEF run m( turnLeft m)", (0.0, 0.6, 0.6))  # best mean
C = _elite("DEF run m( putMarker m)", (0.0, 0.5, 0.5))  # best nowhere


def test_lexicase_picks_only_entries_best_on_some_instance() -> None:
    archive = Archive(size=8, parsimony=True)
    for elite in (A, B, C):
        archive.add(elite)
    rng = random.Random(0)
    picks = {archive.lexicase(rng).text for _ in range(200)}
    assert picks == {A.text, B.text}


def test_trimming_keeps_an_instance_specialist_over_a_higher_mean() -> None:
    archive = Archive(size=2, parsimony=True)
    for elite in (A, B, C):
        archive.add(elite)
    # A has the lowest mean (0.33) but is alone in being best on instance 0: C goes.
    assert {e.text for e in archive} == {A.text, B.text}


def test_a_repeated_text_is_not_added_twice() -> None:
    archive = Archive(size=4, parsimony=False)
    assert archive.add(A) and not archive.add(_elite("DEF run m( move m)", (1.0, 0.0, 0.0)))
    assert len(archive) == 1


def test_bad_sizes_and_empty_archives_say_so() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        Archive(size=0, parsimony=True)
    with pytest.raises(IndexError, match="empty"):
        Archive(size=1, parsimony=True).lexicase(random.Random(0))
    with pytest.raises(IndexError, match="empty"):
        Archive(size=1, parsimony=True).weakest()
