"""Every backend kind end to end: a real ``solve()`` against a server on 127.0.0.1 speaking the
provider's own API (Ollama, Anthropic Messages, a keyless OpenAI-compatible server), through
litellm and the gateway, including agent mode, replay and the generation time budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import envs
from agent import solve
from agent.cli import main
from agent.llm import LLMConfig
from agent.llm.backends import (
    PROVIDER_NOTES,
    backend_defaults,
    backend_kind,
    one_per_request,
    supported_params,
)
from envs.errors import ConfigError
from tests.agent.loopback_llm import AnthropicAPI, OllamaAPI, OpenAIAPI, ServerState, serve

CODE = "def run():\n    while frontIsClear():\n        pickMarker()\n        move()"
ANSWER = f"Here is a program:\n```python\n{CODE}\n```"
DSL = "DEF run m( WHILE c( frontIsClear c) w( pickMarker move w) m)"
BUDGET = 60


def answer_with_a_program(messages: list[dict[str, Any]], seed: Any) -> str:
    return ANSWER


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, cache_dir: Path, no_api_keys: None) -> None:
    """No provider keys, loopback never proxied, a fresh completion cache per test."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def _solve(model: str, url: str, **options: Any) -> Any:
    options.setdefault("samples", 3)
    return solve("harvest all the markers", task="karel/Harvester", model=model, api_base=url,
                 budget=BUDGET, instances=4, save=False, **options)  # fmt: skip


def _check_result(result: Any) -> None:
    assert result.acceptance["accepted"] == 3 and result.acceptance["total"] == 3
    assert result.rounds[0].programs[0][0] == DSL
    assert result.reward == envs.make("karel/Harvester", n=4).evaluate(result.program)
    assert result.stop_reason == "solved" or result.evaluations == BUDGET


@pytest.mark.parametrize(("model", "path"), [
    ("ollama/tiny", "/api/generate"), ("ollama_chat/tiny", "/api/chat"),
])  # fmt: skip
def test_ollama_solve_one_request_per_sample_with_seeds(model: str, path: str) -> None:
    state = ServerState(respond=answer_with_a_program)
    with serve(OllamaAPI, state) as url:
        result = _solve(model, url)
    _check_result(result)
    bodies = state.posts(path)
    assert len(bodies) == 3  # Ollama takes no n: one request per sample
    assert [b["options"]["seed"] for b in bodies] == [0, 1, 2]
    assert all("n" not in b and "n" not in b["options"] for b in bodies)
    assert all(b["options"]["num_predict"] == 384 for b in bodies)  # a server's max_tokens
    assert result.llm.calls == 3 and result.llm.completion_tokens > 0
    assert result.llm.prompt_tokens > 0 and result.llm.cost_usd == 0.0


def test_anthropic_messages_api_gets_no_seed_and_no_n() -> None:
    state = ServerState(respond=answer_with_a_program, models=("claude-tiny",))
    with serve(AnthropicAPI, state) as url:
        result = _solve("anthropic/claude-tiny", url)
    _check_result(result)
    bodies = state.posts("/v1/messages")
    assert len(bodies) == 3  # the server rejects "n" and "seed" with 400, as Anthropic does
    assert all(b["max_tokens"] == 384 for b in bodies)
    assert result.llm.calls == 3 and result.llm.completion_tokens > 0


def test_keyless_openai_compatible_server_ignoring_n() -> None:
    state = ServerState(respond=answer_with_a_program, honours_n=False)
    with serve(OpenAIAPI, state) as url:
        result = _solve("openai/tiny", url + "/v1")
    _check_result(result)
    bodies = state.posts("/v1/chat/completions")
    assert [b.get("seed") for b in bodies] == [0, 1, 2] and all("n" not in b for b in bodies)


def test_cli_ollama_prints_each_answer_and_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    state = ServerState(respond=answer_with_a_program)
    with serve(OllamaAPI, state) as url:
        # --task: matching is not what this test is about (it has its own tests).
        code = main(["solve", "harvest all the markers", "--task", "karel/Harvester", "--model",
                     "ollama/tiny", "--api-base", url, "--budget", str(BUDGET), "--instances",
                     "4", "--samples", "3", "--no-save"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "task: karel/Harvester" in err
    for k in (1, 2, 3):
        assert f"answer {k}/3:" in err
    assert err.count("accepted (python)") == 3 and "tok/s" in err
    assert "acceptance:  3/3 answers" in out and "ollama/tiny: 3 calls" in out


def _agent_script(messages: list[dict[str, Any]], seed: Any) -> str:
    step = sum(1 for m in messages if m["role"] == "assistant")
    calls = [
        {"tool": "python_to_dsl", "arguments": {"code": CODE}},
        {"tool": "rollout", "arguments": {"program": DSL}},
        {"tool": "scheduled_hc", "arguments": {"programs": [DSL, 7], "budget": "lots"}},
        {"tool": "scheduled_hc", "arguments": {"programs": ["DEF run m( move m)"],
                                               "budget": "all remaining"}},
    ]  # fmt: skip
    return json.dumps(calls[step] if step < len(calls) else {"final": DSL})


def test_agent_mode_goes_through_the_gateway_and_replays(tmp_path: Path) -> None:
    state = ServerState(respond=_agent_script)
    seen: list[dict[str, Any]] = []
    with serve(OpenAIAPI, state) as url:
        first = _solve("openai/tiny", url + "/v1", mode="agent", agent_steps=6,
                       on_event=seen.append)  # fmt: skip
        sent = len(state.posts("/v1/chat/completions"))
        replayed = _solve("openai/tiny", url + "/v1", mode="agent", agent_steps=6,
                          cache="replay")  # fmt: skip
        assert len(state.posts("/v1/chat/completions")) == sent  # replay sends nothing
    calls = [e for e in seen if e["event"] == "tool_call"]
    assert [c["tool"] for c in calls][:4] == [
        "python_to_dsl", "rollout", "scheduled_hc", "scheduled_hc"
    ]  # fmt: skip
    assert calls[0]["result"] == DSL
    assert calls[2]["result"].startswith("error: programs must be a list")
    assert "best return" in calls[3]["result"]  # "all remaining": the rest of the budget
    assert first.evaluations == BUDGET or first.stop_reason == "solved"
    assert first.llm.calls == sent and first.llm.completion_tokens > 0
    progress = [e for e in seen if e["event"] == "llm_progress"]
    assert len(progress) == sent and all(e["tokens_per_s"] is not None for e in progress)
    bodies = state.posts("/v1/chat/completions")
    assert [b["seed"] for b in bodies] == list(range(1, sent + 1))
    assert all(b["max_tokens"] == 384 for b in bodies)
    assert replayed.llm.calls == 0 and replayed.llm.cache_hits == sent
    assert replayed.program == first.program and replayed.reward == first.reward


def test_agent_mode_keeps_the_tools_work_when_the_model_fails() -> None:
    state = ServerState(respond=_agent_script, fail_from=2)
    with serve(OpenAIAPI, state) as url:
        result = _solve("openai/tiny", url + "/v1", mode="agent", agent_steps=6)
    assert len(state.posts("/v1/chat/completions")) == 3  # two answers, then a 400
    assert result.rounds == () and result.program
    assert any("the model failed after 2 tool calls" in w for w in result.warnings)
    assert "rejected the request" in result.warnings[0]
    # The rollout of the model's program counted, and the search spent the rest.
    assert result.evaluations == BUDGET or result.stop_reason == "solved"


def test_generation_time_budget_hands_the_rest_to_the_search() -> None:
    state = ServerState(respond=answer_with_a_program, delay_s=0.4)
    seen: list[dict[str, Any]] = []
    with serve(OpenAIAPI, state) as url:
        result = _solve("openai/tiny", url + "/v1", samples=8, generation_s=0.5,
                        on_event=seen.append)  # fmt: skip
    asked = len(state.posts("/v1/chat/completions"))
    assert 1 <= asked < 8
    assert any(e.get("kind") == "generation_time" for e in seen if e["event"] == "warning")
    acceptance = [e for e in seen if e["event"] == "acceptance"]
    assert len(acceptance) == 1 and acceptance[0]["total"] == asked
    assert result.evaluations == BUDGET or result.stop_reason == "solved"


def test_unknown_ollama_model_says_to_pull_it(capsys: pytest.CaptureFixture[str]) -> None:
    state = ServerState(respond=answer_with_a_program)
    with serve(OllamaAPI, state) as url:
        code = main(["solve", "--task", "karel/Harvester", "--model", "ollama/nosuch",
                     "--api-base", url, "--budget", "20", "--instances", "2", "--samples", "1",
                     "--no-save"])  # fmt: skip
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
    assert "ollama pull nosuch" in err


def test_ollama_not_running_says_to_start_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", "http://127.0.0.1:9")
    code = main(["solve", "--task", "karel/Harvester", "--model", "ollama/tiny", "--budget",
                 "20", "--instances", "2", "--samples", "1", "--no-save"])  # fmt: skip
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
    assert "no answer from http://127.0.0.1:9" in err


@pytest.mark.parametrize(("model", "api_base", "kind"), [
    ("local/qwen2.5-coder-0.5b", None, "embedded"),
    ("ollama/qwen2.5-coder:7b", None, "server"),
    ("openai/qwen05", "http://127.0.0.1:8080/v1", "server"),
    ("openai/qwen05", "http://192.168.1.20:8000/v1", "server"),
    ("openai/gpt-4o-mini", None, "hosted"),
    ("openai/llama", "https://api.together.xyz/v1", "hosted"),
    ("anthropic/claude-3-5-haiku-latest", None, "hosted"),
])  # fmt: skip
def test_backend_kind_and_defaults(model: str, api_base: str | None, kind: str) -> None:
    assert backend_kind(model, api_base) == kind
    defaults = backend_defaults(model, api_base)
    assert (defaults.samples, defaults.max_tokens) == ((32, 1024) if kind == "hosted" else (8, 384))
    assert one_per_request(model, api_base) == (kind != "hosted" or model.startswith("anthropic"))
    timeout = LLMConfig(model=model, api_base=api_base).resolved_timeout_s()
    assert timeout == (120.0 if kind == "hosted" else 600.0)
    assert LLMConfig(model=model, api_base=api_base, timeout_s=5.0).resolved_timeout_s() == 5.0


def test_provider_notes_match_what_litellm_accepts() -> None:
    """The --help text is checked against litellm, so it cannot drift from what is sent."""
    expected = {
        "openai/gpt-4o-mini": {"n": True, "seed": True},
        "ollama/qwen2.5-coder:7b": {"n": False, "seed": True},
        "ollama_chat/qwen2.5-coder:7b": {"n": False, "seed": True},
        "anthropic/claude-3-5-haiku-latest": {"n": False, "seed": False},
    }
    for model, wanted in expected.items():
        params = supported_params(model)
        assert params is not None
        assert {p: p in params for p in wanted} == wanted, model
    notes = PROVIDER_NOTES
    assert "openai/NAME: n samples per request, seeded" in notes
    assert "ollama/NAME and ollama_chat/NAME: one request per sample, seeded" in notes
    assert "anthropic/NAME: one request per sample, unseeded" in notes


def test_cli_agent_mode_keyless_server_then_replay(capsys: pytest.CaptureFixture[str]) -> None:
    state = ServerState(respond=_agent_script)
    with serve(OpenAIAPI, state) as url:
        argv = ["solve", "harvest all the markers", "--task", "karel/Harvester", "--model",
                "openai/tiny", "--api-base", url + "/v1", "--mode", "agent", "--budget",
                str(BUDGET), "--instances", "4", "--no-save"]  # fmt: skip
        assert main(argv) == 0
        first = capsys.readouterr()
        sent = len(state.posts("/v1/chat/completions"))
        assert main([*argv, "--cache", "replay"]) == 0
        second = capsys.readouterr()
        assert main([*argv, "--cache", "replay", "--seed", "1"]) == 1  # never recorded
        missed = capsys.readouterr()
    assert len(state.posts("/v1/chat/completions")) == sent
    assert f"openai/tiny: {sent} calls, 0 cache hits" in first.out
    assert f"openai/tiny: 0 calls, {sent} cache hits" in second.out
    assert "[agent] turn 1/8:" in first.err and "tok/s" in first.err
    assert "scheduled_hc" in first.err and "error: programs must be a list" in first.err
    assert "Traceback" not in first.err + second.err + missed.err
    assert "replay-only mode: 1 of 1 samples of openai/tiny are not in the cache" in missed.err


def test_anthropic_without_a_key_says_which_variable(capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before anything runs, as the service refuses it: a run that found out at its
    # first request would carry on as pure search, which is not what was asked for.
    code = main(["solve", "--task", "karel/Harvester", "--model",
                 "anthropic/claude-3-5-haiku-latest", "--budget", "20", "--instances", "2",
                 "--samples", "1", "--no-save"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err and out == ""
    assert "set the environment variable ANTHROPIC_API_KEY" in err and "--model none" in err
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        solve("harvest all the markers", model="openai/gpt-4o-mini", budget=20, save=False)
