"""Tests of the search space: draws, random programs, neighbours and their distribution."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import search_refmodel as refmodel

from envs.dsl import parse
from envs.dsl.ast import height, max_block_length, token_count
from search.space import (
    draw,
    neighbour,
    neighbours,
    random_program,
    sites,
    tables,
    within_limits,
)


@pytest.mark.parametrize("p", [[0.15, 0.03, 0.5, 0.08, 0.04, 0.2], [0.9, 0.0], [0.05] * 20])
def test_draw_matches_randomstate_choice(p: list[float]) -> None:
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    arr = np.asarray(p) / np.sum(p)
    cdf = np.cumsum(arr)
    cdf = tuple(float(x) for x in cdf / cdf[-1])
    for _ in range(500):
        assert draw(ours, cdf) == int(theirs.choice(len(p), p=arr))


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_random_programs_match_reference_model(domain: str) -> None:
    for seed in range(15):
        ours, theirs = np.random.RandomState(seed), np.random.RandomState(seed)
        ref = refmodel.RefSpace(domain, theirs)
        for _ in range(5):
            assert str(random_program(domain, ours)) == refmodel.text(ref.random_program())
        assert ours.randint(1 << 30) == theirs.randint(1 << 30)  # same RNG consumption


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_neighbours_match_reference_model(domain: str) -> None:
    for seed in range(12):
        ours, theirs = np.random.RandomState(seed), np.random.RandomState(seed)
        ref = refmodel.RefSpace(domain, theirs)
        parent = random_program(domain, ours)
        ref.random_program()
        lazy = neighbours(parent, ours, domain)
        tree = refmodel.from_program(parent)
        assert refmodel.text(tree) == str(parent)
        for _ in range(20):
            assert str(next(lazy)) == refmodel.text(ref.neighbour(tree))


def test_neighbours_of_handwritten_program_match_reference_model() -> None:
    text = (
        "DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) putMarker turnLeft r) "
        "IFELSE c( markersPresent c) i( pickMarker i) ELSE e( IF c( not c( leftIsClear c) c) "
        "i( turnLeft move i) e) m)"
    )
    program = parse(text, "karel")
    ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
    ref = refmodel.RefSpace("karel", theirs)
    tree = refmodel.from_program(program)
    assert len(sites(program)) == len(tree.all_nodes()) - 1
    for got in itertools.islice(neighbours(program, ours, "karel"), 150):
        assert str(got) == refmodel.text(ref.neighbour(tree))


def test_random_program_distribution_matches_reference_statistics() -> None:
    # spec §6.2: over 2000 samples, mean 17 tokens, 41% without control flow; WHILE in ~48%.
    rng = np.random.RandomState(0)
    progs = [random_program("karel", rng) for _ in range(2000)]
    tokens = [token_count(p) for p in progs]
    texts = [str(p).split() for p in progs]
    no_control = np.mean([not {"WHILE", "IF", "IFELSE", "REPEAT"} & set(t) for t in texts])
    with_while = np.mean(["WHILE" in t for t in texts])
    assert 16.0 <= np.mean(tokens) <= 18.0
    assert 0.37 <= no_control <= 0.45
    assert 0.44 <= with_while <= 0.52
    assert all(within_limits(p) for p in progs)
    assert 1000 <= len({str(p) for p in progs}) <= 1250  # reference: 1117 unique of 2000


def test_neighbours_stay_within_limits_even_from_an_oversized_parent() -> None:
    body = " ".join(["move"] * 30)
    big = parse(f"DEF run m( {body} m)", "karel")
    assert not within_limits(big)
    rng = np.random.RandomState(1)
    for child in itertools.islice(neighbours(big, rng, "karel"), 50):
        assert within_limits(child)
        assert height(child) <= 4 and max_block_length(child) <= 6 and token_count(child) <= 45


def test_neighbours_are_lazy_and_deterministic() -> None:
    parent = parse("DEF run m( WHILE c( frontIsClear c) w( move w) m)", "karel")

    def first50() -> list[str]:
        gen = neighbours(parent, np.random.RandomState(5), "karel")
        return [str(x) for x in itertools.islice(gen, 50)]

    a, b = first50(), first50()
    assert a == b
    rng = np.random.RandomState(5)
    gen = neighbours(str(parent), rng, "karel")
    state = rng.get_state()[2]
    assert state == rng.get_state()[2]  # creating the generator draws nothing
    next(gen)
    assert rng.get_state()[2] != state
    assert str(neighbour(parent, np.random.RandomState(5), "karel")) == a[0]


def test_minigrid_perception_arguments_come_from_the_grammar() -> None:
    rng = np.random.RandomState(2)
    args = tables("minigrid").arg_values
    seen = set()
    for _ in range(300):
        for tok_list in [str(random_program("minigrid", rng)).split()]:
            for i, tok in enumerate(tok_list):
                if tok in args:
                    assert tok_list[i + 1] == "h(" and tok_list[i + 2] in args[tok]
                    seen.add(tok_list[i + 2])
    assert seen == {"lava", "door", "ball", "box", "red", "blue"}


def test_fast_limits_agree_with_the_ast_measures() -> None:
    from search.limits import program_tokens

    rng = np.random.RandomState(11)
    big = parse(
        "DEF run m( WHILE c( not c( frontIsClear c) c) w( IFELSE c( markersPresent c) i( "
        "REPEAT R=3 r( IF c( leftIsClear c) i( move move move move move move move i) r) i) "
        "ELSE e( turnLeft e) w) putMarker m)",
        "karel",
    )
    programs = [big, *itertools.islice(neighbours(big, rng, "karel"), 100)]
    programs += [random_program("minigrid", rng) for _ in range(100)]
    for p in programs:
        assert program_tokens(p) == token_count(p)
        expected = height(p) <= 4 and max_block_length(p) <= 6 and token_count(p) <= 45
        assert within_limits(p) == expected
    assert not within_limits(big)
