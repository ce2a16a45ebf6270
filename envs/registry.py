"""The task registry: ``make(task_id)`` and the list of tasks with their descriptions.

Ids are ``<domain>/<Name>``. Each domain registers its own tasks: the packages named in
:data:`DOMAIN_MODULES` have a ``register_tasks()`` that the registry calls the first time it is
used (so ``import envs`` stays light and this module names no task). Users add theirs with
:func:`register`, and check them with :func:`envs.check_task`::

    import envs
    envs.register("karel/MyTask", lambda n, seed, **opts: MyTask(n, seed, **opts),
                  envs.TaskInfo(id="karel/MyTask", domain="karel", description="..."))
    task = envs.make("karel/MyTask", n=8)
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from envs.errors import ConfigError, TaskNotFound
from envs.task import Task

#: Packages whose ``register_tasks()`` adds their domain's tasks, in listing order.
DOMAIN_MODULES: tuple[str, ...] = ("envs.karel", "envs.minigrid")

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
_domains_loaded = False


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
    _load_domains()  # the built-in tasks first: a user's duplicate id is then caught
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
    _load_domains()
    _TASKS.pop(task_id, None)


def _load_domains() -> None:
    global _domains_loaded
    if _domains_loaded:
        return
    _domains_loaded = True  # first, because register_tasks() calls register()
    for module in DOMAIN_MODULES:
        importlib.import_module(module).register_tasks()


def _resolve(task_id: str) -> str:
    _load_domains()
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
    _load_domains()
    return [
        entry
        for _, entry in _TASKS.values()
        if (domain is None or entry.domain == domain) and (entry.benchmark or not benchmark_only)
    ]
