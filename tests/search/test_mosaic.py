"""The mosaic search: its edits, its library, and the run's contracts (budget, no repeats,
determinism, workers, seeds and library, held-out return)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_fakes import CountingTask

from envs.dsl import parse
from envs.dsl.ast import Program, height, max_block_length
from search import SearchConfig, mosaic, mosaic_search, random_program, search
from search.archive import Archive, Elite
from search.library import Library
from search.limits import MAX_HEIGHT, MAX_SEQUENCE, program_tokens
from search.mosaic import MosaicSettings
from search.mutate import Mutator, local_edits, spots

UNSOLVABLE = 0.9
SEED_PROGRAM = "DEF run m( WHILE c( frontIsClear c) w( move putMarker w) turnLeft m)"


def _random(domain: str, seed: int) -> Program:
    return random_program(domain, np.random.RandomState(seed))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), domain=st.sampled_from(["karel", "minigrid"]))
def test_every_edit_gives_a_program_that_prints_and_parses_back(seed: int, domain: str) -> None:
    program = _random(domain, seed)
    library = Library(domain)
    library.add(_random(domain, seed + 1))
    mutator = Mutator(domain, library)
    rng = random.Random(seed)
    sp = spots(program)
    for edit, _ in mutator.edits:
        for _ in range(5):
            child = edit(rng, program, sp)
            if child is not None and child.body:
                assert parse(str(child), domain) == child
    for thunk in local_edits(program, sp):
        child = thunk()
        if child.body:
            assert parse(str(child), domain) == child


def test_local_edits_cover_delete_swap_unwrap_and_negate() -> None:
    program = parse("DEF run m( move WHILE c( frontIsClear c) w( turnLeft w) m)")
    texts = {str(t()) for t in local_edits(program, spots(program))}
    assert "DEF run m( WHILE c( frontIsClear c) w( turnLeft w) m)" in texts  # delete
    assert "DEF run m( WHILE c( frontIsClear c) w( turnLeft w) move m)" in texts  # swap
    assert "DEF run m( move turnLeft m)" in texts  # unwrap
    assert "DEF run m( move WHILE c( not c( frontIsClear c) c) w( turnLeft w) m)" in texts
    assert "DEF run m( move IF c( frontIsClear c) i( turnLeft i) m)" in texts


def test_token_room_is_respected_by_growing_edits() -> None:
    program = parse("DEF run m( move turnLeft m)")
    mutator = Mutator("karel")
    mutator.spare = 0  # no token may be added
    rng = random.Random(0)
    sp = spots(program)
    for edit in (mutator.insert, mutator.wrap):
        assert all(edit(rng, program, sp) is None for _ in range(50))


def test_library_keeps_distinct_fragments_and_drops_the_oldest() -> None:
    lib = Library("karel", capacity=3)
    lib.add(SEED_PROGRAM)
    lib.add(SEED_PROGRAM)  # nothing new
    assert lib.programs == 2
    assert len(lib.statements) == 3 and len(lib.conditions) == 1
    lib.add("DEF run m( IF c( markersPresent c) i( pickMarker i) m)")
    assert len(lib.statements) == 3  # capacity: the oldest went
    assert str(lib.statements[-1]) == "pickMarker"
    rng = random.Random(0)
    assert lib.statement(rng) is not None and lib.condition(rng) is not None
    assert Library("karel").block(rng) is None


def test_budget_is_exact_and_no_program_is_evaluated_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the warm-up (Scheduled HC's climbs, which re-count repeats as the paper does).
    monkeypatch.setattr(mosaic, "DEFAULT_SETTINGS", MosaicSettings(warmup=0))
    task = CountingTask(cap=UNSOLVABLE)
    result = search(task, "mosaic", config=SearchConfig(budget=600, seed=1, progress=False))
    assert result.stop_reason == "budget" and result.evaluations == 600
    # Climb starts may repeat (they are counted again), everything else is new.
    assert result.unique_evaluations >= 600 - result.climbs
    assert task.calls == result.evaluations
    assert result.best_return == task.evaluate(result.best_program)


def test_same_seed_same_result_and_workers_do_not_change_it() -> None:
    cfg = SearchConfig(budget=400, seed=3, progress=False)
    one = search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg)
    again = search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg)
    two = search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg.with_overrides(workers=2))
    other = search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg.with_overrides(seed=4))
    assert one.outcome() == again.outcome() == two.outcome()
    assert other.outcome() != one.outcome()


def test_seeds_are_climbed_first_and_bad_ones_are_reported() -> None:
    events: list[dict] = []
    result = mosaic_search(
        CountingTask(cap=UNSOLVABLE),
        [SEED_PROGRAM, "DEF run m( jump m)"],
        library=["not a program"],
        budget=50,
        seed=0,
        config=SearchConfig(progress=False),
        on_event=events.append,
    )
    assert [s.index for s in result.skipped_seeds] == [1, 2]
    first_best = next(e for e in events if e["event"] == "best_updated")
    assert first_best["program"] == str(parse(SEED_PROGRAM))


def test_solves_a_real_task_and_reports_the_held_out_return() -> None:
    result = mosaic_search("karel/MazeSparse", budget=20_000, seed=0,
                           config=SearchConfig(progress=False))  # fmt: skip
    assert result.solved and result.best_return >= 1.0
    import envs

    held = envs.make("karel/MazeSparse", n=64, seed=32).evaluate(result.best_program)
    assert result.heldout_return == held
    program = parse(result.best_program)
    assert program_tokens(program) <= MosaicSettings().max_tokens
    assert height(program) <= MAX_HEIGHT and max_block_length(program) <= MAX_SEQUENCE


def test_held_out_return_can_be_turned_off_and_is_none_for_unknown_tasks() -> None:
    cfg = SearchConfig(budget=30, seed=0, progress=False)
    assert search(CountingTask(), "mosaic", config=cfg).heldout_return is None
    off = search("karel/MazeSparse", "shc", config=cfg.with_overrides(heldout=0))
    assert off.heldout_return is None


@pytest.mark.parametrize("method", ["hc", "shc"])
def test_other_methods_report_the_held_out_return_too(method: str) -> None:
    cfg = SearchConfig(budget=2_000, seed=0, progress=False)
    result = search("karel/StairClimberSparse", method, config=cfg)
    assert result.heldout_return is not None and -1.0 <= result.heldout_return <= 1.0


def test_warm_up_is_scheduled_hc_draw_for_draw() -> None:
    # MazeSparse is solved within the warm-up: the run is Scheduled HC's, evaluation for
    # evaluation (same count, same program, same curve).
    cfg = SearchConfig(budget=1_000_000, seed=0, progress=False, heldout=0)
    shc = search("karel/MazeSparse", "shc", config=cfg)
    mos = search("karel/MazeSparse", "mosaic", config=cfg)
    assert shc.solved and shc.evaluations < MosaicSettings().warmup
    assert (mos.evaluations, mos.best_program, mos.curve) == (
        shc.evaluations,
        shc.best_program,
        shc.curve,
    )


def test_warm_up_end_points_enter_the_archive_with_their_returns() -> None:
    from search.engine import SearchRun

    task = CountingTask(cap=UNSOLVABLE)
    run = SearchRun(task, "mosaic", SearchConfig(budget=50_000, seed=2, progress=False), None)
    search_ = mosaic.Mosaic(run, [], [], MosaicSettings(warmup=150, warmup_share=1.0))
    search_.warm_up()
    assert 150 <= run.ev.count < 50_000 and run.climbs >= 1
    assert search_.archive and len(search_.library) > 0
    for elite in search_.archive:
        assert elite.returns == tuple(task.returns(elite.text))
        assert elite.score == task.evaluate(elite.text)


def test_the_warm_up_stops_at_the_first_climb_boundary_past_its_share() -> None:
    from search.engine import SearchRun

    events: list[dict] = []
    run = SearchRun(CountingTask(cap=UNSOLVABLE), "mosaic",
                    SearchConfig(budget=10_000, seed=0, progress=False), events.append)  # fmt: skip
    search_ = mosaic.Mosaic(run, [], [], MosaicSettings(warmup=5_000, warmup_share=0.001))
    search_.warm_up()  # share: 10 evaluations of 10,000
    starts = [e["evaluations"] for e in events if e["event"] == "climb_started"]
    assert starts and starts[-1] < 10 <= run.ev.count


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    domain=st.sampled_from(["karel", "minigrid"]),
    max_tokens=st.sampled_from([20, 45, 60]),
)
def test_text_if_fits_is_the_canonical_text_exactly_within_the_limits(
    seed: int, domain: str, max_tokens: int
) -> None:
    from search.limits import _block_metrics, text_if_fits

    rng = random.Random(seed)
    mutator = Mutator(domain)  # no token room check: children may exceed every limit
    program = _random(domain, seed)
    for _ in range(12):
        tokens, depth, longest = _block_metrics(program.body)
        fits = (
            bool(program.body)
            and tokens + 4 <= max_tokens
            and depth < MAX_HEIGHT
            and longest <= MAX_SEQUENCE
        )
        assert text_if_fits(program, max_tokens) == (str(program) if fits else None)
        child = mutator.mutate(rng, program, spots(program))
        program = child if child is not None and child.body else program
    assert text_if_fits(Program(()), 60) is None


def test_text_if_fits_refuses_four_nested_controls_and_long_blocks() -> None:
    from search.limits import text_if_fits

    loop = "WHILE c( frontIsClear c) w( {} w)"
    three = "DEF run m( " + loop.format(loop.format(loop.format("move"))) + " m)"
    four = "DEF run m( " + loop.format(loop.format(loop.format(loop.format("move")))) + " m)"
    assert text_if_fits(parse(three), 60) == three
    assert text_if_fits(parse(four), 60) is None
    seven = "DEF run m( IF c( markersPresent c) i( " + "move " * 7 + "i) m)"
    assert text_if_fits(parse(seven), 60) is None
    assert text_if_fits(parse(seven.replace("move " * 7, "move " * 6)), 60) is not None


def _sorted_seeds(settings: MosaicSettings, seeds: list[str]) -> tuple:
    from search.engine import SearchRun

    run = SearchRun(CountingTask(cap=UNSOLVABLE), "mosaic",
                    SearchConfig(budget=1_000, seed=0, progress=False), None)  # fmt: skip
    search_ = mosaic.Mosaic(run, [parse(s) for s in seeds], [], settings)
    search_.sort_out_seeds()
    return run, search_


def test_seeds_that_another_seed_dominates_enter_the_archive_unclimbed() -> None:
    # CountingTask: more putMarker is at least as good on every instance.
    two, one, none_, twin = (
        "DEF run m( putMarker putMarker m)",
        "DEF run m( putMarker m)",
        "DEF run m( move m)",
        "DEF run m( putMarker move putMarker m)",
    )
    run, search_ = _sorted_seeds(MosaicSettings(), [one, two, none_, twin])
    assert [str(p) for p in search_.seeds] == [str(parse(two))]
    assert {e.text for e in search_.archive} == {str(parse(s)) for s in (one, none_, twin)}
    assert run.ev.count == 4 and len(run.seed_returns) == 4  # each seed scored once
    # Without the front, every seed with returns of its own is climbed (the twin is not).
    run, search_ = _sorted_seeds(
        MosaicSettings(seed_front=False, seed_climbs=3), [one, two, none_, twin]
    )
    assert [str(p) for p in search_.seeds] == [str(parse(s)) for s in (one, two, none_)]
    _, search_ = _sorted_seeds(MosaicSettings(seed_archive=False), [one, two])
    assert not search_.archive


def test_a_kept_seed_is_scored_once_and_its_return_recorded_once() -> None:
    task = CountingTask(cap=UNSOLVABLE)
    result = mosaic_search(
        task,
        ["DEF run m( putMarker m)", "DEF run m( move m)"],
        budget=40,
        seed=0,
        config=SearchConfig(progress=False),
    )
    assert result.seed_returns == (0.25 * (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5), 0.0)
    assert result.evaluations == 40 and task.calls == 40
    assert result.unique_evaluations >= 40 - (result.climbs - 1)


@pytest.mark.parametrize("parsimony", [True, False])
def test_parsimony_prefers_the_shorter_of_equal_programs(parsimony: bool) -> None:
    # Five putMarkers already reach the cap on every instance; the trailing move adds nothing.
    padded = "DEF run m( putMarker putMarker putMarker putMarker putMarker move m)"
    from search.engine import SearchRun

    run = SearchRun(CountingTask(cap=UNSOLVABLE), "mosaic",
                    SearchConfig(budget=1_000, seed=0, progress=False), None)  # fmt: skip
    search_ = mosaic.Mosaic(run, [], [], MosaicSettings(parsimony=parsimony))
    end = search_.climb(parse(padded), k=64)
    assert end.score == pytest.approx(UNSOLVABLE)
    if parsimony:
        assert program_tokens(end.program) < program_tokens(parse(padded))
    else:  # no return vector differs, so the climb never moves
        assert end.text == str(parse(padded))
    # The archive's weakest of equal entries is the largest one when parsimony is on.
    archive = Archive(size=1, parsimony=parsimony)
    short, long_ = parse("DEF run m( move m)"), parse("DEF run m( move move turnLeft m)")
    assert archive.add(Elite(str(short), short, (0.1,), 0.1))
    assert archive.add(Elite(str(long_), long_, (0.1,), 0.1))
    (kept,) = archive
    assert (kept.text == str(short)) is parsimony


def test_kicks_change_nothing_before_the_search_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    # A run shorter than ``stall`` evaluations is draw for draw the run without kicks: what
    # keeps every result at budgets up to 1e5 the same as before kicks existed.
    cfg = SearchConfig(budget=3000, seed=2, progress=False)
    outcomes = []
    for stall in (0, 3000, 100_000):
        monkeypatch.setattr(mosaic, "DEFAULT_SETTINGS", MosaicSettings(warmup=0, stall=stall))
        outcomes.append(search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg).outcome())
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_a_stalled_search_kicks_its_restarts_harder(monkeypatch: pytest.MonkeyPatch) -> None:
    # CountingTask is capped: every climb soon ends at the same best return, i.e. it stalls.
    cfg = SearchConfig(budget=3000, seed=2, progress=False)
    perturbations: list[int] = []  # edits drawn by each restart from the archive
    start, neighbour = mosaic.Mosaic.next_start, mosaic.Mosaic._neighbour

    def next_start(self):  # type: ignore[no-untyped-def]
        perturbations.append(0)
        return start(self)

    def counting(self, rng, parent, sp, spare=None):  # type: ignore[no-untyped-def]
        if rng is self.rng:  # restart perturbations draw from the run's stream
            perturbations[-1] += 1
        return neighbour(self, rng, parent, sp, spare)

    monkeypatch.setattr(mosaic.Mosaic, "next_start", next_start)
    monkeypatch.setattr(mosaic.Mosaic, "_neighbour", counting)
    runs = []
    for stall in (0, 300):
        settings = MosaicSettings(warmup=0, stall=stall, p_kick=1.0, kick_perturb=8)
        monkeypatch.setattr(mosaic, "DEFAULT_SETTINGS", settings)
        perturbations.clear()
        result = search(CountingTask(cap=UNSOLVABLE), "mosaic", config=cfg)
        runs.append((result.outcome(), max(perturbations)))
    (plain, plain_most), (kicked, kicked_most) = runs
    assert plain != kicked
    assert plain_most <= 3 < kicked_most <= 8
