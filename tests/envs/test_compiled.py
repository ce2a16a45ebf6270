"""The compiled Karel evaluator agrees bit for bit with the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import programs

from envs.dsl import Program, parse
from envs.errors import ConfigError, ProgramRuntimeError
from envs.karel import _kernels as K
from envs.karel.bytecode import compile_batch
from envs.karel.compiled import TASK_IDS, CompiledKarelEvaluator
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS, SPECS, KarelOptions
from envs.karel.vectors import TEST_VECTORS
from search.space import neighbours, random_program

VECTORS = [(v.task, v.program, v.score) for v in TEST_VECTORS]

_EVALUATORS: dict[tuple[str, KarelOptions], tuple[CompiledKarelEvaluator, KarelTask]] = {}


def pair(
    name: str, options: KarelOptions | None = None
) -> tuple[CompiledKarelEvaluator, KarelTask]:
    """The compiled evaluator and the python-engine task for the same instances (cached)."""
    options = KarelOptions() if options is None else options
    key = (name, options)
    if key not in _EVALUATORS:
        task = KarelTask(name, options=options, engine="python")
        _EVALUATORS[key] = (CompiledKarelEvaluator(task), task)
    return _EVALUATORS[key]


def seeded_programs(count: int, seed: int) -> list[Program]:
    """Random search-space programs plus a neighbour of each (mutations reach odd shapes)."""
    rng = np.random.RandomState(seed)
    out: list[Program] = []
    for _ in range(count // 2):
        p = random_program("karel", rng)
        out += [p, next(neighbours(p, rng, "karel"))]
    return out


@pytest.mark.parametrize(("task", "text", "score"), VECTORS)
def test_spec_vectors_bit_for_bit(task: str, text: str, score: float) -> None:
    compiled, _ = pair(task)
    assert compiled.evaluate(text) == score


def test_every_benchmark_and_variant_task_has_a_kernel() -> None:
    assert set(SPECS) == set(TASK_IDS)
    assert set(BENCHMARK_TASKS) <= set(TASK_IDS)


@pytest.mark.parametrize("task", sorted(SPECS))
def test_random_programs_match_interpreter(task: str) -> None:
    compiled, python = pair(task)
    count = 160 if task in BENCHMARK_TASKS else 60
    progs = seeded_programs(count, seed=sum(map(ord, task)))
    batch = compiled.returns_many(progs)
    for program, got in zip(progs, batch, strict=True):
        assert got == python.returns(program), str(program)
    # The one-program path shares the scratch state with the batch path.
    for program, got in zip(progs[:20], batch[:20], strict=True):
        assert compiled.returns(program) == got


LONG = [
    # Exercise WHILE memory across re-entries, REPEAT nesting, put/pick limits and Snake's RNG.
    "DEF run m( REPEAT R=19 r( WHILE c( frontIsClear c) w( move putMarker w) turnRight r) m)",
    "DEF run m( WHILE c( noMarkersPresent c) w( REPEAT R=3 r( putMarker r) move pickMarker "
    "IF c( not c( rightIsClear c) c) i( turnLeft i) w) m)",
    "DEF run m( REPEAT R=19 r( REPEAT R=19 r( IFELSE c( frontIsClear c) i( move i) ELSE e( "
    "turnRight e) r) turnLeft r) m)",
    "DEF run m( WHILE c( frontIsClear c) w( WHILE c( leftIsClear c) w( turnLeft move w) move "
    "turnRight w) REPEAT R=12 r( putMarker r) m)",
    "DEF run m( REPEAT R=19 r( REPEAT R=19 r( move turnRight move turnLeft move turnLeft r) r) m)",
]


@pytest.mark.parametrize("task", BENCHMARK_TASKS)
def test_long_programs_match_interpreter(task: str) -> None:
    compiled, python = pair(task)
    for text in LONG:
        assert compiled.returns(text) == python.returns(text), text


def test_fingerprint_index_grows_within_an_episode() -> None:
    # A right-hand wall follower under WHILE True walks CleanHouse's long corridors: more than
    # 128 fingerprints in one episode, so the 256-slot index must double (a new epoch each).
    text = (
        "DEF run m( WHILE c( True c) w( IFELSE c( rightIsClear c) i( turnRight move i) ELSE e( "
        "IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) e) w) m)"
    )
    compiled, python = pair("CleanHouse")
    assert compiled.returns(text) == python.returns(text)  # also sizes the table for it
    before = int(compiled._meta[0])
    assert compiled.returns(text) == python.returns(text)
    assert int(compiled._meta[0]) - before > compiled.n


def test_many_repeat_slots_and_while_nodes() -> None:
    # 20 REPEAT counters outgrow the initial 16 slots; 70 WHILE nodes wrap the 64 node salts
    # of the fingerprint key (nodes stay distinct through the exact comparison); call-free
    # WHILE True loops make the fingerprint table grow.
    body = " ".join(
        f"REPEAT R={i % 5} r( WHILE c( frontIsClear c) w( move w) turnLeft putMarker r)"
        for i in range(20)
    )
    whiles = " ".join("WHILE c( leftIsClear c) w( turnLeft move w) turnRight" for _ in range(70))
    free = " ".join("WHILE c( not c( False c) c) w( turnLeft move putMarker w)" for _ in range(6))
    for text in (f"DEF run m( {body} m)", f"DEF run m( {whiles} m)", f"DEF run m( {free} m)"):
        for task in ("Harvester", "MazeSparse", "Seeder"):
            compiled, python = pair(task)
            assert compiled.returns(text) == python.returns(text)


OPTIONS = [
    KarelOptions(max_calls=40),
    KarelOptions(max_calls=7, penalize_crash=True),
    KarelOptions(penalize_crash=True),
    KarelOptions(crashable=True),
    KarelOptions(leaps_behaviour=False, max_calls=300),
    KarelOptions(wall_avoider_offset_fix=True),
]


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
@pytest.mark.parametrize("task", ["Harvester", "DoorKey", "WallAvoider", "OneStroke", "TopOff"])
def test_options_match_interpreter(task: str, options: KarelOptions) -> None:
    compiled, python = pair(task, options)
    for program in seeded_programs(40, seed=7) + [parse(t, "karel") for t in LONG]:
        assert compiled.returns(program) == python.returns(program), str(program)


def test_snake_budget_option_matches() -> None:
    compiled, python = pair("Snake", KarelOptions(max_calls=60, penalize_crash=True))
    for program in seeded_programs(40, seed=3) + [parse(t, "karel") for t in LONG]:
        assert compiled.returns(program) == python.returns(program), str(program)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs("karel", max_depth=3, logic=True))
def test_logic_conditions_match_interpreter(program: Program) -> None:
    # True/False/and/or come only from model text; WHILE True loops run WCHECK with no calls.
    for task in ("CleanHouse", "Snake", "FourCorners"):
        compiled, python = pair(task)
        assert compiled.returns(program) == python.returns(program)


def test_fingerprints_are_exact_even_when_every_hash_collides() -> None:
    # With a zero Zobrist table every fingerprint key is equal: only the exact comparison of
    # node, position, facing and marker grid can tell states apart.
    task = KarelTask("Seeder", engine="python")
    colliding = CompiledKarelEvaluator(task)
    colliding._zob[:] = 0
    colliding._hash0[:] = 0
    progs = seeded_programs(60, seed=11) + [parse(t, "karel") for t in LONG]
    for program in progs:
        assert colliding.returns(program) == task.returns(program), str(program)
    assert (colliding._first_old == -1).all()


RANGES = [(1, 7), (0, 72), (2, 6), (1, 4), (5, 7), (0, 2), (3, 4), (0, 10**9), (1, 2**31)]


@pytest.mark.parametrize("seed", [0, 1, 31, 12345])
def test_mt19937_randint_matches_numpy(seed: int) -> None:
    rng = np.random.RandomState(seed)
    rng.randint(0, 5)  # start mid-stream, not only on a fresh state
    _, key, pos, _, _ = rng.get_state()
    pairs = [RANGES[i % len(RANGES)] for i in range(5000)]
    lows = np.array([lo for lo, _ in pairs], dtype=np.int64)
    highs = np.array([hi for _, hi in pairs], dtype=np.int64)
    ours = K.randint_sequence(np.asarray(key), pos, lows, highs)
    expected = [rng.randint(lo, hi) for lo, hi in pairs]
    assert ours.tolist() == expected


def test_bytecode_of_nested_control_flow() -> None:
    code, starts, _, _ = compile_batch([parse("DEF run m( IFELSE c( markersPresent c) i( move "
                                              "i) ELSE e( REPEAT R=2 r( turnLeft r) e) m)",
                                              "karel")])  # fmt: skip
    assert starts.tolist() == [0, len(code)]
    assert code.dtype == np.int32
    assert code[-1] == 0  # HALT
    targets = [t for t in code.tolist() if t < 0]
    assert targets == []  # every jump was patched


def test_rejects_unknown_task_and_unsupported_option() -> None:
    class Fake:
        name = "NoSuchTask"
        instances = ()
        options = None

    with pytest.raises(ConfigError, match="no compiled kernel"):
        CompiledKarelEvaluator(Fake())
    task = KarelTask("Snake", options=KarelOptions(crashable=True), engine="python")
    with pytest.raises(ConfigError, match="crashable"):
        CompiledKarelEvaluator(task)


def test_rejects_minigrid_tokens() -> None:
    compiled, _ = pair("Harvester")
    with pytest.raises(ProgramRuntimeError):
        compiled.returns(parse("DEF run m( forward m)", "minigrid"))


def test_task_uses_compiled_engine_by_default() -> None:
    task = KarelTask("DoorKey")
    assert task.engine == "compiled"
    text = VECTORS[11][1]
    assert task.evaluate(text) == 0.40625
    assert task.returns(text) == KarelTask("DoorKey", engine="python").returns(text)
