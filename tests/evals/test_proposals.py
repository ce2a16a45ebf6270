"""The proposal measurement's summary: medians, rates and truncations per model and condition."""

from __future__ import annotations

from evals.proposals import _messages, summarise


def _row(condition: str, seconds: float, tokens: int, accepted: bool, **extra: object) -> dict:
    row = {"model": "local/m", "task": "karel/DoorKey", "condition": condition,
           "seconds": seconds, "completion_tokens": tokens, "accepted": accepted,
           "finish_reason": "length" if tokens == 384 else "stop",
           "return": 0.5 if accepted else None, "load_avg_1m": 2.0}  # fmt: skip
    return {**row, **extra}


def test_summary_medians_and_rates() -> None:
    rows = [
        _row("before", 60.0, 384, False), _row("before", 30.0, 200, True),
        _row("before", 90.0, 384, False), _row("grammar", 20.0, 60, True),
        _row("grammar", 10.0, 50, True, **{"return": 1.0}),
    ]  # fmt: skip
    by = {s["condition"]: s for s in summarise(rows)}
    before, grammar = by["before"], by["grammar"]
    assert before["acceptance"] == 0.333 and before["truncated"] == 2
    assert before["median_tokens_per_answer"] == 384 and before["median_seconds_per_answer"] == 60
    assert before["answers_per_min_total"] == 1.0  # 3 answers in 180 s
    assert before["accepted_per_min_total"] == 0.33
    assert grammar["acceptance"] == 1.0 and grammar["answers_per_min_total"] == 4.0  # 2 in 30 s
    assert grammar["best_return_by_task"] == {"karel/DoorKey": 1.0}


def test_conditions_render_the_prompts_they_name() -> None:
    before = _messages("karel/DoorKey", "before")
    constrained = _messages("karel/DoorKey", "grammar")
    plain = _messages("karel/DoorKey", "grammar_noex")
    assert "DEF run m(" in before[0]["content"] and "code only" in constrained[1]["content"]
    assert "Example 1:" in constrained[0]["content"]
    assert "Example 1:" not in plain[0]["content"]
