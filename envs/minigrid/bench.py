"""Throughput of the Minigrid evaluator: programs (each on all n instances) per second.

``envs`` may not import ``search``, so this module carries a small seeded generator of random
programs that follows the MINIGRID production table (spec/benchmark.md §6.1-6.2: statement,
boolean, action and perception probabilities, height <= 4, blocks <= 6 statements, <= 45
tokens). It does not replay the reference's RNG draws; the search package's
``random_program("minigrid", rng)`` does that, and its programs can be passed in instead.

Example:
    >>> from envs.minigrid.bench import minigrid_bench
    >>> rows = minigrid_bench(programs=50)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from envs.dsl.ast import (
    Action,
    Cond,
    If,
    IfElse,
    Not,
    Perception,
    Program,
    Repeat,
    Stmt,
    While,
    height,
    max_block_length,
    token_count,
)
from envs.dsl.grammar import MAX_REPEAT, MINIGRID

#: The reference's cost per Minigrid episode (spec/benchmark.md §10.1), in milliseconds.
REFERENCE_MS_PER_EPISODE = (3.0, 4.0)

_STMTS = tuple(MINIGRID.statement_probs)
_STMT_P = np.array(tuple(MINIGRID.statement_probs.values()))
_CONTROL = {"WHILE", "REPEAT", "IF", "IFELSE"}


def _pick(rng: np.random.Generator, table: dict) -> str:
    names = tuple(table)
    p = np.array(tuple(table.values()), dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _perception(rng: np.random.Generator) -> Perception:
    name = _pick(rng, MINIGRID.perception_probs)
    values = MINIGRID.perception_args.get(name)
    if values is None:
        return Perception(name)
    return Perception(name, values[int(rng.integers(len(values)))])


def _cond(rng: np.random.Generator, allow_not: bool = True) -> Cond:
    if allow_not and _pick(rng, MINIGRID.bool_probs) == "Not":
        return Not(_perception(rng))
    return _perception(rng)


def _kind(rng: np.random.Generator, depth: int, allow_concat: bool) -> str:
    p = _STMT_P.copy()
    for i, name in enumerate(_STMTS):
        if (depth >= 4 and name in _CONTROL) or (not allow_concat and name == "Concatenate"):
            p[i] = 0.0
    return _STMTS[int(rng.choice(len(_STMTS), p=p / p.sum()))]


def _block(rng: np.random.Generator, depth: int) -> tuple[Stmt, ...]:
    # A Concatenate adds one non-sequence statement and continues the block.
    out: list[Stmt] = []
    while True:
        kind = _kind(rng, depth, allow_concat=len(out) + 1 < 6)
        if kind != "Concatenate":
            out.append(_stmt(rng, kind, depth))
            return tuple(out)
        out.append(_stmt(rng, _kind(rng, depth, allow_concat=False), depth))


def _stmt(rng: np.random.Generator, kind: str, depth: int) -> Stmt:
    if kind == "WHILE":
        return While(_cond(rng), _block(rng, depth + 1))
    if kind == "IF":
        return If(_cond(rng), _block(rng, depth + 1))
    if kind == "IFELSE":
        return IfElse(_cond(rng, allow_not=False), _block(rng, depth + 1), _block(rng, depth + 1))
    if kind == "REPEAT":
        return Repeat(int(rng.integers(MAX_REPEAT + 1)), _block(rng, depth + 1))
    return Action(_pick(rng, MINIGRID.action_probs))


def random_minigrid_program(rng: np.random.Generator) -> Program:
    """A random Minigrid program drawn from the MINIGRID production table, within the limits.

    Args:
        rng: The generator to draw from (pass it explicitly; nothing here is global).
    """
    while True:
        program = Program(_block(rng, 1))
        if height(program) <= 4 and max_block_length(program) <= 6 and token_count(program) <= 45:
            return program


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
    programs: int | Sequence[Program | str] = 200,
    tasks: Sequence[str] = ("LavaGap", "PutNear", "RedBlueDoor"),
    n: int = 32,
    seed: int = 0,
) -> list[BenchRow]:
    """Measure evaluations per second of random programs on each Minigrid task.

    Args:
        programs: How many random programs to draw (seeded by ``seed``), or the programs.
        tasks: Task names (``"LavaGap"`` or ``"minigrid/LavaGap"``).
        n: Instances per task (the benchmark uses 32, seeds 0..31).
        seed: Seed of the program generator.

    Returns:
        One row per task.
    """
    from envs.minigrid.task import MinigridTask  # minigrid is imported only when measuring

    if isinstance(programs, int):
        rng = np.random.default_rng(seed)
        progs: list[Program | str] = [random_minigrid_program(rng) for _ in range(programs)]
    else:
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
