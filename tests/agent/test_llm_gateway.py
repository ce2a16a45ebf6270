"""Gateway logic with a scripted transport: cache keys, n samples, replay, usage, key checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agent.llm import (
    LLM,
    Gateway,
    LLMConfig,
    SamplingSettings,
    ScriptedLLM,
    Usage,
)
from envs.errors import CacheMiss, ConfigError, LLMError

MESSAGES = [{"role": "user", "content": "write a Karel program"}]


class FakeTransport:
    """Answers like litellm.completion; text encodes the seed and position it was asked for."""

    def __init__(self, *, max_choices: int | None = None, prompt_tokens: int = 7) -> None:
        self.calls: list[dict[str, Any]] = []
        self.max_choices = max_choices
        self.prompt_tokens = prompt_tokens

    def __call__(self, **kwargs: Any) -> SimpleNamespace:
        self.calls.append(kwargs)
        asked = kwargs.get("n", 1)
        n = asked if self.max_choices is None else min(asked, self.max_choices)
        seed = kwargs.get("seed")
        choices = [
            SimpleNamespace(
                message=SimpleNamespace(content=f"seed={seed} k={k} t={kwargs['temperature']}"),
                finish_reason="stop",
            )
            for k in range(n)
        ]
        usage = SimpleNamespace(prompt_tokens=self.prompt_tokens, completion_tokens=3 * n)
        return SimpleNamespace(choices=choices, usage=usage)


SERVER = "http://127.0.0.1:1/v1"


def _gateway(cache_dir: Path, transport: FakeTransport, **config: Any) -> Gateway:
    if "model" not in config:  # a keyless OpenAI-compatible server: litellm lists n and seed
        config.update(model="openai/fake", api_base=SERVER)
    return Gateway(LLMConfig(cache_dir=cache_dir, **config), transport=transport)


def test_n_samples_are_n_cache_entries_and_rerun_hits(cache_dir: Path) -> None:
    transport = FakeTransport()
    settings = SamplingSettings(n=3, temperature=0.7, seed=5)
    first = _gateway(cache_dir, transport).complete(MESSAGES, settings)
    assert len(first.items) == 3
    assert [c.index for c in first.items] == [0, 1, 2]
    assert not any(c.cached for c in first.items)
    assert len(transport.calls) == 1 and transport.calls[0]["n"] == 3
    assert transport.calls[0]["seed"] == 5

    again = _gateway(cache_dir, transport).complete(MESSAGES, settings)
    assert again.texts == first.texts
    assert all(c.cached for c in again.items)
    assert len(transport.calls) == 1
    assert again.usage == Usage(cache_hits=3)


@pytest.mark.parametrize(
    "changed",
    [
        SamplingSettings(n=1, temperature=0.8, seed=5),
        SamplingSettings(n=1, temperature=0.7, seed=6),
        SamplingSettings(n=1, temperature=0.7, seed=None),
        SamplingSettings(n=1, temperature=0.7, seed=5, top_p=0.9),
        SamplingSettings(n=1, temperature=0.7, seed=5, max_tokens=100),
        SamplingSettings(n=1, temperature=0.7, seed=5, stop=("\n\n",)),
    ],
)
def test_any_sampling_change_is_a_miss(cache_dir: Path, changed: SamplingSettings) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport)
    gateway.complete(MESSAGES, SamplingSettings(n=1, temperature=0.7, seed=5))
    out = gateway.complete(MESSAGES, changed)
    assert not out.items[0].cached
    assert len(transport.calls) == 2


def test_model_messages_and_server_are_in_the_key(cache_dir: Path) -> None:
    transport = FakeTransport()
    settings = SamplingSettings(seed=1)
    _gateway(cache_dir, transport).complete(MESSAGES, settings)
    _gateway(cache_dir, transport, model="ollama/other").complete(MESSAGES, settings)
    _gateway(cache_dir, transport, model="openai/x", api_base="http://127.0.0.1:1/v1").complete(
        MESSAGES, settings
    )
    other = [{"role": "user", "content": "write a Karel program!"}]
    _gateway(cache_dir, transport).complete(other, settings)
    assert len(transport.calls) == 4


def test_more_samples_later_requests_only_the_new_ones(cache_dir: Path) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport)
    two = gateway.complete(MESSAGES, SamplingSettings(n=2, seed=10))
    five = gateway.complete(MESSAGES, SamplingSettings(n=5, seed=10))
    assert five.texts[:2] == two.texts
    assert [c.cached for c in five.items] == [True, True, False, False, False]
    assert transport.calls[1]["n"] == 3
    # Sample i is drawn with seed + i, so the new run starts at seed 12.
    assert transport.calls[1]["seed"] == 12


def test_server_ignoring_n_still_yields_n_distinct_seeds(cache_dir: Path) -> None:
    transport = FakeTransport(max_choices=1)
    out = _gateway(cache_dir, transport).complete(MESSAGES, SamplingSettings(n=4, seed=0))
    assert len(out.items) == 4
    assert [call["seed"] for call in transport.calls] == [0, 1, 2, 3]
    assert len(set(out.texts)) == 4
    assert out.usage.calls == 4


def test_ollama_gets_one_request_per_sample_seeded_and_no_n(cache_dir: Path) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport, model="ollama/qwen2.5-coder:7b")
    out = gateway.complete(MESSAGES, SamplingSettings(n=3, seed=7))
    assert len(out.items) == 3 and out.usage.calls == 3
    assert [call["seed"] for call in transport.calls] == [7, 8, 9]
    assert all("n" not in call for call in transport.calls)


def test_anthropic_gets_no_seed_but_the_seed_still_keys_the_cache(cache_dir: Path) -> None:
    transport = FakeTransport()
    server = "http://127.0.0.1:1"
    gateway = _gateway(cache_dir, transport, model="anthropic/claude-x", api_base=server)
    gateway.complete(MESSAGES, SamplingSettings(n=2, seed=1))
    assert len(transport.calls) == 2
    assert all("seed" not in call and "n" not in call for call in transport.calls)
    again = gateway.complete(MESSAGES, SamplingSettings(n=2, seed=1))
    assert all(c.cached for c in again.items)
    other = gateway.complete(MESSAGES, SamplingSettings(n=1, seed=2))
    assert not other.items[0].cached and len(transport.calls) == 3


def test_top_p_is_sent_only_when_it_narrows_sampling(cache_dir: Path) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport, cache="off")
    gateway.complete(MESSAGES, SamplingSettings(seed=0))
    gateway.complete(MESSAGES, SamplingSettings(seed=0, top_p=0.9))
    assert "top_p" not in transport.calls[0] and transport.calls[1]["top_p"] == 0.9


def test_unknown_provider_is_a_clear_error(cache_dir: Path) -> None:
    gateway = _gateway(cache_dir, FakeTransport(), model="nosuchprovider/m", api_base=SERVER)
    with pytest.raises(LLMError, match="does not know the provider 'nosuchprovider'"):
        gateway.complete(MESSAGES, SamplingSettings(n=2, seed=0))


def test_usage_accumulates_per_gateway(cache_dir: Path) -> None:
    transport = FakeTransport(prompt_tokens=11)
    gateway = _gateway(cache_dir, transport)
    a = gateway.complete(MESSAGES, SamplingSettings(n=2, seed=0))
    b = gateway.complete(MESSAGES, SamplingSettings(n=3, seed=0))
    assert a.usage.calls == 1 and a.usage.prompt_tokens == 11 and a.usage.completion_tokens == 6
    assert b.usage.cache_hits == 2 and b.usage.completion_tokens == 3
    total = gateway.usage
    assert total.calls == 2
    assert total.cache_hits == 2
    assert total.prompt_tokens == 22
    assert total.completion_tokens == 9
    assert total.cost_usd == 0.0
    assert json.loads(json.dumps(total.to_dict()))["total_tokens"] == 31


def test_cache_off_always_calls(cache_dir: Path) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport, cache="off")
    gateway.complete(MESSAGES, SamplingSettings(seed=0))
    gateway.complete(MESSAGES, SamplingSettings(seed=0))
    assert len(transport.calls) == 2
    assert not cache_dir.exists()


def test_replay_answers_from_cache_and_fails_clearly_on_miss(cache_dir: Path) -> None:
    recorder = FakeTransport()
    _gateway(cache_dir, recorder).complete(MESSAGES, SamplingSettings(n=2, seed=3))

    def offline(**kwargs: Any) -> None:
        raise AssertionError("replay mode must not call the backend")

    replay = Gateway(
        LLMConfig(model="openai/fake", api_base=SERVER, cache_dir=cache_dir, cache="replay"),
        transport=offline,
    )
    assert len(replay.complete(MESSAGES, SamplingSettings(n=2, seed=3)).items) == 2
    with pytest.raises(CacheMiss, match="replay-only mode: 1 of 3 samples"):
        replay.complete(MESSAGES, SamplingSettings(n=3, seed=3))


def test_missing_key_names_the_variable_but_replay_needs_none(
    cache_dir: Path, no_api_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport, model="openai/gpt-4o-mini")
    with pytest.raises(LLMError, match="set the environment variable OPENAI_API_KEY"):
        gateway.complete(MESSAGES, SamplingSettings(seed=0))
    assert transport.calls == []

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value-123456")
    gateway.complete(MESSAGES, SamplingSettings(seed=0))
    monkeypatch.delenv("OPENAI_API_KEY")
    replay = _gateway(cache_dir, transport, model="openai/gpt-4o-mini", cache="replay")
    assert replay.complete(MESSAGES, SamplingSettings(seed=0)).items[0].cached
    # The key never reaches the cache files.
    for path in cache_dir.rglob("*"):
        if path.is_file():
            assert b"sk-test-secret-value-123456" not in path.read_bytes()


def test_api_base_server_gets_its_own_key_never_the_provider_key(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret-abcdef")
    monkeypatch.delenv("LLMGS_API_KEY", raising=False)
    transport = FakeTransport()
    gateway = _gateway(cache_dir, transport, model="openai/qwen", api_base="http://127.0.0.1:9/v1")
    gateway.complete(MESSAGES, SamplingSettings(seed=0))
    call = transport.calls[0]
    assert call["api_base"] == "http://127.0.0.1:9/v1"
    assert call["api_key"] != "sk-provider-secret-abcdef"
    assert call["max_retries"] == 0


def test_invalid_settings_and_config_are_rejected() -> None:
    with pytest.raises(ConfigError):
        SamplingSettings(n=0)
    with pytest.raises(ConfigError):
        SamplingSettings(top_p=0.0)
    with pytest.raises(ConfigError, match="provider prefix"):
        LLMConfig(model="gpt-4o-mini")
    with pytest.raises(ConfigError):
        Gateway(LLMConfig(cache="off"), transport=FakeTransport()).complete([], SamplingSettings())


def test_scripted_llm_is_an_llm_and_records_calls() -> None:
    llm = ScriptedLLM(["a", "b", "c"])
    assert isinstance(llm, LLM)
    out = llm.complete(MESSAGES, SamplingSettings(n=2))
    assert out.texts == ["a", "b"]
    assert llm.calls[0].messages[0]["content"] == "write a Karel program"
    assert llm.complete(MESSAGES, SamplingSettings()).texts == ["c"]
    with pytest.raises(LLMError, match="ran out"):
        llm.complete(MESSAGES, SamplingSettings())
    echo = ScriptedLLM(lambda messages, settings, i: f"{settings.seed}:{i}")
    assert echo.complete(MESSAGES, SamplingSettings(n=2, seed=4)).texts == ["4:0", "4:1"]


def test_import_agent_llm_does_not_import_litellm() -> None:
    code = (
        "import sys, agent.llm, agent.cli; "
        "print('litellm' in sys.modules, 'llama_cpp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_a_failure_midway_keeps_what_was_spent_and_cached(cache_dir: Path) -> None:
    inner = FakeTransport(max_choices=1)

    def fails_second_time(**kwargs: Any) -> SimpleNamespace:
        if inner.calls:
            raise ValueError("backend broke")
        return inner(**kwargs)

    gateway = Gateway(
        LLMConfig(model="openai/fake", api_base=SERVER, cache_dir=cache_dir),
        transport=fails_second_time,
    )
    with pytest.raises(LLMError, match="backend broke"):
        gateway.complete(MESSAGES, SamplingSettings(n=2, seed=0))
    assert gateway.usage.calls == 1 and gateway.usage.completion_tokens == 3
    retry = _gateway(cache_dir, FakeTransport()).complete(MESSAGES, SamplingSettings(n=2, seed=0))
    assert [c.cached for c in retry.items] == [True, False]
