"""``MinigridTask``: n seeded instances of one Minigrid world and the rules that score a program.

Instance i is ``reset(seed=seed + i)`` of the world (gymnasium's seeded PCG64), generated once
when the task is built and restored from a snapshot for every episode afterwards. Returns come
from the compiled evaluator (:mod:`envs.minigrid.compiled`); rollouts, traces and frames run
the executor (:mod:`envs.minigrid.executor`) on minigrid's world, with the same results.

Example:
    >>> task = MinigridTask("LavaGap", n=4)
    >>> task.evaluate("DEF run m( forward m)")
    0.0
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import ConfigError, TaskNotFound
from envs.minigrid.compiled import CompiledMinigridEvaluator
from envs.minigrid.executor import CompiledProgram, MinigridConfig
from envs.minigrid.info import TASK_INFO
from envs.minigrid.worlds import WORLDS, MinigridWorld, Snapshot
from envs.task import Rollout, Task


def _world_factory(name: str) -> Callable[[], MinigridWorld]:
    try:
        return WORLDS[name]
    except KeyError:
        raise TaskNotFound(
            f"unknown Minigrid task {name!r}; choose one of {', '.join(sorted(WORLDS))}"
        ) from None


class MinigridTask(Task):
    """A Minigrid benchmark task (spec/benchmark.md §5).

    Args:
        name: ``"LavaGap"``, ``"PutNear"`` or ``"RedBlueDoor"`` (a ``minigrid/`` prefix is
            accepted).
        n: Number of instances.
        seed: Seed of instance 0; instance i is ``reset(seed=seed + i)``.
        config: Wrapper settings (call budget, unchanged-state penalty, crashable).

    Raises:
        TaskNotFound: Unknown task name.
        ConfigError: ``n < 1`` or a negative seed.
    """

    domain = "minigrid"

    def __init__(
        self,
        name: str,
        n: int = 32,
        seed: int = 0,
        config: MinigridConfig | None = None,
    ) -> None:
        name = name.removeprefix("minigrid/")
        factory = _world_factory(name)
        if n < 1:
            raise ConfigError(f"a task needs at least one instance, got n={n}")
        if seed < 0:
            raise ConfigError(f"Minigrid seeds must be >= 0 (gymnasium's rule), got {seed}")
        info = TASK_INFO[name]
        self.id = info.id
        self.name = name
        self.info = info
        self.n = n
        self.seed = seed
        self.description = info.description
        self.config = MinigridConfig() if config is None else config
        self.world = factory()
        self.snapshots: tuple[Snapshot, ...] = tuple(self._build(i) for i in range(n))
        #: The numba evaluator behind :meth:`returns` (rollouts, traces and frames run the
        #: executor on minigrid's world; both give the same returns and call counts).
        self.evaluator = CompiledMinigridEvaluator(name, self.world, self.snapshots, self.config)

    def _build(self, instance: int) -> Snapshot:
        self.world.reset(seed=self.seed + instance)
        return self.world.snapshot()

    def compile(self, program: Program | str, trace: bool = False) -> CompiledProgram:
        """Parse (if needed) and compile a program against this task's world.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        return CompiledProgram(ensure_program(program, "minigrid"), self.world, self.config, trace)

    def thread_copy(self) -> MinigridTask:
        """A copy with its own compiled evaluator, whose kernel releases the GIL (see
        :meth:`envs.task.Task.thread_copy`)."""
        twin = copy.copy(self)
        twin.evaluator = CompiledMinigridEvaluator(
            self.name, self.world, self.snapshots, self.config
        )
        return twin

    def returns(self, program: Program | str) -> list[float]:
        """Return of the program on each instance, in instance order.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        return self.evaluator.returns(ensure_program(program, "minigrid"))

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """Run one episode on instance ``instance`` (0-based), optionally with its trace.

        Trace positions are minigrid's (x, y), x to the right and y downwards.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is not in 0..n-1.
        """
        result = self.compile(program, trace=trace).run(self._snapshot(instance))
        return Rollout(
            instance=instance,
            total_return=result.total_return,
            terminated=result.terminated,
            crashed=result.crashed,
            calls=result.calls,
            steps=result.steps,
        )

    def _snapshot(self, instance: int) -> Snapshot:
        if not 0 <= instance < self.n:
            raise ConfigError(f"instance must be in 0..{self.n - 1}, got {instance}")
        return self.snapshots[instance]

    def start_text(self, instance: int = 0) -> str:
        """The instance's start state as minigrid's text grid (``MiniGridEnv.pprint_grid``).

        Two characters per cell: object (W wall, D door, A ball, B box, G goal, V lava; ``__``
        an open door) and colour initial; the agent is ``>>``, ``VV``, ``<<`` or ``^^``.

        Raises:
            ConfigError: ``instance`` is not in 0..n-1.
        """
        self.world.restore(self._snapshot(instance))
        return self.world.pprint_grid()

    def frames(self, program: Program | str, instance: int = 0, tile_size: int = 32) -> list:
        """RGB frames (minigrid's own ``get_frame``) of one episode: the start, then one per action.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is not in 0..n-1.
        """
        compiled = self.compile(program)
        snap = self._snapshot(instance)
        frames: list = []

        def grab() -> None:
            frames.append(self.world.get_frame(highlight=False, tile_size=tile_size))

        self.world.restore(snap)
        grab()
        compiled.run(snap, on_action=grab)
        return frames

    def render_start(self, path: str | Path, instance: int = 0, *, cell: int = 32) -> Path:
        """Save the start state of ``instance`` (minigrid's own frame) as a PNG or a GIF.

        Raises:
            ConfigError: ``instance`` is not in 0..n-1, or a suffix other than .png/.gif.
            OSError: The file cannot be written.
        """
        from envs.minigrid.render import save_frames  # Pillow is only loaded to draw

        self.world.restore(self._snapshot(instance))
        return save_frames([self.world.get_frame(highlight=False, tile_size=cell)], path)

    def render_episode(
        self, program: Program | str, path: str | Path, instance: int = 0, *, cell: int = 32
    ) -> Path:
        """Save one episode as a GIF (or its first frame as a PNG, by the file suffix).

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is not in 0..n-1, or a suffix other than .png/.gif.
            OSError: The file cannot be written.
        """
        from envs.minigrid.render import render_rollout

        return render_rollout(self, program, instance, path, tile_size=cell)
