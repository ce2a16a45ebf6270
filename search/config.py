"""Configuration of a search run (one frozen dataclass shared by every method)."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from envs.errors import ConfigError
from search.schedule import Easing, Interpolation, Ratio, k_schedule

Method = Literal["mosaic", "shc", "hc", "random", "llmgs"]
METHODS: tuple[str, ...] = ("mosaic", "shc", "hc", "random", "llmgs")


@dataclass(frozen=True)
class SearchConfig:
    """Settings of one search run.

    Attributes:
        budget: Evaluations allowed, in the paper's counting (every program evaluated on all
            instances counts 1, duplicates included). The budget is exact: the search never
            evaluates more (the reference checks it only between climbs and overshoots).
        seed: Seed of the search RNG (numpy ``RandomState``).
        k: Neighbourhood size of plain hill climbing (``hc``).
        start_k: Scheduled HC's k at the start.
        end_k: Scheduled HC's k at ``horizon`` evaluations.
        horizon: Evaluations at which k reaches ``end_k``; None means the budget (the
            reference uses its budget, ``max_program_nums``).
        ratio: Progress measure of the k schedule (``"log"`` or ``"linear"``).
        easing: Easing of the k schedule (``"sin"`` or ``"linear"``).
        interpolation: Interpolation of the k schedule (``"log"`` or ``"linear"``).
        target: Stop once a program reaches this return (the benchmark's success is >= 1.0).
        max_climb_steps: Improvement steps allowed per climb (the reference's 10,000).
        use_cache: Reuse the score of a program already evaluated (it still counts).
        workers: Workers scoring the neighbours of a climb ahead of it (1 = in-process): threads
            for the compiled Karel and Minigrid tasks, processes for others
            (:mod:`search.pool`). Results do not depend on it.
        progress: Show a progress bar (only when stderr is a terminal).
        run_dir: Folder for ``events.jsonl``, checkpoints and ``result.json``; None for none.
        checkpoint_every_s: Seconds between checkpoints (taken at climb boundaries; 0 = every
            climb).
        resume: Continue from the checkpoint in ``run_dir`` when there is one.
        heldout: Held-out instances on which the final program is also scored (instances
            ``task.seed + task.n`` onwards, never searched on); 0 for none. Not counted in
            the budget and without effect on the search.
    """

    # The metadata's help texts are the command-line help of ``llmgs search``.
    budget: int = 1_000_000
    seed: int = field(default=0, metadata={"help": "seed of the search"})
    k: int = field(default=250, metadata={"help": "neighbours per step of hc"})
    start_k: int = field(default=32, metadata={"help": "Scheduled HC's k at the start"})
    end_k: int = field(default=2048, metadata={"help": "Scheduled HC's k at the horizon"})
    horizon: int | None = field(
        default=None,
        metadata={"help": "evaluations at which k reaches --end-k (default the budget)"},
    )
    ratio: Ratio = field(default="log", metadata={"help": "progress measure of the k schedule"})
    easing: Easing = field(default="sin", metadata={"help": "easing of the k schedule"})
    interpolation: Interpolation = field(
        default="log", metadata={"help": "interpolation of the k schedule"}
    )
    target: float = field(default=1.0, metadata={"help": "stop once a program reaches it"})
    max_climb_steps: int = field(
        default=10_000, metadata={"help": "improvement steps allowed per climb"}
    )
    use_cache: bool = field(
        default=True, metadata={"help": "reuse the score of a program already evaluated"}
    )
    workers: int = field(
        default=1, metadata={"help": "workers scoring neighbours ahead (threads or processes)"}
    )
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    run_dir: str | None = None
    checkpoint_every_s: float = field(
        default=60.0,
        metadata={"help": "seconds between checkpoints", "flag": "--checkpoint-every"},
    )
    resume: bool = False
    heldout: int = field(
        default=64,
        metadata={"help": "held-out instances the final program is also scored on (0: none)"},
    )

    def __post_init__(self) -> None:
        if self.budget < 0:
            raise ConfigError(f"budget must be >= 0, got {self.budget}")
        if self.k < 1 or self.max_climb_steps < 0:
            raise ConfigError(f"k must be >= 1 and max_climb_steps >= 0 (got {self.k})")
        if self.heldout < 0:
            raise ConfigError(f"heldout must be >= 0, got {self.heldout}")
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.horizon is not None and self.horizon < 1:
            raise ConfigError(f"horizon must be >= 1, got {self.horizon}")
        if self.resume and self.run_dir is None:
            raise ConfigError("resume needs run_dir (the folder holding the checkpoint)")
        k_schedule(1, self.start_k, self.end_k, 10, self.ratio, self.easing, self.interpolation)

    def scheduled_k(self, n: int) -> int:
        """Scheduled HC's k for a climb starting after ``n`` evaluations."""
        horizon = self.budget if self.horizon is None else self.horizon
        return k_schedule(
            n, self.start_k, self.end_k, max(horizon, 1), self.ratio, self.easing,
            self.interpolation,
        )  # fmt: skip

    def with_overrides(self, **changes: Any) -> SearchConfig:
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: ``data`` has keys that are not SearchConfig fields.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown SearchConfig fields: {', '.join(sorted(unknown))}")
        return cls(**data)


class CountError(ConfigError, argparse.ArgumentTypeError):
    """A count that is not a whole number. It is also argparse's type error, so a command
    line that uses :func:`parse_count` as an option's ``type`` prints its message."""


def parse_count(text: str) -> int:
    """A count as people write it: ``100000``, ``100_000``, ``100,000`` or ``1e5``.

    Budgets are written in powers of ten (the paper's 1e6); the command lines use this for
    every whole-number option (``type=parse_count``).

    Raises:
        CountError: ``text`` is not a whole number (a ConfigError).
    """
    cleaned = text.strip().replace("_", "").replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        raise CountError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise CountError(f"not a whole number: {text!r}")
    return int(value)
