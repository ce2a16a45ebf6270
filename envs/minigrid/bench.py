"""Throughput of the Minigrid evaluator: programs (each on all n instances) per second.

``envs`` may not import ``search``, so the caller supplies the programs; ``llmgs bench`` passes a
seeded set from ``search.random_program("minigrid", rng)``, the reference's search space.

Example:
    >>> from search import random_program
    >>> rng = np.random.RandomState(0)
    >>> programs = [random_program("minigrid", rng) for _ in range(50)]
    >>> rows = minigrid_bench(programs)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from envs.dsl.ast import (
    Program,
)

#: The reference's cost per Minigrid episode (spec/benchmark.md §10.1), in milliseconds.
REFERENCE_MS_PER_EPISODE = (3.0, 4.0)


@dataclass(frozen=True, slots=True)
class BenchRow:
    """Throughput of one task.

    Attributes:
        task: Registry id.
        programs: Programs evaluated (each on all n instances).
        instances: n.
        seconds: Wall time of the evaluations (compilation included, task build excluded).
        programs_per_s: Evaluations per second.
        us_per_episode: Mean wall time of one episode, in microseconds.
        speedup_vs_reference: 3.5 ms (the reference's midpoint) over ``us_per_episode``.
    """

    task: str
    programs: int
    instances: int
    seconds: float
    programs_per_s: float
    us_per_episode: float
    speedup_vs_reference: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def minigrid_bench(
    programs: Sequence[Program | str],
    tasks: Sequence[str] = ("LavaGap", "PutNear", "RedBlueDoor"),
    n: int = 32,
) -> list[BenchRow]:
    """Measure evaluations per second of the given programs on each Minigrid task.

    Args:
        programs: The programs to time (for example random ones from the search space).
        tasks: Task names (``"LavaGap"`` or ``"minigrid/LavaGap"``).
        n: Instances per task (the benchmark uses 32, seeds 0..31).

    Returns:
        One row per task.
    """
    from envs.minigrid.task import MinigridTask  # minigrid is imported only when measuring

    progs = list(programs)
    rows = []
    for name in tasks:
        task = MinigridTask(name, n=n)
        start = time.perf_counter()
        for program in progs:
            task.returns(program)
        seconds = time.perf_counter() - start
        us = seconds / (len(progs) * n) * 1e6
        ref_us = sum(REFERENCE_MS_PER_EPISODE) / 2 * 1000
        rows.append(
            BenchRow(task.id, len(progs), n, seconds, len(progs) / seconds, us, ref_us / us)
        )
    return rows
