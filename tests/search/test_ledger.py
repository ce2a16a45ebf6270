"""One evaluation ledger: programs scored before a search are handed to it, never re-scored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import envs
from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import BudgetExceeded, ConfigError
from envs.task import Rollout, Task
from search import Evaluator, SearchConfig, search
from search.budget import Solved

TASK = "karel/StairClimberSparse"
SEEDS = [
    "DEF run m( WHILE c( frontIsClear c) w( move w) m)",
    "DEF run m( turnLeft move turnRight move m)",
    "DEF run m( move m)",
]


class CountingTask(Task):
    """A registry task that counts how often each program's returns are computed."""

    def __init__(self, n: int = 4) -> None:
        self.inner = envs.make(TASK, n=n)
        self.id, self.domain, self.n = self.inner.id, self.inner.domain, n
        self.seed, self.description = self.inner.seed, self.inner.description
        self.computed: dict[str, int] = {}

    def returns(self, program: Program | str) -> list[float]:
        text = str(program)
        self.computed[text] = self.computed.get(text, 0) + 1
        return self.inner.returns(program)

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        return self.inner.rollout(program, instance, trace)


def test_score_counts_every_proposal_and_computes_each_once() -> None:
    task = CountingTask()
    ledger = Evaluator(task, budget=3)
    first = ledger.score(SEEDS[0])
    assert ledger.score(SEEDS[0]) == first  # a repeat counts (paper) but is not recomputed
    assert ledger.score(SEEDS[1]) is not None
    assert ledger.score(SEEDS[2]) is None  # the budget is used up: refused, not counted
    assert (ledger.count, ledger.unique, task.computed) == (3, 2, {SEEDS[0]: 1, SEEDS[1]: 1})
    assert ledger.best_return == max(first, task.inner.evaluate(SEEDS[1]))
    assert [c for c, _ in ledger.curve] == sorted(c for c, _ in ledger.curve)


def test_score_never_raises_solved_but_a_prescored_solution_ends_a_search() -> None:
    ledger = Evaluator(CountingTask(), budget=10, target=0.0)
    value = ledger.score(SEEDS[0])
    assert value is not None and value >= 0.0
    with pytest.raises(Solved):
        ledger.prescored(SEEDS[0])
    assert ledger.prescored(SEEDS[1]) is None  # never scored with score()


@pytest.mark.parametrize("method", ["llmgs", "mosaic"])
def test_a_search_handed_the_ledger_continues_it_without_rescoring(method: str) -> None:
    task = CountingTask()
    ledger = Evaluator(task, budget=400)
    values = [ledger.score(s) for s in SEEDS]
    events: list[dict[str, Any]] = []
    result = search(task, method, seed_programs=SEEDS, ledger=ledger, on_event=events.append,
                    config=SearchConfig(budget=400 - 3, seed=0, progress=False))  # fmt: skip
    # Each seed was computed once (by score), and its climb start took the recorded returns.
    assert all(task.computed[s] == 1 for s in SEEDS)
    # Taken at their recorded returns (mosaic climbs them in order until its budget ends).
    taken = list(result.seed_returns)
    expected = values if method == "llmgs" else values[: len(taken)]
    assert taken and sorted(taken) == sorted(expected)
    climbs = [e for e in events if e["event"] == "climb_started"]
    assert climbs[0]["evaluations"] == 3  # the search starts at the ledger's count
    # One count: the result is the ledger's (the 3 proposals included), within one budget.
    assert result.evaluations == ledger.count <= 400 and result.budget == 400
    assert result.unique_evaluations == ledger.unique
    assert result.curve[0] == ledger.curve[0] and result.curve[0][0] <= 3
    assert ledger.budget == 400 and ledger.task is task  # given back as it was lent


def test_without_a_ledger_seeds_are_scored_and_counted_as_before() -> None:
    task = CountingTask()
    result = search(task, "llmgs", seed_programs=[SEEDS[0], SEEDS[0]],
                    config=SearchConfig(budget=50, seed=0, progress=False))  # fmt: skip
    assert len(result.seed_returns) == 2 and result.evaluations == 50


def test_the_search_spends_only_its_own_budget_on_the_ledger() -> None:
    task = CountingTask()
    ledger = Evaluator(task, budget=1_000)
    ledger.score(SEEDS[0])
    result = search(task, "shc", ledger=ledger,
                    config=SearchConfig(budget=60, seed=0, progress=False))  # fmt: skip
    assert result.evaluations == ledger.count == 61 and result.budget == 61
    assert ledger.budget == 1_000 and ledger.remaining == 939
    with pytest.raises(BudgetExceeded):
        Evaluator(task, budget=0).evaluate(ensure_program(SEEDS[0], "karel"))


def test_a_ledger_of_another_task_is_refused() -> None:
    ledger = Evaluator(envs.make(TASK, n=4), budget=10)
    with pytest.raises(ConfigError, match="ledger"):
        search(envs.make(TASK, n=8), "shc", ledger=ledger,
               config=SearchConfig(budget=5, progress=False))  # fmt: skip


def test_the_budget_is_checkpointed_and_older_checkpoints_still_load() -> None:
    ledger = Evaluator(CountingTask(), budget=90)
    ledger.score(SEEDS[0])
    state = ledger.state()
    assert state["budget"] == 90
    keys, values = ledger.cache_arrays()
    again = Evaluator(CountingTask(), budget=5)
    again.restore(state, keys, values)
    assert (again.budget, again.count, again.unique) == (90, 1, 1)
    del state["budget"]
    old = Evaluator(CountingTask(), budget=7)
    old.restore(state, np.asarray(keys), np.asarray(values))
    assert old.budget == 7 and old.count == 1
