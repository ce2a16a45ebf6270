"""The compiled Karel evaluator: bytecode plus one numba kernel, exact to the reference.

:class:`CompiledKarelEvaluator` turns a :class:`~envs.karel.task.KarelTask`'s instances into
flat arrays once, then evaluates programs by compiling them to bytecode
(:mod:`envs.karel.bytecode`) and running :func:`envs.karel._kernels.run_batch` over all
instances. Returns are bit-identical to the reference interpreter (same float operations in the
same order); the differential tests in ``tests/envs/test_compiled.py`` check this.

JIT cost: the kernel is compiled once per machine and cached on disk (``cache=True``), so a
fresh process only loads it; :func:`warm_up` does that explicitly and reports the seconds spent,
so that no evaluation pays for it. ``llmgs bench`` prints both the cold and the cached figures.

Example:
    >>> import envs
    >>> task = envs.make("karel/Harvester")                       # doctest: +SKIP
    >>> CompiledKarelEvaluator(task).returns("DEF run m( pickMarker m)")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from envs.dsl.ast import Program
from envs.dsl.bytecode import HALT
from envs.dsl.parser import parse
from envs.errors import ConfigError
from envs.karel import _kernels as K
from envs.karel.bytecode import compile_batch, compile_words
from envs.limits import max_free_steps
from envs.task import mean_return

TASK_IDS: dict[str, int] = {
    "StairClimberSparse": K.STAIR_SPARSE, "StairClimber": K.STAIR_DENSE,
    "MazeSparse": K.MAZE_SPARSE, "Maze": K.MAZE_DENSE,
    "FourCorners": K.FOUR_CORNERS, "FourCornersSparse": K.FOUR_CORNERS_SPARSE,
    "TopOff": K.TOP_OFF, "TopOffSparse": K.TOP_OFF_SPARSE,
    "Harvester": K.HARVESTER, "HarvesterSparse": K.HARVESTER_SPARSE,
    "CleanHouse": K.CLEAN_HOUSE, "CleanHouseSparse": K.CLEAN_HOUSE_SPARSE,
    "DoorKey": K.DOOR_KEY, "OneStroke": K.ONE_STROKE, "Seeder": K.SEEDER, "Snake": K.SNAKE,
    "PathFollow": K.PATH_FOLLOW, "WallAvoider": K.WALL_AVOIDER,
}  # fmt: skip
"""Benchmark task names the kernel implements, mapped to its task ids."""

#: Which extras key holds the cells of the per-instance mask, per task id.
_MASK_KEY: dict[int, str] = {
    K.STAIR_SPARSE: "valid", K.STAIR_DENSE: "valid",
    K.FOUR_CORNERS: "goals", K.FOUR_CORNERS_SPARSE: "goals",
    K.TOP_OFF: "targets", K.TOP_OFF_SPARSE: "targets",
    K.PATH_FOLLOW: "legal", K.WALL_AVOIDER: "illegal",
}  # fmt: skip

#: Option fields this evaluator honours; any other field must keep its default.
_HONOURED_OPTIONS = frozenset(
    {"crashable", "leaps_behaviour", "max_calls", "penalize_crash", "wall_avoider_offset_fix"}
)
_ZOBRIST_SEED = 0x5EED_CAFE


def _cell_index(cell: Any, w: int) -> int:
    return int(cell[0]) * w + int(cell[1])


def _cell_mask(value: Any, h: int, w: int) -> np.ndarray:
    """A flat uint8 mask from a bool[H, W] array or an iterable of (row, col) cells."""
    mask = np.zeros(h * w, dtype=np.uint8)
    if isinstance(value, np.ndarray):
        mask[:] = np.asarray(value, dtype=bool).reshape(-1)
        return mask
    for r, c in value:
        if 0 <= r < h and 0 <= c < w:
            mask[int(r) * w + int(c)] = 1
    return mask


def _mt_state(rng_state: Any) -> tuple[np.ndarray, int]:
    """MT19937 key and position from ``RandomState.get_state()``."""
    if rng_state is None:
        raise ConfigError("Snake instances need the episode RNG state (instance.rng_state)")
    name, key, pos = rng_state[0], rng_state[1], rng_state[2]
    if name != "MT19937":
        raise ConfigError(f"unsupported RNG {name!r}; expected numpy's legacy MT19937")
    return np.asarray(key, dtype=np.int64), int(pos)


def _instance_params(task_id: int, inst: Any, w: int) -> np.ndarray:
    """The kernel's per-instance integer parameters (columns ``K.IP_*``)."""
    ex = inst.extras
    ip = np.zeros(K.N_IP, dtype=np.int64)
    ip[K.IP_START] = _cell_index(inst.agent, w)
    if "goal" in ex:
        ip[K.IP_GOAL] = _cell_index(ex["goal"], w)
    if "initial_distance" in ex:
        ip[K.IP_INIT_DIST] = int(ex["initial_distance"])
    if "initial_markers" in ex:
        ip[K.IP_INIT_TOTAL] = int(ex["initial_markers"])
    if task_id in (K.FOUR_CORNERS, K.FOUR_CORNERS_SPARSE):
        ip[K.IP_NTARGET] = len(ex["goals"])
    if task_id in (K.TOP_OFF, K.TOP_OFF_SPARSE):
        ip[K.IP_NTARGET] = len(ex["targets"])
    if task_id == K.DOOR_KEY:
        ip[K.IP_KEY] = _cell_index(ex["key"], w)
        ip[K.IP_DOOR1], ip[K.IP_DOOR2] = (_cell_index(c, w) for c in ex["door"])
    for key in ("max_markers", "max_cells"):
        if key in ex:
            ip[K.IP_MAX] = int(ex[key])
    if task_id == K.SNAKE:
        ip[K.IP_FOOD] = _cell_index(ex["food"], w)
        if int(ex.get("initial_body_size", 2)) != 2:
            raise ConfigError("the compiled Snake supports the benchmark's initial body size 2")
        ip[K.IP_MT_POS] = _mt_state(inst.rng_state)[1]
    return ip


def _check_options(options: Any) -> tuple[bool, bool, int, bool]:
    """Validate a task's options; returns (crashable, leaps, max_calls, penalize_crash)."""
    if options is None:
        return False, True, 10000, False
    fields = getattr(options, "__dataclass_fields__", {})
    for name, f in fields.items():
        if name not in _HONOURED_OPTIONS and getattr(options, name) != f.default:
            raise ConfigError(
                f"the compiled Karel evaluator does not implement option {name!r}; "
                "use engine='python'"
            )
    max_calls = int(getattr(options, "max_calls", 10000))
    if max_calls < 0:
        raise ConfigError(f"max_calls must be >= 0, got {max_calls}")
    return (
        bool(getattr(options, "crashable", False)),
        bool(getattr(options, "leaps_behaviour", True)),
        max_calls,
        bool(getattr(options, "penalize_crash", False)),
    )


class CompiledKarelEvaluator:
    """Evaluate Karel programs on all instances of a task with the numba kernel.

    An evaluator owns reusable scratch arrays, so it is not thread-safe: use one per thread
    (processes each build their own). Memory is about 2 MiB with ``max_calls=10000``, more
    only for programs with several WHILE loops (the fingerprint table grows to fit them).

    Args:
        task: A Karel task exposing ``name`` (benchmark name), ``instances`` (a sequence of
            :class:`~envs.karel.instances.KarelInstance`) and ``options``
            (:class:`~envs.karel.tasks.KarelOptions`).

    Raises:
        ConfigError: The task is not one the kernel implements, or it sets an option the
            kernel does not honour (``crashable``, ``leaps_behaviour``, ``max_calls``,
            ``penalize_crash`` and ``wall_avoider_offset_fix`` are honoured).
    """

    supported_options: frozenset[str] = _HONOURED_OPTIONS
    """Options that may differ from their defaults (``KarelTask`` reads this)."""

    def __init__(self, task: Any) -> None:
        name = str(task.name)
        if name not in TASK_IDS:
            raise ConfigError(f"no compiled kernel for Karel task {name!r}")
        self.task_id = TASK_IDS[name]
        crashable, leaps, max_calls, penalize = _check_options(getattr(task, "options", None))
        if crashable and self.task_id == K.SNAKE:
            raise ConfigError("crashable=True is not implemented for the compiled Snake")
        instances: Sequence[Any] = tuple(task.instances)
        if not instances:
            raise ConfigError("the task has no instances")
        h, w = instances[0].shape
        self.shape = (h, w)
        self.n = len(instances)
        self._cfg = np.array(
            [self.task_id, h, w, crashable, leaps, max_calls, penalize, max_free_steps(max_calls)],
            dtype=np.int64,
        )
        self._build_instances(instances, h, w)
        self._build_scratch(h, w, max_calls)
        self.actions = 0
        """Actions executed by the last evaluation call, summed over programs and instances."""

    def _build_instances(self, instances: Sequence[Any], h: int, w: int) -> None:
        n, hw = len(instances), h * w
        rng = np.random.default_rng(_ZOBRIST_SEED)
        zob = rng.integers(0, 2**64, size=hw * 15 + K.N_ZOB_NODES, dtype=np.uint64)
        self._zob = zob.view(np.int64)  # the kernel XORs int64 bit patterns
        self._walls0 = np.zeros((n, hw), dtype=np.uint8)
        self._markers0 = np.zeros((n, hw), dtype=np.int64)
        self._agent0 = np.zeros((n, 3), dtype=np.int64)
        self._ip = np.zeros((n, K.N_IP), dtype=np.int64)
        self._mask = np.zeros((n, hw), dtype=np.uint8)
        self._cnt0 = np.zeros((n, K.N_CNT), dtype=np.int64)
        self._hash0 = np.zeros(n, dtype=np.int64)
        self._mt0 = np.zeros((n, 624), dtype=np.int64)
        mask_key = _MASK_KEY.get(self.task_id)
        zm = self._zob[: hw * 11].reshape(hw, 11)
        for i, inst in enumerate(instances):
            if inst.shape != (h, w):
                raise ConfigError("all instances of a task must have the same grid size")
            self._walls0[i] = np.asarray(inst.walls, dtype=bool).reshape(-1)
            markers = np.asarray(inst.markers, dtype=np.int64).reshape(-1)
            self._markers0[i] = markers
            self._agent0[i] = inst.agent
            self._ip[i] = _instance_params(self.task_id, inst, w)
            if mask_key is not None:
                self._mask[i] = _cell_mask(inst.extras[mask_key], h, w)
            if self.task_id == K.SNAKE:
                self._mt0[i] = _mt_state(inst.rng_state)[0]
            m = self._mask[i] != 0
            cnt = self._cnt0[i]
            cnt[K.C_TOTAL] = markers.sum()
            cnt[K.C_OVER1] = (markers > 1).sum()
            cnt[K.C_MPOS] = (m & (markers > 0)).sum()
            cnt[K.C_MEQ2] = (m & (markers == 2)).sum()
            cnt[K.C_MZERO] = (m & (markers == 0)).sum()
            self._hash0[i] = np.bitwise_xor.reduce(zm[np.arange(hw), markers])

    def _build_scratch(self, h: int, w: int, max_calls: int) -> None:
        hw = h * w
        self._max_calls = max_calls
        self._walls = np.zeros(hw, dtype=np.uint8)
        self._markers = np.zeros(hw, dtype=np.int64)
        self._cnt = np.zeros(K.N_CNT, dtype=np.int64)
        self._hsh = np.zeros(1, dtype=np.int64)
        self._st = np.zeros(K.N_ST, dtype=np.int64)
        self._body = np.zeros(K.BODY_RING, dtype=np.int64)
        self._mt = np.zeros(624, dtype=np.int64)
        self._rep = np.zeros(16, dtype=np.int64)
        self._first_old = np.full(hw, -1, dtype=np.int64)
        self._touched = np.zeros(hw, dtype=np.int64)
        # An action changes at most 5 cells (Snake: its own, food eaten and redrawn, body).
        self._log_cell = np.zeros(5 * (max_calls + 2), dtype=np.int64)
        self._log_old = np.zeros(5 * (max_calls + 2), dtype=np.int64)
        self._meta = np.zeros(1, dtype=np.int64)
        self._ent_rows = 0
        self._ensure_fingerprints(0)
        self._out1 = np.empty((1, self.n), dtype=np.float64)
        self._acts1 = np.empty(1, dtype=np.int64)

    def _ensure_fingerprints(self, free: int) -> None:
        """Size the fingerprint entries and index for programs with ``free`` call-free WHILEs.

        A fingerprint check follows a condition; conditions that always call are bounded by
        the call budget (max_calls + 1 checks), and each call-free WHILE node by the distinct
        states of an episode (actions + 1 <= max_calls + 2). The index is at least twice the
        entries (load <= 1/2).
        """
        rows = (1 + free) * (self._max_calls + 2)
        if rows <= self._ent_rows:
            return
        self._ent_rows = rows
        self._ent = np.zeros((rows, 3), dtype=np.int64)
        size = 1 << max(8, (2 * rows - 1).bit_length())
        self._tab = np.zeros((size, 3), dtype=np.int64)
        self._meta[0] = 0

    def _run(
        self, code: np.ndarray, starts: np.ndarray, slots: int, free: int, out: np.ndarray,
        acts: np.ndarray,
    ) -> None:  # fmt: skip
        if slots > self._rep.shape[0]:
            self._rep = np.zeros(slots, dtype=np.int64)
        if free > 0:
            self._ensure_fingerprints(free)
        K.run_batch(
            code, starts, out, acts, self._cfg, self._walls0, self._markers0, self._agent0,
            self._ip, self._mask, self._cnt0, self._hash0, self._mt0, self._zob, self._walls,
            self._markers, self._cnt, self._hsh, self._st, self._body, self._mt, self._rep,
            self._first_old, self._touched, self._log_cell, self._log_old, self._tab, self._ent,
            self._meta,
        )  # fmt: skip
        self.actions = int(acts[0]) if acts.shape[0] == 1 else int(acts.sum())

    def returns(self, program: Program | str) -> list[float]:
        """Return of ``program`` on each instance, in instance order.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ProgramRuntimeError: The program uses a token Karel does not have.
        """
        parsed = program if isinstance(program, Program) else parse(program, "karel")
        words, slots, free = compile_words(parsed)
        code = np.array(words, dtype=np.int32)
        starts = np.array((0, len(words)), dtype=np.int64)
        self._run(code, starts, slots, free, self._out1, self._acts1)
        return self._out1[0].tolist()

    def returns_many(self, programs: Iterable[Program | str]) -> list[list[float]]:
        """Returns of many programs in one kernel call (cheaper than one call each).

        Raises:
            DSLSyntaxError: A program is text that does not parse.
            ProgramRuntimeError: A program uses a token Karel does not have.
        """
        parsed = [p if isinstance(p, Program) else parse(p, "karel") for p in programs]
        if not parsed:
            return []
        code, starts, slots, free = compile_batch(parsed)
        out = np.empty((len(parsed), self.n), dtype=np.float64)
        acts = np.empty(len(parsed), dtype=np.int64)
        self._run(code, starts, slots, free, out, acts)
        return out.tolist()

    def evaluate(self, program: Program | str) -> float:
        """Mean return, summed left to right in instance order and divided by n (spec §2).

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ProgramRuntimeError: The program uses a token Karel does not have.
        """
        return mean_return(self.returns(program), self.n)


def warm_up() -> float:
    """Load (or, on a cold cache, compile) the kernel; returns the seconds it took."""
    start = time.perf_counter()
    K.run_batch(*_tiny_arguments())
    return time.perf_counter() - start


def _tiny_arguments() -> tuple[np.ndarray, ...]:
    """Arguments of a one-cell, one-instance, empty-program call with the kernel's types."""
    i64, u8 = np.int64, np.uint8

    def z(shape: int | tuple[int, ...], dtype: type = i64) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)

    return (
        np.array([HALT], dtype=np.int32), np.array([0, 1], dtype=i64), z((1, 1), np.float64),
        z(1), np.array([K.HARVESTER, 1, 1, 0, 1, 10, 0, 10], dtype=i64), z((1, 1), u8), z((1, 1)),
        z((1, 3)), z((1, K.N_IP)), z((1, 1), u8), z((1, K.N_CNT)), z(1), z((1, 624)),
        z(15 + K.N_ZOB_NODES), z(1, u8), z(1), z(K.N_CNT), z(1), z(K.N_ST), z(K.BODY_RING),
        z(624), z(1), np.full(1, -1, dtype=i64), z(1), z(8), z(8), z((512, 3)), z((16, 3)), z(1),
    )  # fmt: skip
