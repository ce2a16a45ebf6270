"""The one error hierarchy of llmgs.

Every error the library raises on purpose derives from :class:`LlmgsError`, so a caller can
catch everything llmgs-specific in one ``except``. The classes live in the lowest layer
(``envs``) so that every package above can raise them without importing upward; they carry
no dependency on any LLM library.
"""

from __future__ import annotations


class LlmgsError(Exception):
    """Base class of every error llmgs raises on purpose."""


class ConfigError(LlmgsError, ValueError):
    """A setting or argument is invalid; the message says which and what is allowed."""


class DSLSyntaxError(LlmgsError, ValueError):
    """A DSL program does not parse.

    Attributes:
        text: The program text that failed.
        position: Index of the offending token in the token list (0-based), or -1 at end.
        token: The offending token ("" at end of input).
        expected: What the parser expected there, in words.
        column: Character offset of the offending token in ``text``.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        position: int = -1,
        token: str = "",
        expected: str = "",
        column: int = -1,
    ) -> None:
        self.text = text
        self.position = position
        self.token = token
        self.expected = expected
        self.column = column
        super().__init__(message)


class ProgramRuntimeError(LlmgsError):
    """A program could not be run (for example it uses a token the domain does not know)."""


class TaskNotFound(LlmgsError, KeyError):
    """No task has the given id or matches the given description."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class TaskContractError(LlmgsError):
    """A task breaks the Task contract (found by :func:`envs.check_task`)."""


class ConversionError(LlmgsError, ValueError):
    """Python written by a model cannot be expressed in the DSL.

    Attributes:
        reason: A short machine-readable reason (e.g. ``"variable"``, ``"unknown_call"``).
        line: 1-based line in the extracted code, or None when not tied to a line.
    """

    def __init__(self, message: str, *, reason: str = "invalid", line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(message)


class BudgetExceeded(LlmgsError):
    """An evaluation budget was used up before the requested work finished."""


class LLMError(LlmgsError):
    """A model call failed; the message says what to do about it.

    Attributes:
        model: The model string the call used.
        retryable: Whether the failure was transient (rate limit, timeout, connection, 5xx).
        retry_after: Seconds the server asked us to wait, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.model = model
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)


class CacheMiss(LLMError):
    """Replay-only mode found no cached completion for a request."""


class ModelIntegrityError(LLMError):
    """An embedded model file failed its SHA-256 check and was not loaded."""
