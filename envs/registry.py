"""The task registry: ``make(task_id)`` and the specs of every task.

Ids are ``<domain>/<Name>``. The registry stores one :class:`~envs.spec.TaskSpec` per task and
names no task and no domain itself: task modules register them. A task module is any module with
a ``register_tasks()`` function; :func:`add_task_module` names one, and the registry calls it the
first time it is used (so ``import envs`` stays light). The built-in domains are added this way
in ``envs/__init__.py`` (``envs.karel``, then ``envs.minigrid``), and the modules (or ``.py``
files) named in the ``LLMGS_TASK_MODULES`` environment variable, comma-separated, after them:
that is how the ``llmgs`` command sees a user's tasks. A program adds its own directly::

    import envs
    envs.register(envs.TaskSpec("karel/MyTask", "karel", "What it asks.",
                                factory=lambda n, seed, **options: MyTask(n, seed)))
    envs.check_task("karel/MyTask")           # keeps the Task contract?
    task = envs.make("karel/MyTask", n=8)

docs/tasks.md explains the spec's fields and has a complete example (docs/examples/).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from envs.errors import ConfigError, TaskNotFound
from envs.spec import PromptText, TaskFactory, TaskSpec
from envs.task import Task

__all__ = [
    "ENV_MODULES", "PromptText", "TaskFactory", "TaskInfo", "TaskSpec", "add_task_module",
    "info", "make", "register", "task_modules", "tasks", "unregister",
]  # fmt: skip

TaskInfo = TaskSpec
"""The spec's name before it held the prompt sentences and the factory (the same class)."""

#: Environment variable naming a user's task modules (or ``.py`` files), comma-separated.
ENV_MODULES = "LLMGS_TASK_MODULES"

_TASKS: dict[str, TaskSpec] = {}
_MODULES: list[str] = []
_loaded: set[str] = set()
_loading = False


def add_task_module(module: str) -> None:
    """Name a module whose ``register_tasks()`` adds tasks, called when the registry is used.

    A module that cannot be imported, or whose import or ``register_tasks()`` raises, makes
    the next use of the registry raise a :class:`ConfigError` naming it (and the error's type,
    message and line); none of its tasks stay registered, and the next use tries it again.

    Args:
        module: A module name (``"envs.karel"``, ``"my_package.tasks"``) or a ``.py`` file path.
    """
    if module not in _MODULES:
        _MODULES.append(module)


def task_modules() -> list[str]:
    """The task modules in loading order: those added, then those of ``LLMGS_TASK_MODULES``."""
    extra = [m.strip() for m in os.environ.get(ENV_MODULES, "").split(",") if m.strip()]
    return list(dict.fromkeys([*_MODULES, *extra]))


def _import(module: str) -> ModuleType:
    if not module.endswith(".py"):
        return importlib.import_module(module)
    path = Path(module).expanduser().resolve()
    name = f"llmgs_tasks_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ImportError(f"no such file {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def _load_modules() -> None:
    """Call ``register_tasks()`` of every task module not loaded yet, in order."""
    global _loading
    if _loading:  # a module's register_tasks() is registering: the others wait their turn
        return
    _loading = True
    try:
        for module in task_modules():
            if module in _loaded:
                continue
            _loaded.add(module)
            before = dict(_TASKS)
            try:
                _register_from(module)
            except BaseException:
                # Tried again on the next use, and none of its tasks stay half-registered.
                _loaded.discard(module)
                _TASKS.clear()
                _TASKS.update(before)
                raise
    finally:
        _loading = False


def _register_from(module: str) -> None:
    try:
        loaded = _import(module)
    except (ImportError, SyntaxError) as err:  # a missing module, a broken file
        raise ConfigError(f"task module {module!r} cannot be imported: {err}") from None
    except Exception as err:  # the user's code failed: name it, no traceback
        raise ConfigError(
            f"task module {module!r} failed while being imported: {_described(err)}"
        ) from err
    register_tasks = getattr(loaded, "register_tasks", None)
    if not callable(register_tasks):
        raise ConfigError(f"task module {module!r} has no register_tasks()")
    try:
        register_tasks()
    except Exception as err:  # the user's code failed: name it, no traceback
        raise ConfigError(
            f"task module {module!r} failed in register_tasks(): {_described(err)}"
        ) from err


def _described(err: Exception) -> str:
    """``err`` in one line: a ConfigError's own words; else its type, message and where."""
    if isinstance(err, ConfigError):
        return str(err)
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}{where}"


def register(
    spec: TaskSpec | str,
    factory: TaskFactory | None = None,
    info: TaskSpec | None = None,
    *,
    replace: bool = False,
) -> None:
    """Add a task to the registry: ``register(spec)``, or ``register(task_id, factory, info)``.

    Args:
        spec: The task's spec, its ``factory`` set; or the task id, ``"<domain>/<Name>"``, with
            ``factory`` and ``info`` (the older form).
        factory: With an id: called as ``factory(n=..., seed=..., **options)``; returns a
            :class:`Task`.
        info: With an id: the spec (its ``factory`` is ignored); its id must be the id.
        replace: Allow replacing an existing entry.

    Raises:
        ConfigError: Malformed id, an id or domain that disagrees, no callable factory, a
            duplicate without ``replace``, or a task module that fails to load.
    """
    _load_modules()  # the built-in tasks first: a user's duplicate id is then caught
    if isinstance(spec, str):
        if info is None or factory is None:
            raise ConfigError("register(task_id, factory, info) needs the factory and the info")
        if info.id != spec:
            raise ConfigError(f"TaskInfo id {info.id!r} != {spec!r}")
        spec = dataclasses.replace(info, factory=factory)
    elif factory is not None or info is not None:
        raise ConfigError("register(spec) takes the factory inside the spec")
    domain, sep, name = spec.id.partition("/")
    if not sep or not domain or not name or "/" in name:
        raise ConfigError(f"task ids look like 'domain/Name', got {spec.id!r}")
    if spec.domain != domain:
        raise ConfigError(f"TaskSpec domain {spec.domain!r} != the id's {domain!r}")
    if not callable(spec.factory):
        raise ConfigError(f"{spec.id}: the spec needs a factory(n, seed, **options)")
    if spec.id in _TASKS and not replace:
        raise ConfigError(f"task {spec.id!r} is already registered (pass replace=True)")
    _TASKS[spec.id] = spec


def unregister(task_id: str) -> None:
    """Remove a task (a user task, or one to be replaced); unknown ids are ignored.

    Raises:
        ConfigError: A task module fails to load.
    """
    _load_modules()
    _TASKS.pop(task_id, None)


def _resolve(task_id: str) -> str:
    _load_modules()
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
        ConfigError: An unknown or invalid option, or a task module that fails to load.
    """
    factory = _TASKS[_resolve(task_id)].factory
    return factory(n=n, seed=seed, **options)  # type: ignore[misc]  # register checks it


def info(task_id: str) -> TaskSpec:
    """The spec of a task (what it asks, its prompt sentences, its factory).

    Raises:
        TaskNotFound: Unknown id.
        ConfigError: A task module fails to load.
    """
    return _TASKS[_resolve(task_id)]


def tasks(domain: str | None = None, *, benchmark_only: bool = False) -> list[TaskSpec]:
    """Registered tasks in registration order, optionally of one domain or the paper's only.

    Raises:
        ConfigError: A task module fails to load.
    """
    _load_modules()
    return [
        entry
        for entry in _TASKS.values()
        if (domain is None or entry.domain == domain) and (entry.benchmark or not benchmark_only)
    ]
