"""End to end with the real embedded 0.5B model (marked ``llm``: minutes on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

import envs
from agent import solve


@pytest.mark.llm
def test_embedded_model_solves_doorkey_end_to_end(cache_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")
    result = solve("pick up the key and open the door", model="local/qwen2.5-coder-0.5b",
                   samples=2, budget=300, instances=8, runs_dir=str(tmp_path))  # fmt: skip
    assert result.task == "karel/DoorKey"
    # solve() survives a crash of the model's runtime: here that must fail, saying why.
    assert not result.warnings, result.warnings
    assert result.llm.calls == 2 and result.llm.completion_tokens > 0
    assert result.acceptance["total"] == 2
    assert result.reward == envs.make("karel/DoorKey", n=8).evaluate(result.program)
    assert (Path(result.run_dir or "") / "worst_instance.gif").exists()
    again = solve("pick up the key and open the door", model="local/qwen2.5-coder-0.5b",
                  samples=2, budget=300, instances=8, save=False)  # fmt: skip
    assert again.llm.calls == 0 and again.llm.cache_hits == 2
    assert (again.program, again.reward) == (result.program, result.reward)
