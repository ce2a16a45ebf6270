"""The real litellm path, offline: ``mock_response`` and an OpenAI-compatible loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.llm import Gateway, LLMConfig, SamplingSettings
from agent.llm.gateway import import_litellm, litellm_transport
from envs.errors import LLMError
from tests.agent.http_json import read_json, send_json

litellm = import_litellm()
MESSAGES = [{"role": "user", "content": "hello"}]


def test_mock_response_through_litellm_with_cost_from_offline_map(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-000")

    def transport(**kwargs: Any) -> Any:
        return litellm_transport(mock_response="def run():\n    move()", **kwargs)

    gateway = Gateway(LLMConfig(model="openai/gpt-4o-mini"), transport=transport)
    out = gateway.complete(MESSAGES, SamplingSettings(n=2, seed=0, temperature=0.5))
    assert out.texts == ["def run():\n    move()"] * 2
    assert out.usage.calls == 1
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0
    assert out.usage.cost_usd > 0.0
    again = gateway.complete(MESSAGES, SamplingSettings(n=2, seed=0, temperature=0.5))
    assert [c.cached for c in again.items] == [True, True]
    assert gateway.usage.calls == 1 and gateway.usage.cache_hits == 2


def test_mocked_rate_limit_is_retried_through_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-000")
    attempts: list[int] = []

    def transport(**kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            error = litellm.RateLimitError("mock 429", llm_provider="openai", model="gpt-4o-mini")
            return litellm_transport(mock_response=error, **kwargs)
        return litellm_transport(mock_response="ok", **kwargs)

    gateway = Gateway(
        LLMConfig(model="openai/gpt-4o-mini", cache="off"),
        transport=transport,
        sleep=lambda s: None,
    )
    assert gateway.complete(MESSAGES, SamplingSettings()).texts == ["ok"]
    assert len(attempts) == 2


class _FakeOpenAIServer(BaseHTTPRequestHandler):
    """Speaks the OpenAI chat-completions JSON and, like llama.cpp's server, ignores n."""

    requests: list[dict[str, Any]] = []
    fail_next: list[int] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_GET(self) -> None:
        send_json(self, 200, {"object": "list", "data": [{"id": "tiny", "object": "model"}]})

    def do_POST(self) -> None:
        body = read_json(self)
        body["_auth"] = self.headers.get("Authorization", "")
        type(self).requests.append(body)
        if type(self).fail_next:
            status = type(self).fail_next.pop(0)
            send_json(
                self, status, {"error": {"message": f"status {status}", "type": "server_error"}}
            )
            return
        text = f"answer seed={body.get('seed')}"
        send_json(
            self,
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "tiny"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
            },
        )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An OpenAI-compatible server on loopback; yields its ``api_base``."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    _FakeOpenAIServer.requests = []
    _FakeOpenAIServer.fail_next = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAIServer)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_api_base_server_ignoring_n_still_gives_n(
    server: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret-xyz-123")
    monkeypatch.delenv("LLMGS_API_KEY", raising=False)
    gateway = Gateway(LLMConfig(model="openai/tiny", api_base=server))
    out = gateway.complete(MESSAGES, SamplingSettings(n=3, seed=10, temperature=0.8))
    assert out.texts == ["answer seed=10", "answer seed=11", "answer seed=12"]
    assert out.usage.calls == 3 and out.usage.prompt_tokens == 27 and out.usage.cost_usd == 0.0
    assert all("sk-provider-secret" not in r["_auth"] for r in _FakeOpenAIServer.requests)
    assert _FakeOpenAIServer.requests[0]["temperature"] == 0.8


def test_api_base_retries_5xx_but_not_401(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = LLMConfig(model="openai/tiny", api_base=server, cache="off", num_retries=2)
    gateway = Gateway(config, sleep=lambda s: None)
    _FakeOpenAIServer.fail_next = [503]
    assert gateway.complete(MESSAGES, SamplingSettings()).texts[0].startswith("answer")
    assert len(_FakeOpenAIServer.requests) == 2
    _FakeOpenAIServer.fail_next = [401]
    with pytest.raises(LLMError, match="refused the request.s key: set LLMGS_API_KEY"):
        gateway.complete(MESSAGES, SamplingSettings())
    assert len(_FakeOpenAIServer.requests) == 3


def test_unreachable_server_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    config = LLMConfig(
        model="openai/tiny",
        api_base="http://127.0.0.1:9/v1",
        cache="off",
        num_retries=1,
        timeout_s=2.0,
    )
    with pytest.raises(LLMError, match=r"no answer from http://127.0.0.1:9/v1"):
        Gateway(config, sleep=lambda s: None).complete(MESSAGES, SamplingSettings())


def test_cli_llm_json_then_replay(
    server: str, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["llm", "hello", "--model", "openai/tiny", "--api-base", server, "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) == {"text", "cached", "prompt_tokens", "completion_tokens", "latency_s"}
    assert first["cached"] is False and first["text"] == "answer seed=0"
    assert main([*argv, "--cache", "replay"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["cached"] is True and second["text"] == first["text"]
    assert second["prompt_tokens"] == 9
    assert main([*argv, "--cache", "replay", "--seed", "1"]) == 1
    assert "replay-only mode" in capsys.readouterr().err


def test_cli_models_reports_the_server(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--api-base", server, "--json", "--no-probe"]) == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if "--api-base" in r["model"])
    assert row["ready"] is True and "tiny" in row["status"]
    assert any(r["model"] == "local/qwen2.5-coder-0.5b" for r in rows)
