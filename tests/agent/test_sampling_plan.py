"""The grammar's way to the model: which backends get it, the cache key, the solve plan."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.conversion.grammar import max_answer_chars, python_gbnf


# -- the grammar travels to llama.cpp backends only, and is part of the cache key -------------
class _Transport:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def __call__(self, **kwargs: object) -> SimpleNamespace:
        self.calls.append(kwargs)
        choice = SimpleNamespace(message=SimpleNamespace(content="def run():\n    move()\n"),
                                 finish_reason="stop")  # fmt: skip
        return SimpleNamespace(
            choices=[choice], usage=SimpleNamespace(prompt_tokens=5, completion_tokens=4)
        )


@pytest.mark.parametrize(
    ("config", "sent"),
    [
        ({"model": "openai/qwen", "api_base": "http://127.0.0.1:9/v1"}, True),
        ({"model": "local/qwen2.5-coder-0.5b"}, True),
        ({"model": "openai/gpt-4o-mini"}, False),
    ],
)
def test_grammar_is_sent_as_a_body_field_to_llama_cpp_backends_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: dict[str, str], sent: bool
) -> None:
    from agent.llm import Gateway, LLMConfig, SamplingSettings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    transport = _Transport()
    gateway = Gateway(LLMConfig(cache_dir=tmp_path, **config), transport=transport)
    gbnf = python_gbnf("karel")
    gateway.complete([{"role": "user", "content": "x"}], SamplingSettings(seed=0, grammar=gbnf))
    extra = transport.calls[0].get("extra_body")
    assert (extra == {"grammar": gbnf}) if sent else extra is None


def test_grammar_is_part_of_the_cache_key(tmp_path: Path) -> None:
    from agent.llm import Gateway, LLMConfig, SamplingSettings

    transport = _Transport()
    gateway = Gateway(LLMConfig(model="ollama/x", cache_dir=tmp_path), transport=transport)
    messages = [{"role": "user", "content": "x"}]
    gateway.complete(messages, SamplingSettings(seed=0))
    gateway.complete(messages, SamplingSettings(seed=0, grammar=python_gbnf("karel")))
    gateway.complete(messages, SamplingSettings(seed=0, grammar=python_gbnf("minigrid")))
    again = gateway.complete(messages, SamplingSettings(seed=0, grammar=python_gbnf("karel")))
    assert len(transport.calls) == 3 and again.items[0].cached


def test_solve_plan_uses_the_grammar_for_embedded_models_only() -> None:
    from agent.pipeline.config import SolveConfig
    from agent.pipeline.sampling import plan_for, uses_examples

    cfg = SolveConfig.from_options
    local = plan_for(cfg(model="local/qwen2.5-coder-0.5b"), "minigrid", 1)
    assert local.settings.grammar == python_gbnf("minigrid")
    assert local.settings.max_tokens == max_answer_chars("minigrid")
    assert local.per_request == 1 and local.top_up == 0 and local.seed == 1000
    hosted = plan_for(cfg(model="openai/gpt-4o-mini"), "karel", 0)
    assert hosted.settings.grammar is None and hosted.settings.max_tokens == 1024
    forced = plan_for(cfg(model="openai/q", api_base="http://127.0.0.1:1/v1", grammar=True),
                      "karel", 0)  # fmt: skip
    assert forced.settings.grammar == python_gbnf("karel") and forced.top_up == 0
    off = plan_for(cfg(model="local/qwen2.5-coder-0.5b", grammar=False), "karel", 0)
    assert off.settings.grammar is None
    assert uses_examples(cfg(model="local/qwen2.5-coder-0.5b"))
    assert not uses_examples(cfg(model="local/qwen2.5-coder-0.5b", examples=False))
    assert not uses_examples(cfg(model="openai/gpt-4o-mini"))


def test_a_local_solve_asks_every_round_for_code_under_the_grammar() -> None:
    from agent import solve
    from agent.llm import ScriptedLLM

    answers = [
        "def run():\n    move()\n",
        "def run():\n    while frontIsClear():\n        move()\n",
    ]
    llm = ScriptedLLM(answers, cycle=True)
    solve("pick up the key and open the door", llm=llm, model="local/qwen2.5-coder-0.5b",
          samples=2, revision="regeneration", rounds=1, budget=40, instances=4,
          save=False)  # fmt: skip
    assert len(llm.calls) == 4  # two rounds of two answers, one per request
    for call in llm.calls:
        assert call.settings.grammar == python_gbnf("karel")
        assert call.settings.max_tokens == max_answer_chars("karel")
        system, user = (m["content"] for m in call.messages)
        assert "Example 1:" in system and "Door Key" not in system.split("Example 1:")[1]
        assert "code only" in user
    assert [c.messages for c in llm.calls[:2]] == [llm.calls[0].messages] * 2  # same prompt
    assert [c.settings.seed for c in llm.calls] == [0, 1, 1000, 1001]
