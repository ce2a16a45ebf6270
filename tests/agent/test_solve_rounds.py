"""The one round loop and the one ledger of solve(): options, counting, pinned requests."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import envs
from agent import solve
from agent.llm import ScriptedLLM, Usage

TASK = "karel/StairClimberSparse"
ANSWERS = [
    "```python\ndef run():\n    while frontIsClear():\n        move()\n```",
    "I cannot help with that.",
    "```python\ndef run():\n    turnLeft()\n    move()\n    turnRight()\n    move()\n```",
]


def _digest(calls: list[Any]) -> str:
    blob = json.dumps(
        [[[dict(m) for m in c.messages], dataclasses.asdict(c.settings)] for c in calls],
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def test_solve_requests_of_a_local_model_are_pinned() -> None:
    # Recorded before the round loop and the ledger were rebuilt (commit 545c4c2): the grammar,
    # worked examples, one answer per request, seeds seed * 100000 + round * 1000 + i. The
    # completion cache is keyed by these; change the digest only on purpose.
    llm = ScriptedLLM(ANSWERS, cycle=True)
    solve(TASK, task=TASK, llm=llm, model="local/qwen2.5-coder-0.5b", samples=3, budget=200,
          instances=4, save=False, revision="execution_trace", rounds=2, seed=3)  # fmt: skip
    assert [c.settings.seed for c in llm.calls] == [300_000, 300_001, 300_002,
                                                    301_000, 301_001, 301_002]  # fmt: skip
    assert all(c.settings.grammar for c in llm.calls)
    assert _digest(llm.calls) == "f7d41776287cf0a2"


def test_every_round_runs_without_early_stop_and_no_search() -> None:
    llm = ScriptedLLM(ANSWERS, cycle=True)
    seen: list[dict[str, Any]] = []
    result = solve(TASK, task=TASK, llm=llm, samples=3, budget=10_000, instances=4, save=False,
                   revision="regeneration", rounds=3, early_stop=False, search_method="none",
                   on_event=seen.append)  # fmt: skip
    assert [r.round for r in result.rounds] == [0, 1, 2, 3]
    assert not all(r.improved for r in result.rounds[1:])  # early stop would have ended it
    assert result.search is None and result.stop_reason == "rounds"
    assert "search" not in {t.stage for t in result.timings}
    # Every accepted answer is one evaluation on the one ledger, repeats included.
    accepted = sum(r.accepted for r in result.rounds)
    assert result.evaluations == accepted == sum(len(r.programs) for r in result.rounds)
    assert result.unique_evaluations == len({p for r in result.rounds for p, _ in r.programs})
    best = max((v, -i) for i, (_, v) in enumerate(p for r in result.rounds for p in r.programs))
    assert result.reward == best[0]
    assert result.reward == envs.make(TASK, n=4).evaluate(result.program)


def test_early_stop_ends_the_revision_after_a_round_that_does_not_improve() -> None:
    llm = ScriptedLLM(ANSWERS, cycle=True)
    result = solve(TASK, task=TASK, llm=llm, samples=3, budget=10_000, instances=4, save=False,
                   revision="regeneration", rounds=3, search_method="none")  # fmt: skip
    assert result.rounds[-1].improved is False and len(result.rounds) < 4


def test_the_search_continues_the_proposals_best_and_count() -> None:
    llm = ScriptedLLM(ANSWERS, cycle=True)
    seen: list[dict[str, Any]] = []
    result = solve(TASK, task=TASK, llm=llm, samples=3, budget=300, instances=4, save=False,
                   search_method="shc", on_event=seen.append)  # fmt: skip
    assert result.search is not None and result.search["evaluations"] == result.evaluations
    # The search's curve is on the run's count: it starts with the proposals' improvements.
    curve = [tuple(p) for p in result.search["curve"]]
    proposals = [r for r in result.rounds if r.round == 0][0].programs
    best_at = max(range(len(proposals)), key=lambda i: (proposals[i][1], -i))
    assert curve[0][0] == 1 and (best_at + 1, proposals[best_at][1]) in curve
    # Events: the search starts from the proposals' best, then reports its own improvements.
    best = [(e["evaluations"], e["best_return"]) for e in seen if e["event"] == "best_updated"]
    assert all(e["stage"] == "search" for e in seen if e["event"] == "best_updated")
    assert best[0] == (best_at + 1, proposals[best_at][1]) and best == curve[curve.index(best[0]) :]


def test_usage_is_one_record_with_the_models_name() -> None:
    llm = ScriptedLLM(ANSWERS, cycle=True, model="scripted/named")
    result = solve(TASK, task=TASK, llm=llm, samples=3, budget=100, instances=4, save=False)
    assert isinstance(result.llm, Usage) and result.llm.model == "scripted/named"
    assert result.llm.calls == len(llm.calls) and result.llm.completion_tokens > 0
    data = result.to_dict()["llm"]
    assert data["model"] == "scripted/named" and data["calls"] == len(llm.calls)
    pure = solve(TASK, task=TASK, model=None, budget=50, instances=4, save=False)
    assert pure.llm == Usage() and pure.llm.model is None


def test_usage_adds_up_and_keeps_one_models_name() -> None:
    a, b = Usage(calls=1, prompt_tokens=5, model="m"), Usage(cache_hits=2, completion_tokens=3)
    assert a + b == Usage(calls=1, cache_hits=2, prompt_tokens=5, completion_tokens=3, model="m")
    assert (a + Usage(calls=1, model="other")).model is None  # two models: no single name
    assert (a + b).to_dict()["total_tokens"] == 8


def test_metered_llm_counts_only_its_own_requests() -> None:
    from agent.llm import MeteredLLM, SamplingSettings

    inner = ScriptedLLM(ANSWERS, cycle=True)
    first, second = MeteredLLM(inner), MeteredLLM(inner)
    first.complete([{"role": "user", "content": "x"}], SamplingSettings(n=2))
    second.complete([{"role": "user", "content": "x"}], SamplingSettings(n=1))
    assert (first.usage.calls, second.usage.calls) == (1, 1)
    assert first.usage.completion_tokens > second.usage.completion_tokens > 0
