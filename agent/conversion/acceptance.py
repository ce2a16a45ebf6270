"""Turning model answers into programs, and counting how many were accepted (the paper's
"acceptance rate") and why the others were rejected.

Per answer, the strategy decides which candidates are tried:

* ``pythonic_dsl`` (default): the Python code converted exactly; if that fails, the model's own
  DSL translation found by the extractor. (The reference tries both and picks one at random
  when both parse; we prefer the exact conversion of the Python, which the model wrote first.)
* ``python``: only the Python conversion. ``dsl``: only the DSL extractor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from agent.conversion.extract_dsl import extract_dsl
from agent.conversion.python_to_dsl import python_to_dsl
from envs.dsl.grammar import grammar
from envs.errors import ConfigError, ConversionError

Strategy = Literal["pythonic_dsl", "python", "dsl"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)


@dataclass(frozen=True)
class ConversionOutcome:
    """What became of one answer.

    Attributes:
        program: Canonical DSL when accepted, else None.
        source: ``"python"`` or ``"dsl"``: which candidate was accepted; None when rejected.
        reason: The rejection reason code (the Python candidate's when both failed).
        message: The rejection message a model can act on.
    """

    program: str | None
    source: Literal["python", "dsl"] | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether a program was obtained."""
        return self.program is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "program": self.program,
            "source": self.source,
            "reason": self.reason,
            "message": self.message,
        }


def _attempt(convert: Callable[[str, str], str], text: str, domain: str) -> str:
    """``convert(text, domain)``, with any failure on odd input reported as ConversionError.

    The converters raise only ConversionError on purpose (fuzz-tested); a ValueError or
    RecursionError escaping one would be a bug, and one bad answer must not abort a batch
    (``solve`` would lose every other answer), so it becomes a rejection with reason
    ``"internal"`` whose message names the error.
    """
    try:
        return convert(text, domain)
    except ConversionError:
        raise
    except (ValueError, RecursionError) as err:
        raise ConversionError(
            f"the converter failed on this answer ({type(err).__name__}: {str(err)[:200]})",
            reason="internal",
        ) from err


def convert_answer(
    text: str, domain: str = "karel", strategy: Strategy = "pythonic_dsl"
) -> ConversionOutcome:
    """Convert one model answer according to ``strategy`` (never raises ConversionError).

    Raises:
        ConfigError: Unknown strategy or domain.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    grammar(domain)  # an unknown domain is the caller's error, raised before any attempt
    first: ConversionError | None = None
    if strategy in ("pythonic_dsl", "python"):
        try:
            return ConversionOutcome(_attempt(python_to_dsl, text, domain), "python")
        except ConversionError as err:
            first = err
    if strategy in ("pythonic_dsl", "dsl"):
        try:
            return ConversionOutcome(_attempt(extract_dsl, text, domain), "dsl")
        except ConversionError as err:
            if first is None:
                first = err
            elif first.reason == "no_code":
                first = err  # no Python at all: the DSL attempt's reason says more
    if first is None:  # unreachable: every strategy tries at least one candidate
        raise ConfigError(f"strategy {strategy!r} tried no candidate")
    return ConversionOutcome(None, None, first.reason, str(first))


@dataclass(frozen=True)
class AcceptanceStats:
    """Acceptance counts over a batch of answers.

    Attributes:
        total: Answers seen.
        accepted: Answers that gave a program.
        by_source: Accepted answers per candidate kind (``python``/``dsl``).
        by_reason: Rejected answers per reason code.
    """

    total: int = 0
    accepted: int = 0
    by_source: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    by_reason: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def rejected(self) -> int:
        """Answers that gave no program."""
        return self.total - self.accepted

    @property
    def rate(self) -> float:
        """Accepted / total (0.0 for an empty batch)."""
        return self.accepted / self.total if self.total else 0.0

    def merge(self, other: AcceptanceStats) -> AcceptanceStats:
        """The stats of both batches together."""
        return AcceptanceStats(
            self.total + other.total,
            self.accepted + other.accepted,
            MappingProxyType(dict(Counter(self.by_source) + Counter(other.by_source))),
            MappingProxyType(dict(Counter(self.by_reason) + Counter(other.by_reason))),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, reasons sorted by count (most frequent first)."""
        reasons = sorted(self.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "total": self.total,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "acceptance_rate": self.rate,
            "by_source": dict(sorted(self.by_source.items())),
            "by_reason": dict(reasons),
        }


def tally(outcomes: Iterable[ConversionOutcome]) -> AcceptanceStats:
    """Count accepted and rejected outcomes, by source and by reason."""
    total = accepted = 0
    sources: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for outcome in outcomes:
        total += 1
        if outcome.accepted:
            accepted += 1
            sources[outcome.source or "unknown"] += 1
        else:
            reasons[outcome.reason or "invalid"] += 1
    return AcceptanceStats(
        total, accepted, MappingProxyType(dict(sources)), MappingProxyType(dict(reasons))
    )
