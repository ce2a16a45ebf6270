"""A recorded run replays offline from the completion cache; a rerun is answered from it.

The fixture ``fixtures/doorkey_replay.json`` holds the completion-cache entries of one real run
of the embedded 0.5B model (the answers are model output, stored as text and never executed).
Prompts are part of the cache keys, so a change to the prompt templates makes this test miss:
re-record with ``python tests/agent/test_solve_replay.py`` (needs the local model, ~1-3 min).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import envs
from agent import solve
from agent.llm import Gateway, LLMConfig
from agent.llm.cache import CachedSample, CompletionCache

FIXTURE = Path(__file__).parent / "fixtures" / "doorkey_replay.json"
DESCRIPTION = "pick up the key and open the door"
RECORDED = {"model": "local/qwen2.5-coder-0.5b", "samples": 2, "budget": 300, "instances": 8}


def _load(cache_dir: Path) -> dict[str, Any]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    cache = CompletionCache(cache_dir)
    for key, value in data["entries"].items():
        cache.put(key, CachedSample(**value))
    cache.close()
    return data


def test_recorded_run_replays_offline_without_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_api_keys: None
) -> None:
    monkeypatch.delenv("LLMGS_GGUF", raising=False)
    data = _load(tmp_path / "cache")
    result = solve(DESCRIPTION, cache="replay", cache_dir=tmp_path / "cache", save=False,
                   **RECORDED)  # fmt: skip
    assert result.llm.calls == 0 and result.llm.cache_hits == RECORDED["samples"]
    assert result.llm.completion_tokens == 0  # cache hits cost nothing
    expected = data["result"]
    assert result.acceptance == expected["acceptance"]
    assert (result.program, result.reward) == (expected["program"], expected["reward"])
    assert result.evaluations == expected["evaluations"]
    assert result.reward == envs.make("karel/DoorKey", n=8).evaluate(result.program)


class _Transport:
    """Answers like litellm.completion with a fixed Python program; counts requests."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, **kwargs: Any) -> SimpleNamespace:
        self.requests += 1
        text = "```python\ndef run():\n    while frontIsClear():\n        move()\n```"
        choices = [
            SimpleNamespace(message=SimpleNamespace(content=text), finish_reason="stop")
            for _ in range(kwargs.get("n", 1))  # Ollama is sent no n
        ]
        return SimpleNamespace(
            choices=choices, usage=SimpleNamespace(prompt_tokens=900, completion_tokens=20)
        )


def test_second_identical_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    transport = _Transport()

    def run() -> Any:
        gateway = Gateway(LLMConfig(model="ollama/fake", cache_dir=tmp_path), transport=transport)
        return solve(DESCRIPTION, llm=gateway, samples=3, budget=100, instances=4, save=False)

    first, second = run(), run()
    assert transport.requests == 3  # a server on this machine: one request per answer
    assert (first.llm.calls, first.llm.cache_hits) == (3, 0)
    assert (second.llm.calls, second.llm.cache_hits) == (0, 3)
    assert first.llm.prompt_tokens == 3 * 900 and second.llm.prompt_tokens == 0
    assert (second.program, second.reward) == (first.program, first.reward)


def record() -> None:
    """Re-record the fixture with the real embedded model."""
    import diskcache

    with tempfile.TemporaryDirectory() as tmp:
        result = solve(DESCRIPTION, cache_dir=Path(tmp), save=False, **RECORDED)
        store = diskcache.Cache(tmp)
        entries = {key: json.loads(store[key]) for key in store}
        store.close()
    payload = {"settings": RECORDED, "entries": entries, "result": result.to_dict()}
    FIXTURE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(entries)} answers; reward {result.reward}", file=sys.stderr)


if __name__ == "__main__":
    record()
