"""The evaluation pool of one search: threads for compiled tasks, processes otherwise.

Whatever the workers, a search's result must be the one of ``workers=1``: the pool only
scores ahead, the search counts in its own order.
"""

from __future__ import annotations

import threading

import pytest
from search_fakes import CountingTask

import envs
from envs.dsl.parser import parse
from search import SearchConfig, search
from search.pool import EvalPool

UNSOLVABLE = 0.9  # the cap keeps every return below the target

PROGRAMS = [
    "DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft putMarker m)",
    "DEF run m( REPEAT R=3 r( move turnRight r) pickMarker m)",
    "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
]


class ThreadCountingTask(CountingTask):
    """A fake whose copies may run on threads; records the threads that scored."""

    def __init__(self) -> None:
        super().__init__(cap=UNSOLVABLE)
        self.threads: set[str] = set()
        self.copies = 0

    def thread_copy(self) -> ThreadCountingTask:
        twin = ThreadCountingTask()
        twin.threads = self.threads  # shared record
        self.copies += 1
        return twin

    def returns(self, program):  # type: ignore[no-untyped-def]
        self.threads.add(threading.current_thread().name)
        return super().returns(program)


@pytest.mark.parametrize("task_id", ["karel/DoorKey", "minigrid/PutNear"])
def test_compiled_tasks_are_scored_on_threads_with_the_same_returns(task_id: str) -> None:
    task = envs.make(task_id, n=8)
    pool = EvalPool(task, 2)
    try:
        assert pool.threads
        programs = [parse(p, "karel") for p in PROGRAMS] if task.domain == "karel" else []
        if not programs:
            programs = [parse("DEF run m( forward left forward toggle m)", "minigrid")]
        futures = [pool.submit_returns(programs) for _ in range(4)]
        expected = [task.returns(p) for p in programs]
        assert all(f.result() == expected for f in futures)
    finally:
        pool.close()


def test_a_task_without_thread_copies_is_scored_on_processes() -> None:
    pool = EvalPool(CountingTask(), 2)
    try:
        assert not pool.threads
        result = pool.submit_returns([parse(PROGRAMS[0], "karel")]).result()
        assert result == [CountingTask().returns(PROGRAMS[0])]
    finally:
        pool.close()


@pytest.mark.parametrize("method", ["mosaic", "shc"])
def test_thread_workers_do_not_change_the_result(method: str) -> None:
    cfg = SearchConfig(budget=400, seed=5, progress=False)
    one = search(CountingTask(cap=UNSOLVABLE), method, config=cfg)
    task = ThreadCountingTask()
    two = search(task, method, config=cfg.with_overrides(workers=2))
    assert one.outcome() == two.outcome()
    assert task.copies == 2 and any(name.startswith("llmgs-eval") for name in task.threads)


@pytest.mark.parametrize(
    ("task_id", "budget"), [("karel/DoorKey", 3000), ("minigrid/RedBlueDoor", 3000)]
)
def test_a_real_search_on_two_threads_equals_the_one_on_one(task_id: str, budget: int) -> None:
    cfg = SearchConfig(budget=budget, seed=2, progress=False, heldout=0)
    one = search(task_id, "mosaic", config=cfg)
    two = search(task_id, "mosaic", config=cfg.with_overrides(workers=2))
    assert one.outcome() == two.outcome()
    assert (one.best_program, one.evaluations) == (two.best_program, two.evaluations)
