"""solve(): pure search, the scripted-model pipeline, revision methods, runs, cancellation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import envs
from agent import SolveResult, solve
from agent.llm import ScriptedLLM
from agent.pipeline.rundir import EVENTS_FILE, RESULT_FILE

DESCRIPTION = "pick up the key and open the door"
PY_ANSWER = """Here is a program:
```python
def run():
    while frontIsClear():
        move()
    turnLeft()
    pickMarker()
```
And in the DSL:
```
DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft pickMarker m)
```"""
BETTER = """```python
def run():
    while noMarkersPresent():
        while frontIsClear():
            move()
            pickMarker()
        turnLeft()
```"""
JUNK = "I cannot help with that."


def _events() -> tuple[list[dict[str, Any]], Any]:
    seen: list[dict[str, Any]] = []
    return seen, seen.append


def _check_true_return(result: SolveResult) -> None:
    fresh = envs.make(result.task, n=result.instances)
    assert result.reward == fresh.evaluate(result.program)
    assert list(result.instance_returns) == fresh.returns(result.program)


def test_pure_search_reports_the_true_return_within_budget() -> None:
    result = solve(DESCRIPTION, model=None, budget=300, save=False, instances=8)
    assert result.task == "karel/DoorKey" and result.llm.model is None
    assert result.evaluations <= 300 and result.unique_evaluations <= result.evaluations
    _check_true_return(result)
    data = json.loads(result.to_json())
    for key in ("task", "program", "reward", "evaluations", "unique_evaluations"):
        assert key in data
    assert set(data["llm"]) >= {"calls", "cache_hits", "prompt_tokens", "completion_tokens",
                                "cost_usd"}  # fmt: skip


def test_scripted_pipeline_counts_acceptance_and_seeds_the_search() -> None:
    llm = ScriptedLLM([PY_ANSWER, JUNK, BETTER, JUNK], cycle=True)
    seen, sink = _events()
    result = solve(DESCRIPTION, llm=llm, samples=2, budget=400, save=False, instances=8,
                   on_event=sink)  # fmt: skip
    # Round 0: a request for 2 (one rejected), then a top-up request for the missing one.
    assert result.acceptance["total"] == 3 and result.acceptance["accepted"] == 2
    assert sum(result.acceptance["by_reason"].values()) == 1
    assert len(result.rounds) == 1 and len(result.rounds[0].programs) == 2
    assert result.search is not None and result.search["method"] == "mosaic"  # the default
    assert len(result.search["seed_returns"]) == 2  # both distinct proposals seeded it
    # One ledger: the search continued the proposals' count and did not score them again.
    assert result.evaluations == result.search["evaluations"] <= 400
    assert result.unique_evaluations == result.search["unique_evaluations"]
    scored = [e["return"] for e in seen if e["event"] == "candidate" and e["accepted"]]
    assert list(result.search["seed_returns"]) == sorted(scored, reverse=True)
    climbs = [e for e in seen if e["event"] == "search_progress"]
    assert climbs and climbs[0]["evaluations"] == 2  # the first climb starts after the 2
    assert result.llm.calls == 2 and [c.settings.n for c in llm.calls] == [2, 1]
    _check_true_return(result)
    names = [e["event"] for e in seen]
    for name in ("solve_started", "task_matched", "llm_progress", "candidate", "acceptance",
                 "best_updated", "solve_finished"):  # fmt: skip
        assert name in names
    assert {t.stage for t in result.timings} >= {"match", "generate", "search", "verify"}


@pytest.mark.parametrize(
    ("method", "marker"),
    [
        ("regeneration", "not identical to any of them"),
        ("regeneration_with_reward", "average return"),
        ("execution_trace", "Trace ("),
        ("program_execution_trace", "# Currently executing this line"),
    ],
)
def test_every_revision_method_runs_on_doorkey_and_its_feedback_is_visible(
    method: str, marker: str, tmp_path: Path
) -> None:
    llm = ScriptedLLM([PY_ANSWER, BETTER], cycle=True)
    seen, sink = _events()
    result = solve(DESCRIPTION, llm=llm, samples=1, revision=method, rounds=2, budget=60,
                   runs_dir=str(tmp_path), instances=4, on_event=sink)  # fmt: skip
    feedback = [e for e in seen if e["event"] == "revision_feedback"]
    assert feedback and marker in feedback[0]["feedback"]
    saved = (Path(result.run_dir or "") / EVENTS_FILE).read_text().splitlines()
    saved_feedback = [json.loads(x) for x in saved if '"revision_feedback"' in x]
    assert saved_feedback[0]["feedback"] == feedback[0]["feedback"]
    # The feedback is what the model was actually sent in round 1.
    assert llm.calls[1].messages[-1]["content"] == feedback[0]["feedback"]
    assert result.rounds[1].feedback == feedback[0]["feedback"]
    assert result.revision == method
    _check_true_return(result)


def test_revision_stops_when_a_round_does_not_improve() -> None:
    llm = ScriptedLLM([PY_ANSWER], cycle=True)  # the same program every round
    result = solve(DESCRIPTION, llm=llm, samples=1, revision="regeneration_with_reward",
                   rounds=4, budget=20, save=False, instances=4)  # fmt: skip
    assert [r.round for r in result.rounds] == [0, 1]
    assert result.rounds[1].improved is False


def test_run_directory_holds_result_events_programs_and_gif(tmp_path: Path) -> None:
    result = solve(DESCRIPTION, llm=ScriptedLLM([PY_ANSWER], cycle=True), samples=1,
                   budget=50, runs_dir=str(tmp_path), instances=4)  # fmt: skip
    run = Path(result.run_dir or "")
    assert run.parent == tmp_path and run.name.endswith("-DoorKey")
    saved = json.loads((run / RESULT_FILE).read_text())
    assert saved["reward"] == result.reward and saved["program"] == result.program
    assert (run / "best_program.dsl").read_text().strip() == result.program
    assert (run / "best_program.py").read_text() == result.python
    assert (run / "worst_instance.gif").read_bytes()[:3] == b"GIF"
    events = [json.loads(line) for line in (run / EVENTS_FILE).read_text().splitlines()]
    assert events[0]["event"] == "solve_started" and events[-1]["event"] == "solve_finished"


def test_should_stop_cancels_the_search_and_keeps_the_best_program() -> None:
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 30

    result = solve(DESCRIPTION, model=None, budget=100_000, should_stop=stop, save=False,
                   instances=4)  # fmt: skip
    assert result.stop_reason == "cancelled"
    assert result.evaluations < 100_000 and result.program
    _check_true_return(result)


def test_a_user_registered_task_is_solved_the_same_way() -> None:
    class EastTask(envs.Task):
        """Reward 1 for ending in the right half of a DoorKey room (a user's own reward)."""

        def __init__(self, n: int = 32, seed: int = 0) -> None:
            self.inner = envs.make("karel/DoorKey", n=n, seed=seed, engine="python")
            self.id, self.domain, self.n, self.seed = "karel/GoEast", "karel", n, seed
            self.description = "Walk east as far as you can."

        def returns(self, program: Any) -> list[float]:
            out = []
            for i in range(self.n):
                steps = self.inner.rollout(program, i).steps
                out.append(1.0 if steps and steps[-1].position[1] >= 3 else 0.0)
            return out

        def rollout(self, program: Any, instance: int = 0, trace: bool = True) -> Any:
            return self.inner.rollout(program, instance, trace)

    info = envs.TaskInfo(
        id="karel/GoEast",
        domain="karel",
        description="Walk east.",
        synonyms=("walk east as far as you can",),
        default_budget=200,
    )
    envs.register("karel/GoEast", lambda n=32, seed=0, **_: EastTask(n, seed), info,
                  replace=True)  # fmt: skip
    try:
        llm = ScriptedLLM([PY_ANSWER], cycle=True)
        result = solve("walk east as far as you can", llm=llm, samples=1, save=False, instances=4)
        assert result.task == "karel/GoEast" and result.budget == 200
        assert "Walk east." in llm.calls[0].messages[-1]["content"]
        assert result.reward == envs.make("karel/GoEast", n=4).evaluate(result.program)
    finally:
        # The registry is process-wide: leave it as other tests expect it.
        envs.unregister("karel/GoEast")


def test_trace_revision_works_on_minigrid_too() -> None:
    answer = (
        "```python\ndef run():\n    while front_is_clear():\n        forward()\n    left()\n```"
    )
    llm = ScriptedLLM([answer], cycle=True)
    seen, sink = _events()
    result = solve("cross the lava gap", llm=llm, samples=1, revision="program_execution_trace",
                   rounds=1, budget=10, save=False, instances=2, on_event=sink)  # fmt: skip
    assert result.task == "minigrid/LavaGap"
    feedback = next(e for e in seen if e["event"] == "revision_feedback")["feedback"]
    assert "Legend" in feedback and "# Currently executing this line" in feedback
    _check_true_return(result)


def test_cancelled_before_any_program_is_still_valid_json() -> None:
    llm = ScriptedLLM([])  # never asked: the run is stopped before the first answer
    result = solve(DESCRIPTION, llm=llm, samples=2, should_stop=lambda: True, save=False,
                   instances=2)  # fmt: skip
    assert result.stop_reason == "cancelled" and result.program == "" and llm.calls == []
    assert json.loads(result.to_json())["reward"] is None
