"""Search methods on a fake task: budgets, caching, stopping, determinism and the loop."""

from __future__ import annotations

import pytest
from search_fakes import CountingTask

from envs.errors import ConfigError, DSLSyntaxError
from search import (
    SearchConfig,
    hill_climbing,
    llmgs_search,
    random_search,
    scheduled_hill_climbing,
    search,
)

UNSOLVABLE = 0.9  # the cap keeps every return below the target


def _events() -> tuple[list[dict], object]:
    seen: list[dict] = []
    return seen, seen.append


@pytest.mark.parametrize("method", ["hc", "shc", "random", "llmgs"])
def test_budget_is_exact_and_counts_are_honest(method: str) -> None:
    task = CountingTask(cap=UNSOLVABLE)
    cfg = SearchConfig(budget=700, seed=1, k=20, progress=False)
    result = search(task, method, seed_programs=["DEF run m( move m)"], config=cfg)
    assert result.stop_reason == "budget"
    assert result.evaluations == 700
    assert result.unique_evaluations == task.calls <= 700
    if method != "random":
        assert result.unique_evaluations < result.evaluations  # duplicates were served cached
    assert result.best_return == task.evaluate(result.best_program)
    counts = [c for c, _ in result.curve]
    bests = [b for _, b in result.curve]
    assert counts == sorted(counts) and bests == sorted(set(bests))
    assert result.curve[-1][1] == result.best_return


def test_duplicates_count_but_cost_nothing() -> None:
    task = CountingTask(cap=UNSOLVABLE)
    seeds = ["DEF run m( putMarker m)"] * 5
    cfg = SearchConfig(budget=5, progress=False)
    result = llmgs_search(task, seeds, config=cfg)
    assert result.evaluations == 5 and result.unique_evaluations == 1 and task.calls == 1
    nocache = CountingTask(cap=UNSOLVABLE)
    llmgs_search(nocache, seeds, config=SearchConfig(budget=5, progress=False, use_cache=False))
    assert nocache.calls == 5


def test_stops_at_target_and_keeps_the_solution() -> None:
    task = CountingTask()
    result = hill_climbing(task, k=50, budget=50_000, seed=0, config=SearchConfig(progress=False))
    assert result.stop_reason == "solved" and result.solved
    assert result.best_return >= 1.0
    assert result.evaluations < 50_000
    assert result.evaluations_to_reach(1.0) == result.evaluations
    assert result.best_program.split().count("putMarker") >= 5


def test_same_seed_same_result_other_seed_other_result() -> None:
    cfg = SearchConfig(budget=400, progress=False)
    a = scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), seed=3, config=cfg)
    b = scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), seed=3, config=cfg)
    c = scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), seed=4, config=cfg)
    assert a.outcome() == b.outcome()
    assert a.outcome() != c.outcome()


def test_worker_processes_do_not_change_the_result() -> None:
    cfg = SearchConfig(budget=300, seed=2, progress=False)
    one = scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), config=cfg)
    cfg2 = cfg.with_overrides(workers=2)
    two = scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), config=cfg2)
    assert one.outcome() == two.outcome()


def test_scheduled_k_follows_the_global_counter() -> None:
    seen, sink = _events()
    cfg = SearchConfig(budget=3000, seed=0, progress=False)
    scheduled_hill_climbing(CountingTask(cap=UNSOLVABLE), config=cfg, on_event=sink)
    climbs = [e for e in seen if e["event"] == "climb_started"]
    assert len(climbs) > 3
    for event in climbs:
        assert event["k"] == cfg.scheduled_k(event["evaluations"])
    assert climbs[0]["k"] == 32 and climbs[-1]["k"] > 32


def test_hill_climbing_uses_fixed_k_and_first_improvement() -> None:
    seen, sink = _events()
    init = "DEF run m( move m)"
    result = hill_climbing(
        CountingTask(), init, k=7, budget=2000, seed=0, config=SearchConfig(progress=False),
        on_event=sink,
    )  # fmt: skip
    climbs = [e for e in seen if e["event"] == "climb_started"]
    assert {e["k"] for e in climbs} == {7}
    assert climbs[0]["evaluations"] == 0
    bests = [e for e in seen if e["event"] == "best_updated"]
    assert bests[0]["program"] == init and bests[0]["evaluations"] == 1
    assert result.climbs == len(climbs)


def test_llmgs_loop_sorts_seeds_skips_bad_ones_and_cycles() -> None:
    seen, sink = _events()
    seeds = [
        "DEF run m( move m)",
        "DEF run m( WHILE c( m)",  # does not parse
        "DEF run m( putMarker putMarker m)",
        "DEF run m( putMarker m)",
    ]
    cfg = SearchConfig(budget=500, seed=0, progress=False, max_climb_steps=0)
    result = llmgs_search(CountingTask(cap=UNSOLVABLE), seeds, config=cfg, on_event=sink)
    assert [s.index for s in result.skipped_seeds] == [1]
    assert "expected" in result.skipped_seeds[0].reason
    assert len(result.seed_returns) == 3
    assert result.seed_returns[1] > result.seed_returns[2] > result.seed_returns[0]
    # max_climb_steps=0: each climb only re-evaluates its start, cycling best-first.
    starts = [e["evaluations"] for e in seen if e["event"] == "climb_started"]
    assert starts[:4] == [3, 4, 5, 6]
    assert result.evaluations == 500 and result.unique_evaluations == 3
    assert result.stage_times["seeds"] >= 0.0 and result.stage_times["search"] > 0.0


def test_llmgs_stops_when_a_seed_solves_the_task() -> None:
    seeds = ["DEF run m( move m)", "DEF run m( " + "putMarker " * 6 + "m)", "DEF run m( move m)"]
    result = llmgs_search(CountingTask(), seeds, budget=100, seed=0)
    assert result.stop_reason == "solved" and result.evaluations == 2 and result.climbs == 0


def test_llmgs_without_usable_seeds_climbs_from_random_programs() -> None:
    result = llmgs_search(CountingTask(cap=UNSOLVABLE), ["nonsense"], budget=200, seed=0)
    assert result.evaluations == 200 and len(result.skipped_seeds) == 1 and result.climbs > 0


def test_random_search_evaluates_one_program_per_draw() -> None:
    result = random_search(CountingTask(cap=UNSOLVABLE), budget=300, seed=0)
    assert result.evaluations == 300 and result.climbs == 300


def test_zero_budget_evaluates_nothing() -> None:
    task = CountingTask()
    result = scheduled_hill_climbing(task, budget=0, seed=0)
    assert result.evaluations == 0 and task.calls == 0 and result.best_program == ""
    assert result.stop_reason == "budget"


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ConfigError, match="method"):
        search(CountingTask(), "annealing")
    with pytest.raises(DSLSyntaxError):
        hill_climbing(CountingTask(), "DEF run m( m)", budget=10)
    with pytest.raises(ConfigError):
        SearchConfig(budget=-1)
    with pytest.raises(ConfigError):
        SearchConfig(ratio="cubic")  # type: ignore[arg-type]


def test_result_round_trips_through_json() -> None:
    from search import SearchResult

    result = llmgs_search(CountingTask(cap=UNSOLVABLE), ["x", "DEF run m( move m)"], budget=50)
    assert SearchResult.from_json(result.to_json()) == result
