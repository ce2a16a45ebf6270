"""Benchmark of the Karel evaluators: programs and actions per second, per task.

:func:`run_bench` times the compiled evaluator (:mod:`envs.karel.compiled`) and the exact
pure-Python interpreter on the *same* programs in the same run, on the task's 32 instances:

* ``hand``: the spec's hand-written programs (the test vectors of spec/benchmark.md §4; a
  dense or sparse variant uses its sibling's program). They run long, so they measure raw
  action throughput.
* ``random``: a fixed, seeded set of random programs from the search space's generator
  (``search.space.random_program``, passed in by the caller because ``envs`` never imports
  ``search``). They are short, so they measure the per-program overhead the search pays.

Rates are per CPU-second of the calling thread (the kernel runs in it), so a busy shared
machine slows the wall clock but not the figures much. Each rate is the median over timed
rounds of the whole set (a round lasts at least 20 ms of CPU; up to 15 rounds for the compiled
evaluator and 3 for the interpreter, within ``seconds``), and both evaluators run the very same
programs in the same process. Actions per second use the compiled evaluator's action count,
which equals the interpreter's because both are exact. JIT warm-up is timed separately
(:func:`measure_jit` compiles in a fresh process with an empty cache, then loads the
cache in another), so no rate includes it.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from envs.dsl.ast import Program
from envs.dsl.parser import parse
from envs.errors import ConfigError
from envs.karel.compiled import CompiledKarelEvaluator, warm_up
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS, SPECS
from envs.karel.vectors import TEST_VECTORS

#: The reference's speed on this kind of machine (issue 2), programs/s on 32 instances.
REFERENCE_RANDOM_PER_S = (100.0, 400.0)
REFERENCE_HAND_PER_S = (2.0, 30.0)

HAND_PROGRAMS: dict[str, tuple[str, ...]] = {}
for _vector in TEST_VECTORS:
    HAND_PROGRAMS.setdefault(_vector.task, ())
    HAND_PROGRAMS[_vector.task] += (_vector.program,)
"""The spec's hand-written programs (test vectors), by the task they were written for."""

_SIBLING = {
    "StairClimber": "StairClimberSparse", "Maze": "MazeSparse",
    "FourCornersSparse": "FourCorners", "TopOffSparse": "TopOff",
    "HarvesterSparse": "Harvester", "CleanHouseSparse": "CleanHouse",
}  # fmt: skip

ProgramSet = Literal["hand", "random", "both"]
RandomProgram = Callable[[np.random.RandomState], Program]


@dataclass(frozen=True)
class BenchRow:
    """Speed of one program set on one task (32 instances unless the caller chose another n).

    Attributes:
        task: Benchmark task name.
        programs: ``"hand"`` or ``"random"``.
        count: Programs in the set.
        actions_per_program: Mean actions executed per program (all instances).
        compiled_per_s: Programs per second, compiled, one batched kernel call per set.
        compiled_single_per_s: Programs per second, compiled, one ``task.returns`` per program
            (what a caller evaluating programs one by one gets).
        compiled_actions_per_s: Actions per second, compiled (batched).
        python_per_s: Programs per second of the pure-Python interpreter; None if skipped.
        python_actions_per_s: Actions per second of the interpreter; None if skipped.
        speedup: ``compiled_single_per_s / python_per_s``; None if the interpreter was skipped.
        vs_reference: ``compiled_single_per_s`` over the *fastest* reference figure of the
            issue (400 random or 30 hand-written programs/s): the speed-up at worst.
    """

    task: str
    programs: str
    count: int
    actions_per_program: float
    compiled_per_s: float
    compiled_single_per_s: float
    compiled_actions_per_s: float
    python_per_s: float | None
    python_actions_per_s: float | None
    speedup: float | None
    vs_reference: float


@dataclass(frozen=True)
class BenchResult:
    """Everything :func:`run_bench` measured.

    Attributes:
        rows: One row per task and program set.
        warm_up_s: Seconds this process spent loading (or compiling) the kernel before timing.
        jit_cold_s: Wall seconds to compile the kernel in a fresh process with an empty cache;
            None unless measured (:func:`measure_jit`).
        jit_cold_cpu_s: CPU seconds of that compilation.
        jit_cached_s: Wall seconds to load the cached kernel in a fresh process.
        jit_cached_cpu_s: CPU seconds of that load.
        peak_rss_mb: Peak resident memory of this process (``getrusage``), in MiB.
        evaluator_mb: Memory held by one compiled evaluator's arrays, largest task, in MiB.
        machine: CPU count, Python, numpy and numba versions.
    """

    rows: tuple[BenchRow, ...]
    warm_up_s: float
    jit_cold_s: float | None
    jit_cold_cpu_s: float | None
    jit_cached_s: float | None
    jit_cached_cpu_s: float | None
    peak_rss_mb: float
    evaluator_mb: float
    machine: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def hand_programs(task: str) -> tuple[Program, ...]:
    """The spec's hand-written programs for a task (its sibling's for dense/sparse variants)."""
    texts = HAND_PROGRAMS.get(task) or HAND_PROGRAMS.get(_SIBLING.get(task, ""), ())
    return tuple(parse(t, "karel") for t in texts)


def random_programs(generate: RandomProgram, count: int, seed: int = 0) -> tuple[Program, ...]:
    """``count`` programs from ``generate`` driven by ``RandomState(seed)`` (a fixed set)."""
    rng = np.random.RandomState(seed)
    return tuple(generate(rng) for _ in range(count))


def _median_rate(run_set: Callable[[], object], count: int, seconds: float, rounds: int) -> float:
    """Median programs per CPU-second over rounds of ``run_set`` (each >= 20 ms of CPU).

    Time is this thread's CPU time, not wall time: on a shared machine a descheduled process
    would otherwise look slow. Rounds continue until ``seconds`` of CPU have been spent and at
    least one ran, at most ``rounds``; the median damps what noise remains.
    """
    rates: list[float] = []
    spent = 0.0
    while not rates or (spent < seconds and len(rates) < rounds):
        start = time.thread_time()
        done = 0
        while True:
            run_set()
            done += count
            elapsed = time.thread_time() - start
            if elapsed >= 0.02:
                break
        rates.append(done / elapsed)
        spent += elapsed
    return float(np.median(rates))


def _bench_set(
    name: str, kind: str, programs: Sequence[Program], n: int, seconds: float, python: bool
) -> BenchRow:
    compiled = KarelTask(name, n=n, engine="compiled")
    evaluator = CompiledKarelEvaluator(compiled)
    evaluator.returns_many(programs)
    per_program = evaluator.actions / len(programs)
    count = len(programs)
    batch = _median_rate(lambda: evaluator.returns_many(programs), count, seconds / 2, 15)
    single = _median_rate(lambda: [compiled.returns(p) for p in programs], count, seconds / 2, 15)
    py_rate = py_actions = speedup = None
    if python:
        interp = KarelTask(name, n=n, engine="python")
        py_rate = _median_rate(lambda: [interp.returns(p) for p in programs], count, seconds, 3)
        py_actions = py_rate * per_program
        speedup = single / py_rate
    ref = (REFERENCE_HAND_PER_S if kind == "hand" else REFERENCE_RANDOM_PER_S)[1]
    return BenchRow(
        task=name, programs=kind, count=count, actions_per_program=per_program,
        compiled_per_s=batch, compiled_single_per_s=single,
        compiled_actions_per_s=batch * per_program, python_per_s=py_rate,
        python_actions_per_s=py_actions, speedup=speedup, vs_reference=single / ref,
    )  # fmt: skip


def measure_jit() -> tuple[float, float, float, float]:
    """Cold compile and cached load of the kernel, each in a fresh process.

    Returns:
        ``(cold_s, cold_cpu_s, cached_s, cached_cpu_s)``, wall and CPU seconds of
        :func:`~envs.karel.compiled.warm_up`: the first process compiles into an empty
        temporary ``NUMBA_CACHE_DIR``, the second loads what the first cached.
    """
    code = (
        "import time\nfrom envs.karel.compiled import warm_up\n"
        "c = time.process_time()\nw = warm_up()\nprint(w, time.process_time() - c)"
    )
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        out: list[float] = []
        for _ in range(2):
            proc = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            out += [float(v) for v in proc.stdout.strip().splitlines()[-1].split()]
    return out[0], out[1], out[2], out[3]


def run_bench(
    tasks: Sequence[str] | None = None,
    programs: ProgramSet = "both",
    n_random: int = 200,
    seconds: float = 1.0,
    *,
    random_program: RandomProgram | None = None,
    seed: int = 0,
    n: int = 32,
    python: bool = True,
    jit: bool = False,
) -> BenchResult:
    """Measure programs/s and actions/s of the compiled evaluator (and the interpreter).

    Args:
        tasks: Benchmark names; None means the 12 tasks of the paper.
        programs: Which sets to time: ``"hand"``, ``"random"`` or ``"both"``.
        n_random: Size of the seeded random set.
        seconds: CPU seconds spent timing each evaluator per task and set (at least one round).
        random_program: Generator of one random program from a ``RandomState`` (e.g.
            ``lambda rng: search.space.random_program("karel", rng)``); needed for random sets.
        seed: Seed of the random set.
        n: Instances per task.
        python: Also time the pure-Python interpreter on the same programs.
        jit: Also measure the cold and cached JIT cost in fresh processes (:func:`measure_jit`).

    Raises:
        ConfigError: Unknown task, bad ``programs``, or random programs without a generator.
    """
    names = tuple(BENCHMARK_TASKS if tasks is None else tasks)
    unknown = [t for t in names if t not in SPECS]
    if unknown:
        raise ConfigError(f"unknown Karel task(s) {unknown}; known: {', '.join(sorted(SPECS))}")
    if programs not in ("hand", "random", "both"):
        raise ConfigError(f"programs must be 'hand', 'random' or 'both', got {programs!r}")
    if programs != "hand" and random_program is None:
        raise ConfigError("random programs need a generator: pass random_program=...")
    warm = warm_up()
    random_set = () if programs == "hand" else random_programs(random_program, n_random, seed)
    rows: list[BenchRow] = []
    evaluator_bytes = 0
    for name in names:
        if programs != "random" and hand_programs(name):
            rows.append(_bench_set(name, "hand", hand_programs(name), n, seconds, python))
        if programs != "hand":
            rows.append(_bench_set(name, "random", random_set, n, seconds, python))
        evaluator_bytes = max(evaluator_bytes, _evaluator_bytes(KarelTask(name, n=n)))
    cold, cold_cpu, cached, cached_cpu = measure_jit() if jit else (None, None, None, None)
    return BenchResult(
        rows=tuple(rows),
        warm_up_s=warm,
        jit_cold_s=cold,
        jit_cold_cpu_s=cold_cpu,
        jit_cached_s=cached,
        jit_cached_cpu_s=cached_cpu,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        evaluator_mb=evaluator_bytes / 2**20,
        machine=_machine(),
    )


def _evaluator_bytes(task: KarelTask) -> int:
    evaluator = CompiledKarelEvaluator(task)
    return sum(v.nbytes for v in vars(evaluator).values() if isinstance(v, np.ndarray))


def _machine() -> dict[str, Any]:
    import numba

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "load_average": os.getloadavg()[0],
    }


def format_table(result: BenchResult) -> str:
    """The result as a fixed-width text table plus the JIT and memory lines."""
    head = (
        f"{'task':<19}{'set':<7}{'n':>4}{'act/prog':>10}{'compiled/s':>12}{'batch/s':>10}"
        f"{'Mact/s':>8}{'python/s':>10}{'speed-up':>10}{'vs ref':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in result.rows:
        py = "-" if r.python_per_s is None else f"{r.python_per_s:.1f}"
        sp = "-" if r.speedup is None else f"{r.speedup:.0f}x"
        lines.append(
            f"{r.task:<19}{r.programs:<7}{r.count:>4}{r.actions_per_program:>10.0f}"
            f"{r.compiled_single_per_s:>12.0f}{r.compiled_per_s:>10.0f}"
            f"{r.compiled_actions_per_s / 1e6:>8.1f}{py:>10}{sp:>10}{r.vs_reference:>7.0f}x"
        )
    lines.append(
        "rates per CPU-second, a program counts once for all its instances; compiled/s: one "
        "task.returns per program;\nbatch/s: returns_many; speed-up: compiled/s over python/s; "
        f"vs ref: compiled/s over {REFERENCE_RANDOM_PER_S[1]:.0f} (random) or "
        f"{REFERENCE_HAND_PER_S[1]:.0f} (hand) programs/s"
    )
    lines.append(f"kernel load in this process: {result.warm_up_s:.2f} s")
    if result.jit_cold_s is not None:
        lines.append(
            f"JIT in a fresh process: cold compile {result.jit_cold_s:.1f} s "
            f"({result.jit_cold_cpu_s:.1f} s CPU), cached load {result.jit_cached_s:.2f} s "
            f"({result.jit_cached_cpu_s:.2f} s CPU)"
        )
    lines.append(
        f"peak RSS {result.peak_rss_mb:.0f} MiB; one evaluator's arrays {result.evaluator_mb:.2f}"
        f" MiB; load average {result.machine.get('load_average', 0):.1f} on "
        f"{result.machine.get('cpus')} CPUs"
    )
    return "\n".join(lines)
