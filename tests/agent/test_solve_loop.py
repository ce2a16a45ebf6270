"""The model in the search loop (loop_rounds): asked when a search slice does not solve."""

from __future__ import annotations

from typing import Any

import pytest

import envs
from agent import solve
from agent.conversion.to_python import to_python
from agent.llm import ScriptedLLM
from envs.errors import ConfigError

DESCRIPTION = "pick up the key and open the door"
ANSWER = "```python\ndef run():\n    while frontIsClear():\n        move()\n    turnLeft()\n```"
OTHER = "```python\ndef run():\n    move()\n    pickMarker()\n    move()\n```"


def _feedback(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in seen if e["event"] == "revision_feedback" and e["method"] == "loop"]


def test_the_model_sees_the_best_program_and_its_returns_when_the_search_stalls() -> None:
    llm = ScriptedLLM([ANSWER, OTHER], cycle=True)
    seen: list[dict[str, Any]] = []
    result = solve(DESCRIPTION, llm=llm, samples=1, loop_rounds=2, budget=240, instances=4,
                   save=False, on_event=seen.append)  # fmt: skip
    assert not result.solved and result.task == "karel/DoorKey"
    loops = [r for r in result.rounds if r.method == "loop"]
    assert len(loops) == 2 and len(llm.calls) == 3  # the first round, then one per stall
    assert [r.round for r in loops] == [4, 5]  # sampling seeds apart from revision rounds'
    feedback = _feedback(seen)
    assert len(feedback) == 2
    prompt = llm.calls[1].messages[-1]["content"]
    best = feedback[0]["program"]
    assert to_python(best, "karel") in prompt and "Trace (" in prompt
    returns = envs.make("karel/DoorKey", n=4).returns(best)
    listing = ", ".join(f"{i}: {r:.4g}" for i, r in enumerate(returns))
    assert f"(instance: return): {listing}." in prompt
    assert result.evaluations <= 240


def test_no_model_round_when_the_search_solves() -> None:
    class TurnRight(envs.Task):
        """Return 1 for a program that turns right (search finds it, the answers do not)."""

        def __init__(self, n: int = 4, seed: int = 0) -> None:
            self.inner = envs.make("karel/DoorKey", n=n, seed=seed, engine="python")
            self.id, self.domain, self.n, self.seed = "karel/TurnRight", "karel", n, seed
            self.description = "Turn right."

        def returns(self, program: Any) -> list[float]:
            steps = self.inner.rollout(program, 0, trace=True).steps
            hit = any(s.name == "turnRight" for s in steps)
            return [1.0 if hit else 0.0] * self.n

        def rollout(self, program: Any, instance: int = 0, trace: bool = True) -> Any:
            return self.inner.rollout(program, instance, trace)

    info = envs.TaskInfo(id="karel/TurnRight", domain="karel", description="Turn right.",
                         synonyms=("turn to the right",), default_budget=2000)  # fmt: skip
    envs.register("karel/TurnRight", lambda n=4, seed=0, **_: TurnRight(n, seed), info,
                  replace=True)  # fmt: skip
    try:
        llm = ScriptedLLM([ANSWER], cycle=True)
        result = solve("turn to the right", llm=llm, samples=1, loop_rounds=3, save=False,
                       instances=4)  # fmt: skip
        assert result.solved and len(llm.calls) == 1
        assert all(r.method != "loop" for r in result.rounds)
    finally:
        envs.unregister("karel/TurnRight")


@pytest.mark.parametrize("budget", [3, 40, 150])
def test_the_evaluation_and_model_budgets_are_never_exceeded(budget: int) -> None:
    llm = ScriptedLLM([ANSWER, OTHER], cycle=True)
    result = solve(DESCRIPTION, llm=llm, samples=2, loop_rounds=3, budget=budget, instances=4,
                   save=False)  # fmt: skip
    assert result.evaluations <= budget
    assert len([r for r in result.rounds if r.method == "loop"]) <= 3
    assert sum(c.settings.n for c in llm.calls) <= 2 * (1 + 3)


def test_off_by_default_and_a_negative_value_is_a_clear_error() -> None:
    llm = ScriptedLLM([ANSWER], cycle=True)
    result = solve(DESCRIPTION, llm=llm, samples=1, budget=60, instances=4, save=False)
    assert len(llm.calls) == 1 and [r.method for r in result.rounds] == ["initial"]
    with pytest.raises(ConfigError, match="loop_rounds"):
        solve(DESCRIPTION, model=None, loop_rounds=-1, save=False)


def test_the_cli_flag_reaches_solve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import agent
    from agent.cli import main

    seen: dict[str, Any] = {}
    real = agent.solve

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(agent, "solve", spy)
    code = main(["solve", DESCRIPTION, "--model", "none", "--budget", "60", "--instances", "2",
                 "--no-save", "--json", "--loop-rounds", "2"])  # fmt: skip
    assert code == 0 and seen["config"].loop_rounds == 2
    assert main(["solve", DESCRIPTION, "--model", "none", "--no-save", "--loop-rounds", "-1"]) == 1
    assert "--loop-rounds" in capsys.readouterr().err
