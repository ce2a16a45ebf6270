"""Throughput of the Minigrid evaluators: programs (each on all n instances) per second.

Both evaluators run the very same programs in the same process, in alternating rounds:
the compiled one (:mod:`envs.minigrid.compiled`, behind ``MinigridTask.returns``) and the
executor on minigrid's world (:mod:`envs.minigrid.executor`, which rollouts use and which
``returns`` used before). Rates are per CPU-second of the calling thread, medians over the
rounds, so a busy shared machine slows the wall clock but not the figures much; the kernel is
loaded before timing, so no rate includes JIT time.

``envs`` may not import ``search``, so the caller supplies the programs; ``llmgs bench`` passes a
seeded set from ``search.random_program("minigrid", rng)``, the reference's search space.

Example:
    >>> from search import random_program
    >>> rng = np.random.RandomState(0)
    >>> programs = [random_program("minigrid", rng) for _ in range(50)]
    >>> rows = minigrid_bench(programs)  # doctest: +SKIP
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
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
        seconds: CPU time of one round of the compiled evaluator (median; bytecode
            compilation included, task build excluded).
        programs_per_s: Evaluations per second of the compiled evaluator (median of rounds).
        us_per_episode: Mean time of one episode with it, in microseconds.
        speedup_vs_reference: 3.5 ms (the reference's midpoint) over ``us_per_episode``.
        executor_per_s: Evaluations per second of the executor on minigrid's world (median of
            rounds).
        speedup_vs_executor: ``programs_per_s`` over ``executor_per_s``.
    """

    task: str
    programs: int
    instances: int
    seconds: float
    programs_per_s: float
    us_per_episode: float
    speedup_vs_reference: float
    executor_per_s: float = 0.0
    speedup_vs_executor: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _rate(evaluate: Callable[[Program | str], object], programs: list[Program | str]) -> float:
    start = time.process_time()
    for program in programs:
        evaluate(program)
    return len(programs) / max(time.process_time() - start, 1e-9)


def minigrid_bench(
    programs: Sequence[Program | str],
    tasks: Sequence[str] = ("LavaGap", "PutNear", "RedBlueDoor"),
    n: int = 32,
    rounds: int = 3,
) -> list[BenchRow]:
    """Measure evaluations per second of the given programs on each Minigrid task.

    Args:
        programs: The programs to time (for example random ones from the search space).
        tasks: Task names (``"LavaGap"`` or ``"minigrid/LavaGap"``).
        n: Instances per task (the benchmark uses 32, seeds 0..31).
        rounds: Timed rounds of the whole set per evaluator (the medians are reported).

    Returns:
        One row per task.
    """
    from envs.dsl.parser import ensure_program
    from envs.minigrid.task import MinigridTask  # minigrid is imported only when measuring

    progs: list[Program | str] = [ensure_program(p, "minigrid") for p in programs]
    rows = []
    for name in tasks:
        task = MinigridTask(name, n=n)
        task.returns("DEF run m( forward m)")  # load the kernel before timing

        def executor(program: Program | str, task: MinigridTask = task) -> list[float]:
            compiled = task.compile(program)
            return [compiled.run(snap).total_return for snap in task.snapshots]

        kernel_rates, executor_rates = [], []
        for _ in range(max(rounds, 1)):
            kernel_rates.append(_rate(task.returns, progs))
            executor_rates.append(_rate(executor, progs))
        per_s = statistics.median(kernel_rates)
        old_per_s = statistics.median(executor_rates)
        us = 1e6 / (per_s * n)
        ref_us = sum(REFERENCE_MS_PER_EPISODE) / 2 * 1000
        rows.append(
            BenchRow(
                task.id,
                len(progs),
                n,
                len(progs) / per_s,
                per_s,
                us,
                ref_us / us,
                old_per_s,
                per_s / old_per_s,
            )
        )
    return rows
