"""A task of your own, registered the way the built-in ones are: ``karel/Corridor``.

Karel stands at the west end of a corridor one cell wide and 3 to 8 cells long; a marker lies
at its east end. Picking that marker up gives +1 and ends the episode; putting a marker down
gives -1 and ends it. Each instance draws its corridor's length from its own seed.

Use it from the command line (``LLMGS_TASK_MODULES`` names modules or ``.py`` files whose
``register_tasks()`` the registry calls)::

    LLMGS_TASK_MODULES=docs/examples/corridor_task.py llmgs solve --task karel/Corridor --model none
    LLMGS_TASK_MODULES=docs/examples/corridor_task.py llmgs tasks --all

or from Python::

    import envs
    from search import SearchConfig, search
    register_tasks()                        # or envs.register(SPEC) yourself
    envs.check_task("karel/Corridor")       # raises TaskContractError naming a broken rule
    result = search(envs.make("karel/Corridor"), "shc", config=SearchConfig(budget=2000))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import envs
from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import ConfigError
from envs.karel import Direction, KarelWorld, run_program
from envs.karel.render import save_gif, save_png
from envs.task import Rollout, Task

DESCRIPTION = (
    "Karel stands at the west end of a corridor facing east; a marker lies at the east end. "
    "Walk to the end of the corridor and pick the marker up (+1, ends the episode); putting a "
    "marker down gives -1 and ends the episode."
)


class Corridor(Task):
    """n corridors; instance i draws its length from ``np.random.RandomState(seed + i)``."""

    id = "karel/Corridor"
    domain = "karel"
    description = DESCRIPTION

    def __init__(self, n: int = 32, seed: int = 0) -> None:
        if n < 1 or seed < 0:
            raise ConfigError(f"n must be at least 1 and seed at least 0, got n={n}, seed={seed}")
        self.n, self.seed = n, seed
        self.lengths = [int(np.random.RandomState(seed + i).randint(3, 9)) for i in range(n)]

    def _world(self, instance: int) -> KarelWorld:
        if not 0 <= instance < self.n:
            raise ConfigError(f"instance must lie in 0..{self.n - 1}, got {instance}")
        length = self.lengths[instance]
        walls = np.ones((3, length + 2), dtype=bool)
        walls[1, 1 : length + 1] = False
        markers = np.zeros(walls.shape, dtype=np.int32)
        markers[1, length] = 1
        return KarelWorld(walls, markers, (1, 1, Direction.E))

    def _reward(self, world: KarelWorld, instance: int) -> tuple[bool, float]:
        """The rule, called after every action: (episode ends, reward)."""
        if world.markers[1, self.lengths[instance]] == 0:
            return True, 1.0
        if int(world.markers.sum()) > 1:
            return True, -1.0
        return False, 0.0

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """One episode on ``instance``.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
            ConfigError: ``instance`` is out of range.
        """
        world = self._world(instance)

        def reward(w: KarelWorld) -> tuple[bool, float]:
            return self._reward(w, instance)

        run = run_program(ensure_program(program, "karel"), world, reward, trace=trace)
        ended = run.terminated
        return Rollout(instance, run.total_return, ended, run.crashed, run.calls, run.steps)

    def returns(self, program: Program | str) -> list[float]:
        """Return on each instance, in instance order.

        Raises:
            DSLSyntaxError: ``program`` is text that does not parse.
        """
        parsed = ensure_program(program, "karel")
        return [self.rollout(parsed, i, trace=False).total_return for i in range(self.n)]

    def render_text(self, instance: int = 0) -> str:
        """The start state as Karel's text grid (what ``llmgs render`` prints)."""
        return self._world(instance).to_string()

    # Drawing: the built-in Karel pictures (a task that cannot draw leaves these out).
    def render_start(self, path: str | Path, instance: int = 0, *, cell: int = 32) -> Path:
        """The start state as a PNG."""
        return save_png(self._world(instance), path, cell=cell)

    def episode_worlds(
        self, program: Program | str, instance: int = 0, max_frames: int = 500
    ) -> list[KarelWorld]:
        """The world before the first action and after each one (what the GIF shows)."""
        world = self._world(instance)
        frames = [world.copy()]

        def reward(w: KarelWorld) -> tuple[bool, float]:
            if len(frames) <= max_frames:
                frames.append(w.copy())
            return self._reward(w, instance)

        run_program(ensure_program(program, "karel"), world, reward)
        return frames

    def render_episode(
        self, program: Program | str, path: str | Path, instance: int = 0, *, cell: int = 32
    ) -> Path:
        """One episode as a GIF (``llmgs render --gif``, the run folder's worst_instance.gif)."""
        return save_gif(self, program, path, instance, cell=cell)


def make_corridor(n: int = 32, seed: int = 0, **options: object) -> Corridor:
    """The factory the registry calls: ``make_corridor(n=..., seed=..., **options)``.

    Raises:
        ConfigError: An option (this task has none), or a bad ``n`` or ``seed``.
    """
    if options:
        raise ConfigError(f"karel/Corridor takes no options, got {sorted(options)}")
    return Corridor(n, seed)


SPEC = envs.TaskSpec(
    id="karel/Corridor",
    domain="karel",
    description=DESCRIPTION,
    synonyms=("walk down the corridor and pick up the marker", "corridor"),
    default_budget=2_000,
    factory=make_corridor,
)


def register_tasks() -> None:
    """Add ``karel/Corridor`` to the registry (what ``LLMGS_TASK_MODULES`` calls)."""
    envs.register(SPEC, replace=True)
