"""The task registry: ``make(task_id)`` and the list of tasks with their descriptions.

Ids are ``<domain>/<Name>``. The Karel tasks register themselves here; other domains (Minigrid)
and users add theirs with :func:`register`::

    import envs
    envs.register("karel/MyTask", lambda n, seed, **opts: MyTask(n, seed, **opts),
                  envs.TaskInfo(id="karel/MyTask", domain="karel", description="..."))
    task = envs.make("karel/MyTask", n=8)

Modules named in :data:`PLUGIN_MODULES` are imported the first time the registry is read, so
that ``envs.make("minigrid/LavaGap")`` works without importing Minigrid by hand.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from envs.errors import ConfigError, TaskNotFound
from envs.task import Task

#: Modules that register their tasks when imported (missing ones are skipped).
PLUGIN_MODULES: tuple[str, ...] = ("envs.minigrid",)

TaskFactory = Callable[..., Task]
"""``factory(n: int, seed: int, **options) -> Task``."""


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What a registered task is, for listings, prompts and task matching.

    Attributes:
        id: Registry id, ``"<domain>/<Name>"``.
        domain: DSL domain (``"karel"`` or ``"minigrid"``).
        description: What the task asks, in plain words.
        synonyms: Other phrasings of the task a user may type.
        grid: ``(height, width)`` in cells, or None when it varies.
        default_budget: Default number of program evaluations for a search.
        benchmark: Whether the task is one the LLM-GS paper reports.
    """

    id: str
    domain: str
    description: str
    synonyms: tuple[str, ...] = ()
    grid: tuple[int, int] | None = None
    default_budget: int = 1_000_000
    benchmark: bool = False

    @property
    def name(self) -> str:
        """The id without its domain, e.g. ``"DoorKey"``."""
        return self.id.split("/", 1)[-1]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        out = dataclasses.asdict(self)
        out["synonyms"] = list(self.synonyms)
        out["grid"] = list(self.grid) if self.grid is not None else None
        return out


_TASKS: dict[str, tuple[TaskFactory, TaskInfo]] = {}
_plugins_loaded = False


def register(task_id: str, factory: TaskFactory, info: TaskInfo, *, replace: bool = False) -> None:
    """Add a task to the registry.

    Args:
        task_id: ``"<domain>/<Name>"``; must equal ``info.id``.
        factory: Called as ``factory(n=..., seed=..., **options)``; returns a :class:`Task`.
        info: Its listing entry.
        replace: Allow replacing an existing entry.

    Raises:
        ConfigError: Malformed id, ``info.id`` mismatch, or a duplicate without ``replace``.
    """
    domain, sep, name = task_id.partition("/")
    if not sep or not domain or not name:
        raise ConfigError(f"task ids look like 'domain/Name', got {task_id!r}")
    if info.id != task_id or info.domain != domain:
        raise ConfigError(f"TaskInfo id/domain {info.id!r}/{info.domain!r} != {task_id!r}")
    if task_id in _TASKS and not replace:
        raise ConfigError(f"task {task_id!r} is already registered (pass replace=True)")
    _TASKS[task_id] = (factory, info)


def unregister(task_id: str) -> None:
    """Remove a task (a user task, or one to be replaced); unknown ids are ignored."""
    _TASKS.pop(task_id, None)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in PLUGIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # Only a missing plugin is tolerated; a plugin that fails inside must be heard.
            if exc.name is None or not module.startswith(exc.name):
                raise


def _resolve(task_id: str) -> str:
    _load_plugins()
    if task_id in _TASKS:
        return task_id
    lowered = {key.lower(): key for key in _TASKS}
    if task_id.lower() in lowered:
        return lowered[task_id.lower()]
    # A bare name is accepted when exactly one domain has it ("DoorKey" -> "karel/DoorKey").
    bare = [key for key in _TASKS if key.split("/", 1)[1].lower() == task_id.lower()]
    if len(bare) == 1:
        return bare[0]
    by_name = {key.split("/", 1)[1]: key for key in _TASKS}
    close = difflib.get_close_matches(task_id, list(_TASKS), n=3, cutoff=0.6)
    close += [by_name[m] for m in difflib.get_close_matches(task_id, list(by_name), n=3)]
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
    raise TaskNotFound(f"no task {task_id!r}{hint} (llmgs tasks lists them)")


def make(task_id: str, n: int = 32, seed: int = 0, **options: object) -> Task:
    """Build a task: n instances, instance i seeded with ``seed + i``.

    Args:
        task_id: ``"karel/DoorKey"``; case-insensitive, and a bare unique name works too.
        n: Number of instances (the benchmark uses 32).
        seed: Seed of instance 0.
        **options: Task options, e.g. ``engine="python"`` or ``penalize_crash=True`` for
            Karel (see :class:`envs.karel.KarelOptions`).

    Raises:
        TaskNotFound: Unknown id; the message lists close matches.
        ConfigError: An unknown or invalid option.
    """
    factory, _ = _TASKS[_resolve(task_id)]
    return factory(n=n, seed=seed, **options)


def info(task_id: str) -> TaskInfo:
    """The listing entry of a task.

    Raises:
        TaskNotFound: Unknown id.
    """
    return _TASKS[_resolve(task_id)][1]


def tasks(domain: str | None = None, *, benchmark_only: bool = False) -> list[TaskInfo]:
    """Registered tasks in registration order, optionally of one domain or the paper's only."""
    _load_plugins()
    return [
        entry
        for _, entry in _TASKS.values()
        if (domain is None or entry.domain == domain) and (entry.benchmark or not benchmark_only)
    ]


def _register_karel() -> None:
    """Register every Karel task; imports stay light (no numba) until a task is used."""
    from envs.karel.info import DEFAULT_BUDGET, DESCRIPTIONS, SYNONYMS
    from envs.karel.tasks import BENCHMARK_TASKS, SPECS

    def factory_for(name: str) -> TaskFactory:
        def factory(n: int = 32, seed: int = 0, **options: object) -> Task:
            from envs.karel.task import KarelOptions, KarelTask

            engine = options.pop("engine", None)
            description = options.pop("description", None)
            known = {f.name for f in dataclasses.fields(KarelOptions)}
            unknown = sorted(set(options) - known)
            if unknown:
                raise ConfigError(
                    f"unknown Karel option(s) {unknown}; known: engine, description, "
                    + ", ".join(sorted(known))
                )
            return KarelTask(
                name,
                n,
                seed,
                options=KarelOptions(**options),  # type: ignore[arg-type]
                engine=engine,  # type: ignore[arg-type]
                description=description if description is not None else DESCRIPTIONS[name],  # type: ignore[arg-type]
            )

        return factory

    # The paper's twelve first, in its order, then the unused dense/sparse variants.
    names = list(BENCHMARK_TASKS) + [name for name in SPECS if name not in BENCHMARK_TASKS]
    for name in names:
        spec = SPECS[name]
        task_id = f"karel/{name}"
        entry = TaskInfo(
            id=task_id,
            domain="karel",
            description=DESCRIPTIONS[name],
            synonyms=SYNONYMS.get(name, ()),
            grid=(spec.height, spec.width),
            default_budget=DEFAULT_BUDGET,
            benchmark=name in BENCHMARK_TASKS,
        )
        register(task_id, factory_for(name), entry, replace=True)


_register_karel()
