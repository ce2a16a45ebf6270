"""Retries (which failures, how long, how often) and the errors users see; real litellm types."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from agent.llm import Gateway, LLMConfig, SamplingSettings
from agent.llm.gateway import import_litellm
from agent.llm.retry import BackoffWait, call_with_retries, is_transient, redact, retry_after_s
from envs.errors import LLMError

litellm = import_litellm()
MESSAGES = [{"role": "user", "content": "hi"}]


def _rate_limit(retry_after: str | None = None) -> Exception:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    response = httpx.Response(429, headers=headers, request=httpx.Request("POST", "http://x"))
    return litellm.RateLimitError("slow down", llm_provider="openai", model="m", response=response)


TRANSIENT = [
    lambda: _rate_limit(),
    lambda: litellm.Timeout("took too long", model="m", llm_provider="openai"),
    lambda: litellm.APIConnectionError("refused", llm_provider="openai", model="m"),
    lambda: litellm.ServiceUnavailableError("503", llm_provider="openai", model="m"),
    lambda: litellm.InternalServerError("500", llm_provider="openai", model="m"),
]
PERMANENT = [
    lambda: litellm.AuthenticationError("bad key", llm_provider="openai", model="m"),
    lambda: litellm.BadRequestError("bad", model="m", llm_provider="openai"),
    lambda: litellm.ContextWindowExceededError("too long", model="m", llm_provider="openai"),
    lambda: litellm.NotFoundError("no such model", model="m", llm_provider="openai"),
]


class Flaky:
    """Fails with the given exceptions, then answers."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self, **kwargs: Any) -> SimpleNamespace:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        choice = SimpleNamespace(message=SimpleNamespace(content="ok"), finish_reason="stop")
        return SimpleNamespace(
            choices=[choice], usage=SimpleNamespace(prompt_tokens=1, completion_tokens=1)
        )


@pytest.mark.parametrize("make", TRANSIENT)
def test_transient_failures_are_classified_transient(make: Any) -> None:
    assert is_transient(make())


@pytest.mark.parametrize("make", PERMANENT)
def test_permanent_failures_are_not_retried(make: Any) -> None:
    exc = make()
    assert not is_transient(exc)
    flaky = Flaky([exc])
    with pytest.raises(type(exc)):
        call_with_retries(lambda: flaky(), num_retries=5, sleep=lambda s: None)
    assert flaky.calls == 1


def test_transient_failures_retry_then_succeed_through_the_gateway(tmp_path: Path) -> None:
    waits: list[float] = []
    flaky = Flaky([TRANSIENT[1](), TRANSIENT[2](), TRANSIENT[3]()])
    gateway = Gateway(
        LLMConfig(model="ollama/x", cache="off", num_retries=3), transport=flaky, sleep=waits.append
    )
    out = gateway.complete(MESSAGES, SamplingSettings())
    assert out.texts == ["ok"]
    assert flaky.calls == 4
    assert len(waits) == 3
    assert all(0 <= w <= 60 for w in waits)


def test_attempts_are_bounded_and_the_error_says_what_to_do(tmp_path: Path) -> None:
    flaky = Flaky([TRANSIENT[2]() for _ in range(10)])
    gateway = Gateway(
        LLMConfig(model="openai/q", api_base="http://127.0.0.1:9/v1", cache="off", num_retries=2),
        transport=flaky,
        sleep=lambda s: None,
    )
    with pytest.raises(LLMError, match=r"no answer from http://127.0.0.1:9/v1") as info:
        gateway.complete(MESSAGES, SamplingSettings())
    assert flaky.calls == 3
    assert info.value.retryable


def test_auth_failure_names_the_variable_and_hides_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-live-abcdefghijklmnop"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    exc = litellm.AuthenticationError(f"Incorrect API key provided: {secret}", "openai", "m")
    gateway = Gateway(
        LLMConfig(model="openai/gpt-4o-mini", cache="off"),
        transport=Flaky([exc]),
        sleep=lambda s: None,
    )
    with pytest.raises(LLMError, match="check that OPENAI_API_KEY holds a valid key") as info:
        gateway.complete(MESSAGES, SamplingSettings())
    assert secret not in str(info.value)
    assert not info.value.retryable


def test_retry_after_is_honoured() -> None:
    assert retry_after_s(_rate_limit("7")) == 7.0
    assert retry_after_s(_rate_limit()) is None
    wait = BackoffWait(initial_s=0.5, rng=random.Random(0))
    waits: list[float] = []
    flaky = Flaky([_rate_limit("7"), _rate_limit("7")])
    call_with_retries(lambda: flaky(), num_retries=3, sleep=waits.append, wait=wait)
    assert waits == [7.0, 7.0]


def test_backoff_grows_and_is_capped() -> None:
    wait = BackoffWait(initial_s=1.0, max_s=8.0, rng=random.Random(1))
    waits: list[float] = []
    flaky = Flaky([TRANSIENT[1]() for _ in range(6)])
    call_with_retries(lambda: flaky(), num_retries=6, sleep=waits.append, wait=wait)
    assert len(waits) == 6
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert all(0.0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == 6  # jitter


def test_redact_removes_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", "plain-secret-value")
    text = redact("key sk-proj-AbC123xyz789 and plain-secret-value here")
    assert "AbC123xyz789" not in text
    assert "plain-secret-value" not in text


def test_retries_are_decided_on_types_not_names_or_messages() -> None:
    class RateLimitError(Exception):  # a look-alike name from some other library
        pass

    assert not is_transient(RateLimitError("429 Too Many Requests"))
    assert not is_transient(ValueError("connection error: refused"))
    assert is_transient(ConnectionRefusedError("refused")) and is_transient(TimeoutError())
    assert is_transient(litellm.BadGatewayError("502", model="m", llm_provider="openai"))
    unsupported = litellm.UnsupportedParamsError("ollama does not support parameters: ['n']")
    assert not is_transient(unsupported)


def test_api_error_is_transient_by_its_status_code() -> None:
    def api_error(status: int) -> Exception:
        return litellm.APIError(status, "failed", llm_provider="openai", model="m")

    assert is_transient(api_error(503)) and is_transient(api_error(429))
    assert not is_transient(api_error(400))


@pytest.mark.parametrize(
    ("model", "api_base", "make", "advice"),
    [
        ("ollama/qwen:7b", None,
         lambda: litellm.APIConnectionError("refused", llm_provider="ollama", model="qwen:7b"),
         "start Ollama (`ollama serve`) or pass --api-base"),
        ("ollama/qwen:7b", "http://127.0.0.1:11434",
         lambda: litellm.NotFoundError("model not found", model="qwen:7b", llm_provider="ollama"),
         "pull it with `ollama pull qwen:7b`"),
        ("openai/tiny", "http://127.0.0.1:8080/v1",
         lambda: litellm.NotFoundError("no such model", model="tiny", llm_provider="openai"),
         "llmgs models --api-base http://127.0.0.1:8080/v1"),
        ("openai/tiny", "http://127.0.0.1:8080/v1",
         lambda: litellm.AuthenticationError("bad key", "openai", "tiny"),
         "set LLMGS_API_KEY"),
        ("ollama/qwen:7b", None,
         lambda: litellm.UnsupportedParamsError("ollama does not support parameters: ['n']"),
         "please report this"),
    ],
)  # fmt: skip
def test_errors_say_what_to_do(model: str, api_base: str | None, make: Any, advice: str) -> None:
    gateway = Gateway(
        LLMConfig(model=model, api_base=api_base, cache="off", num_retries=0),
        transport=Flaky([make()]),
        sleep=lambda s: None,
    )
    with pytest.raises(LLMError) as info:
        gateway.complete(MESSAGES, SamplingSettings())
    assert advice in str(info.value)
    assert "check the model name and sampling settings" not in str(info.value)
