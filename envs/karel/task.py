"""``KarelTask``: n seeded instances of one Karel task, scored exactly as the benchmark does.

Contract for the compiled evaluator (:mod:`envs.karel.compiled`) and other readers:

- ``task.name`` is the benchmark name (``"DoorKey"``), ``task.id`` is ``"karel/DoorKey"``,
  ``task.grid`` is ``(H, W)``, ``task.options`` a frozen :class:`KarelOptions`, ``task.spec``
  the stateless :class:`~envs.karel.tasks.base.KarelTaskSpec` (generation + reward rule).
- ``task.instances`` is a tuple of n :class:`~envs.karel.instances.KarelInstance`: instance i
  has ``seed = task.seed + i``, read-only ``walls`` (``bool[H, W]``) and ``markers``
  (``int32[H, W]``), ``agent = (row, col, dir)`` with N=0, E=1, S=2, W=3, and ``extras``:

  ==================================  ==============================================
  task                                extras
  ==================================  ==============================================
  StairClimber, StairClimberSparse    ``goal`` cell, ``valid`` frozenset of cells,
                                      ``initial_distance`` (Manhattan)
  Maze, MazeSparse                    ``goal`` cell, ``initial_distance``
  FourCorners(Sparse)                 ``goals``: the 4 corner cells
  TopOff(Sparse)                      ``targets``: the n initially marked cells
  Harvester(Sparse), CleanHouse(...)  ``initial_markers`` (36 / 11)
  DoorKey                             ``key``, ``goal``, ``door`` (2 cells)
  OneStroke                           ``max_cells`` (35)
  Seeder                              ``max_markers`` (36)
  Snake                               ``food`` (first food cell), ``initial_body_size``;
                                      ``instance.rng_state`` is the RandomState state the
                                      episode's food draws start from (a fresh
                                      ``RandomState(seed)``, as LLM-GS re-seeds at reset)
  PathFollow                          ``path`` (0 up, 1 right), ``legal`` frozenset,
                                      ``initial_markers`` (11)
  WallAvoider                         ``illegal`` (``bool[H, W]``), ``max_markers`` (4)
  ==================================  ==============================================

  Cells are ``(row, col)`` tuples of ints.
- Engines: ``"python"`` runs :func:`envs.karel.interpreter.run_program` (the oracle);
  ``"compiled"`` uses ``envs.karel.compiled.CompiledKarelEvaluator(task).returns(program)``.
  The default is compiled when that class supports the task's options (a non-default
  option is supported only if named in its ``supported_options``), else python; if the
  evaluator's constructor still refuses the configuration with ``ConfigError``, an
  automatically chosen engine falls back to python (``task.engine`` then reads ``"python"``).
  ``rollout`` always uses the python engine.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from pathlib import Path
from typing import Any, Literal

from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import ConfigError, TaskNotFound
from envs.karel.info import DESCRIPTIONS
from envs.karel.instances import KarelInstance
from envs.karel.interpreter import RunResult, run_program
from envs.karel.tasks import CRASH_PENALTY, SPECS, KarelOptions, KarelTaskSpec
from envs.karel.world import KarelWorld
from envs.task import Rollout, Task

Engine = Literal["compiled", "python"]

__all__ = ["Engine", "KarelInstance", "KarelOptions", "KarelTask", "compiled_evaluator_class"]


@cache
def compiled_evaluator_class() -> type:
    """``envs.karel.compiled.CompiledKarelEvaluator``.

    Imported lazily, once: numba's import and compilation cost is paid only when used.
    """
    from envs.karel.compiled import CompiledKarelEvaluator

    return CompiledKarelEvaluator


def _non_default_options(options: KarelOptions) -> set[str]:
    default = KarelOptions()
    return {
        f.name
        for f in dataclasses.fields(options)
        if getattr(options, f.name) != getattr(default, f.name)
    }


class KarelTask(Task):
    """n seeded instances of a Karel task (spec/benchmark.md §4).

    Args:
        name: Benchmark name, e.g. ``"DoorKey"`` or ``"MazeSparse"``.
        n: Number of instances.
        seed: Seed of instance 0; instance i uses ``seed + i``.
        options: Environment flags and opt-in bug fixes; defaults reproduce the benchmark.
        engine: ``"python"`` (the exact reference interpreter) or ``"compiled"``; None picks
            compiled when available.
        description: Override of the task's plain-words description.

    Raises:
        TaskNotFound: Unknown name.
        ConfigError: ``n`` < 1, or ``engine="compiled"`` while it is unavailable.
    """

    domain = "karel"

    def __init__(
        self,
        name: str,
        n: int = 32,
        seed: int = 0,
        *,
        options: KarelOptions | None = None,
        engine: Engine | None = None,
        description: str | None = None,
    ) -> None:
        if name not in SPECS:
            raise TaskNotFound(f"no Karel task {name!r}; known: {', '.join(sorted(SPECS))}")
        if n < 1 or seed < 0:
            raise ConfigError(f"n must be at least 1 and seed at least 0, got n={n}, seed={seed}")
        self.name = name
        self.id = f"karel/{name}"
        self.n = n
        self.seed = seed
        self.options = KarelOptions() if options is None else options
        self.spec: KarelTaskSpec = SPECS[name]
        self.grid = (self.spec.height, self.spec.width)
        self.description = description if description is not None else DESCRIPTIONS[name]
        self.instances: tuple[KarelInstance, ...] = tuple(
            self.spec.generate(seed + i, self.options) for i in range(n)
        )
        self._engine_requested = engine
        self.engine: Engine = self._pick_engine(engine)
        self._compiled: Any = None

    def _pick_engine(self, engine: Engine | None) -> Engine:
        if engine not in (None, "compiled", "python"):
            raise ConfigError(f"engine must be 'compiled' or 'python', got {engine!r}")
        if engine == "python":
            return "python"
        cls = compiled_evaluator_class()
        usable = _non_default_options(self.options) <= set(cls.supported_options)
        if engine == "compiled" and not usable:
            raise ConfigError(
                "the compiled Karel engine is unavailable for these options; use engine='python'"
            )
        return "compiled" if usable else "python"

    def _make_compiled(self) -> Any:
        """The compiled evaluator; when it was picked automatically and turns this task's
        configuration down (ConfigError), fall back to the python engine."""
        cls = compiled_evaluator_class()
        try:
            return cls(self)  # type: ignore[misc]
        except ConfigError:
            if self._engine_requested == "compiled":
                raise
            self.engine = "python"
            return None

    # -- episodes ------------------------------------------------------------------------
    def initial_world(self, instance: int = 0) -> KarelWorld:
        """A fresh world in the initial state of instance ``instance`` (0-based)."""
        return self.spec.world(self._instance(instance), self.options)

    def _instance(self, instance: int) -> KarelInstance:
        if not 0 <= instance < self.n:
            raise ConfigError(f"instance must lie in 0..{self.n - 1}, got {instance}")
        return self.instances[instance]

    def episode_worlds(
        self, program: Program | str, instance: int = 0, max_frames: int = 500
    ) -> list[KarelWorld]:
        """The world before the first action and after each action (at most ``max_frames`` + 1).

        Each frame is taken after the task's reward rule, so it shows what the rule changed
        (an opened door, the snake's markers, OneStroke's trail).

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is out of range.
        """
        parsed = ensure_program(program, "karel")
        world = self.initial_world(instance)
        inst = self.instances[instance]
        episode = self.spec.start(inst)
        frames = [world.copy()]
        spec = self.spec

        def reward(w: KarelWorld) -> tuple[bool, float]:
            out = spec.reward(w, episode, inst)
            if len(frames) <= max_frames:
                frames.append(w.copy())
            return out

        run_program(parsed, world, reward)
        return frames

    def run(self, program: Program, instance: int, trace: bool = False) -> RunResult:
        """One episode with the reference interpreter (its world is discarded).

        Raises:
            ConfigError: ``instance`` is out of range.
            ProgramRuntimeError: The program uses an action or perception Karel lacks.
        """
        inst = self._instance(instance)
        world = self.spec.world(inst, self.options)
        episode = self.spec.start(inst)
        spec = self.spec

        def reward(w: KarelWorld) -> tuple[bool, float]:
            return spec.reward(w, episode, inst)

        result = run_program(program, world, reward, trace=trace)
        if self.options.penalize_crash and result.crashed and not result.terminated:
            result = dataclasses.replace(result, total_return=result.total_return + CRASH_PENALTY)
        return result

    def thread_copy(self) -> KarelTask | None:
        """A copy with its own compiled evaluator (its kernel releases the GIL), or None with
        the python engine (see :meth:`envs.task.Task.thread_copy`)."""
        if self.engine == "compiled" and self._compiled is None:
            self._compiled = self._make_compiled()
        if self._compiled is None:
            return None
        twin = copy.copy(self)
        twin._compiled = compiled_evaluator_class()(twin)
        return twin

    def returns(self, program: Program | str) -> list[float]:
        """Return of ``program`` on each instance, in instance order.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        parsed = ensure_program(program, "karel")
        if self.engine == "compiled" and self._compiled is None:
            self._compiled = self._make_compiled()
        if self._compiled is not None:
            return self._compiled.returns(parsed)  # already Python floats (tolist)
        return [self.run(parsed, i).total_return for i in range(self.n)]

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """One episode on instance ``instance`` with the reference interpreter.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is out of range.
        """
        result = self.run(ensure_program(program, "karel"), instance, trace=trace)
        return Rollout(
            instance=instance,
            total_return=result.total_return,
            terminated=result.terminated,
            crashed=result.crashed,
            calls=result.calls,
            steps=result.steps,
        )

    # -- drawing ---------------------------------------------------------------------------
    def render_text(self, instance: int = 0) -> str:
        """The start state of ``instance`` as Karel's ASCII grid.

        Raises:
            ConfigError: ``instance`` is out of range.
        """
        return self.initial_world(instance).to_string()

    def render_start(self, path: str | Path, instance: int = 0, *, cell: int = 32) -> Path:
        """Save the start state of ``instance`` as a PNG; returns the path.

        Raises:
            ConfigError: ``instance`` is out of range.
            OSError: The file cannot be written.
        """
        from envs.karel import render  # Pillow is only loaded to draw

        return render.save_png(self.initial_world(instance), path, cell)

    def render_episode(
        self, program: Program | str, path: str | Path, instance: int = 0, *, cell: int = 32
    ) -> Path:
        """Animate one episode on the reference interpreter as a looping GIF; returns the path.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is out of range.
            OSError: The file cannot be written.
        """
        from envs.karel import render

        return render.save_gif(self, program, path, instance, cell=cell)
