"""The neighbourhood-size schedule of Scheduled Hill Climbing (spec/benchmark.md §6.5).

Scheduled HC fixes the number of neighbours ``k`` of each climb from the global evaluation
counter at the start of that climb: small neighbourhoods early (cheap, greedy progress), large
ones late (to escape local maxima once the cheap moves are exhausted).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from envs.errors import ConfigError

Ratio = Literal["log", "linear"]
Easing = Literal["sin", "linear"]
Interpolation = Literal["log", "linear"]

_RATIOS = ("log", "linear")
_EASINGS = ("sin", "linear")
_INTERPOLATIONS = ("log", "linear")


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")


def k_schedule(
    n: int,
    start: int = 32,
    end: int = 2048,
    horizon: int = 1_000_000,
    ratio: Ratio = "log",
    easing: Easing = "sin",
    interpolation: Interpolation = "log",
) -> int:
    """Neighbourhood size for a climb that starts after ``n`` evaluations.

    ``n <= 0`` gives ``start`` and ``n >= horizon`` gives ``end``. In between, the progress
    ratio (``log10(n)/log10(horizon)`` or ``n/horizon``) is optionally eased with a sine and
    interpolated between ``start`` and ``end`` in log2 space or linearly, then rounded up. The
    arithmetic uses numpy's ``log10``/``log2`` as the reference does, so the values match it
    bit for bit (e.g. 43 at n=10 and 1551 at n=1e5 with the defaults).

    Args:
        n: Evaluations done so far (the paper's counter).
        start: k at the start of the search.
        end: k once ``horizon`` evaluations are done.
        horizon: Evaluations at which k reaches ``end`` (the reference uses the budget).
        ratio: How progress is measured: ``"log"`` or ``"linear"`` in n.
        easing: ``"sin"`` (slow start and end) or ``"linear"``.
        interpolation: ``"log"`` (geometric between start and end) or ``"linear"``.

    Returns:
        The neighbourhood size k (an int >= 1).

    Raises:
        ConfigError: An option is unknown, or start/end/horizon are not positive.
    """
    _check("ratio", ratio, _RATIOS)
    _check("easing", easing, _EASINGS)
    _check("interpolation", interpolation, _INTERPOLATIONS)
    if start < 1 or end < 1 or horizon < 1:
        raise ConfigError(
            f"k schedule needs start, end and horizon >= 1 (got {start}, {end}, {horizon})"
        )
    if n <= 0:
        return start
    if n >= horizon:
        return end
    if ratio == "log":
        # horizon == 1 is unreachable here (n would be >= horizon), so log10(horizon) > 0.
        progress = np.log10(n) / np.log10(horizon)
    else:
        progress = n / horizon
    if easing == "sin":
        progress = (math.sin((progress * 2 - 1) * math.pi / 2) + 1) / 2
    if interpolation == "log":
        lo, hi = np.log2(start), np.log2(end)
        return math.ceil(2 ** (lo + (hi - lo) * progress))
    return math.ceil(start + (end - start) * progress)
