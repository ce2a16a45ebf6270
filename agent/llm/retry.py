"""Retries of transient failures, and errors that say what to do.

Only rate limits, timeouts, lost connections and 5xx answers are retried, with exponential
backoff plus jitter that honours a server's ``Retry-After``; authentication failures, bad
requests and context overflows fail at once. Every failure leaves the gateway as an
:class:`~envs.errors.LLMError` whose message names the environment variable to set or the
server that did not answer, with any API key scrubbed out.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity

from envs.errors import LLMError

T = TypeVar("T")

MAX_WAIT_S = 60.0
"""No single wait is longer than this, whatever a server asks for."""

_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}")
_KEY_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET")


def _litellm() -> Any:
    from agent.llm.backends import import_litellm

    return import_litellm()


def _transient_types() -> tuple[type[BaseException], ...]:
    litellm = _litellm()
    return (
        litellm.RateLimitError,
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.ServiceUnavailableError,
        litellm.InternalServerError,
        litellm.BadGatewayError,
        TimeoutError,
        ConnectionError,
    )


def _permanent_types() -> tuple[type[BaseException], ...]:
    litellm = _litellm()
    return (
        litellm.AuthenticationError,
        litellm.PermissionDeniedError,
        litellm.BadRequestError,  # ContextWindowExceeded, UnsupportedParams, ... derive from it
        litellm.NotFoundError,
        litellm.UnprocessableEntityError,
        litellm.ContentPolicyViolationError,
    )


def is_transient(exc: BaseException) -> bool:
    """Whether a failed call is worth retrying.

    Decided on litellm's typed exceptions (rate limit, timeout, lost connection, 5xx); a
    generic ``litellm.APIError`` is transient when its HTTP status is 408, 409, 429 or 5xx.
    Everything else (bad request, authentication, unknown model, context overflow) is not.
    """
    if isinstance(exc, LLMError):
        return exc.retryable
    if isinstance(exc, _permanent_types()):
        return False
    if isinstance(exc, _transient_types()):
        return True
    if isinstance(exc, _litellm().APIError):
        status = getattr(exc, "status_code", None)
        return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)
    return False


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds a server asked us to wait (``Retry-After`` / ``retry-after-ms``), if it did."""
    if isinstance(exc, LLMError):
        return exc.retry_after
    headers: dict[str, str] = {}
    response = getattr(exc, "response", None)
    raw = getattr(response, "headers", None)
    if raw is not None:
        headers.update({str(k).lower(): str(v) for k, v in raw.items()})
    extra = getattr(exc, "headers", None)
    if isinstance(extra, dict):
        headers.update({str(k).lower(): str(v) for k, v in extra.items()})
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


class BackoffWait(tenacity.wait.wait_base):
    """Exponential backoff with full jitter, never shorter than a server's ``Retry-After``.

    Args:
        initial_s: Upper bound of the first wait.
        max_s: Upper bound of any wait.
        rng: Random source of the jitter (pass one for reproducible waits).
    """

    def __init__(
        self, initial_s: float = 1.0, max_s: float = MAX_WAIT_S, rng: random.Random | None = None
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.rng = rng if rng is not None else random.Random()

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        ceiling = min(self.max_s, self.initial_s * 2 ** (retry_state.attempt_number - 1))
        wait = self.rng.uniform(0.0, ceiling)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is not None:
            asked = retry_after_s(exc)
            if asked is not None:
                wait = max(wait, min(asked, self.max_s))
        return wait


def call_with_retries(
    fn: Callable[[], T],
    *,
    num_retries: int,
    sleep: Callable[[float], None] = time.sleep,
    wait: tenacity.wait.wait_base | None = None,
) -> T:
    """Call ``fn``, retrying transient failures up to ``num_retries`` times.

    Args:
        fn: The call to make.
        num_retries: Retries after the first attempt.
        sleep: How to wait (tests pass a recorder instead of sleeping).
        wait: Wait strategy; defaults to :class:`BackoffWait`.

    Returns:
        What ``fn`` returned.

    Raises:
        BaseException: The last failure, unchanged, when it is permanent or retries ran out.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_attempt(num_retries + 1),
        wait=wait if wait is not None else BackoffWait(),
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)


def redact(text: str) -> str:
    """Remove anything that looks like a secret from ``text`` before it is shown or stored."""
    for name, value in os.environ.items():
        if name.upper().endswith(_KEY_ENV_SUFFIXES) and len(value) >= 8 and value in text:
            text = text.replace(value, "***")
    return _KEY_PATTERN.sub("sk-***", text)


def _default_endpoint(model: str) -> str:
    provider = model.split("/", 1)[0]
    if provider in ("ollama", "ollama_chat"):
        return os.environ.get("OLLAMA_API_BASE", "http://localhost:11434") + " (Ollama)"
    return f"the {provider} API"


def _not_found(model: str, api_base: str | None, where: str) -> str:
    provider, _, name = model.partition("/")
    if provider in ("ollama", "ollama_chat"):
        return (
            f"Ollama at {where} has no model {name!r}: pull it with `ollama pull {name}` "
            "(`ollama list` shows what is there)"
        )
    if api_base is not None:
        return (
            f"{where} does not serve a model named {name!r}: use a name it lists "
            f"(`llmgs models --api-base {api_base}`), written {provider}/<that name>"
        )
    return f"{where} does not know model {name!r}: check the model name"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (litellm wraps the client's own)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < 12 and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _caused_by(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    return any(isinstance(e, types) for e in _chain(exc))


def _advice(exc: BaseException, model: str, api_base: str | None, key_env: str | None) -> str:
    import httpx
    import openai

    litellm = _litellm()
    where = api_base or _default_endpoint(model)
    provider = model.split("/", 1)[0]
    # litellm reports some lost connections as a 500 (InternalServerError "Connection
    # error."); the client's own typed exception underneath says what really happened.
    timed_out = (litellm.Timeout, openai.APITimeoutError, httpx.TimeoutException, TimeoutError)
    lost = (litellm.APIConnectionError, openai.APIConnectionError, httpx.TransportError,
            ConnectionError)  # fmt: skip
    if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        if key_env:
            return f"authentication failed: check that {key_env} holds a valid key for {model}"
        return (
            f"{where} refused the request's key: set LLMGS_API_KEY to the key the server "
            "expects (it is sent only to --api-base servers)"
        )
    if isinstance(exc, litellm.ContextWindowExceededError):
        return "the prompt does not fit the model's context: shorten it or use a larger n_ctx"
    if isinstance(exc, litellm.UnsupportedParamsError):
        return (
            f"litellm refused a parameter for {provider}; llmgs sends only the parameters "
            "litellm lists for the provider, so please report this; meanwhile an "
            "OpenAI-compatible endpoint works as openai/NAME with --api-base"
        )
    if isinstance(exc, litellm.NotFoundError):
        return _not_found(model, api_base, where)
    if _caused_by(exc, timed_out):
        return (
            f"{where} did not answer in time: a server on a CPU may need a smaller "
            "max_tokens (--max-tokens) or a longer timeout (LLMConfig.timeout_s)"
        )
    if _caused_by(exc, lost):
        if provider in ("ollama", "ollama_chat") and api_base is None:
            return (
                f"no answer from {where}: start Ollama (`ollama serve`) or pass --api-base "
                "with the address of your Ollama server"
            )
        return f"no answer from {where}: is the server running and reachable?"
    if isinstance(exc, litellm.RateLimitError):
        return "rate limited by the provider: wait, lower the request rate, or raise num_retries"
    if isinstance(
        exc,
        litellm.ServiceUnavailableError | litellm.InternalServerError | litellm.BadGatewayError,
    ):
        return f"{where} failed on its side (5xx): try again later"
    if isinstance(exc, litellm.BadRequestError):
        return (
            f"{where} rejected the request: check that {model!r} names a model it serves "
            "and that the prompt fits its context"
        )
    return "the model call failed"


def to_llm_error(
    exc: BaseException, *, model: str, api_base: str | None = None, key_env: str | None = None
) -> LLMError:
    """Turn a backend exception into an :class:`LLMError` that says what to do.

    Args:
        exc: The exception the backend raised.
        model: The model string of the call.
        api_base: The server URL, when one was configured.
        key_env: The environment variable holding the key of this provider, if any.

    Returns:
        An ``LLMError`` with a redacted message; ``retryable`` and ``retry_after`` filled in.
    """
    if isinstance(exc, LLMError):
        return exc
    detail = redact(str(exc)).strip().replace("\n", " ")
    if len(detail) > 300:
        detail = detail[:297] + "..."
    message = f"{model}: {_advice(exc, model, api_base, key_env)} ({type(exc).__name__}: {detail})"
    return LLMError(
        message, model=model, retryable=is_transient(exc), retry_after=retry_after_s(exc)
    )
