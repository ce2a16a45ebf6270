"""The task spec: one object that says what a task is, for every layer that needs to know.

A :class:`TaskSpec` holds a task's id and domain, what it asks in plain words (the registry's
description, the phrasings a user may type, the sentences the model's prompt states), its grid,
its default search budget and the factory that builds it. The registry stores specs, the prompts
(:mod:`agent.prompting`) and task matching (:mod:`agent.pipeline.matching`) read them, and
nothing else holds a task's text.

The built-in tasks' texts are data: one YAML file per domain (``envs/karel/info.yaml``,
``envs/minigrid/info.yaml``) read by :func:`load_specs`, one entry per task, each field a field
of :class:`TaskSpec`::

    domain: karel
    defaults: {default_budget: 1000000}
    tasks:
      DoorKey:
        title: Door Key
        description: An 8x8 grid split by a wall ...
        synonyms: [pick up the key and open the door, door key]
        prompt: {map: The map is ..., start: ..., goal: ..., reward: ...}
      DoorKeySparse:
        like: DoorKey        # a variant: title and unspecified prompt sentences come from there
        description: ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml

from envs.errors import ConfigError

if TYPE_CHECKING:
    from envs.task import Task

TaskFactory = Callable[..., "Task"]
"""``factory(n: int, seed: int, **options) -> Task``."""

_NO_OPTIONS: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PromptText:
    """The four sentences a model's prompt states about a task (spec/benchmark.md §7.1).

    Attributes:
        map: The map (``"The map is ..."``).
        start: Where and how the agent starts.
        goal: What the agent must do.
        reward: How the return is earned and lost (``"The return is ..."``).
    """

    map: str
    start: str
    goal: str
    reward: str

    @property
    def text(self) -> str:
        """The four sentences in prompt order, joined by a space."""
        return f"{self.map} {self.start} {self.goal} {self.reward}"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a registered task is, for listings, prompts, task matching and ``make``.

    Attributes:
        id: Registry id, ``"<domain>/<Name>"``.
        domain: DSL domain (``"karel"`` or ``"minigrid"``).
        description: What the task asks, in plain words (listings, matching, and the prompt
            of a task without ``prompt`` sentences).
        synonyms: Other phrasings of the task a user may type.
        grid: ``(height, width)`` in cells, or None when it varies.
        default_budget: Default number of program evaluations for a search.
        benchmark: Whether the task is one the LLM-GS paper reports.
        title: Display name in prompts (``"Door Key"``); None for the id's name.
        prompt: The prompt's four sentences; None to state ``description`` instead.
        variant_of: Id of the task this one is a variant of (its dense or sparse twin): the
            two share worked examples' leave-one-out family.
        factory: Builds the task (:data:`TaskFactory`); None only before registration.
        episode_options: Options ``make`` gets when a caller builds the task only to roll out
            or draw single episodes (``llmgs render``): Karel's python engine compiles nothing.
    """

    id: str
    domain: str
    description: str
    synonyms: tuple[str, ...] = ()
    grid: tuple[int, int] | None = None
    default_budget: int = 1_000_000
    benchmark: bool = False
    title: str | None = None
    prompt: PromptText | None = None
    variant_of: str | None = None
    factory: TaskFactory | None = field(default=None, compare=False, repr=False)
    episode_options: Mapping[str, object] = field(
        default_factory=lambda: _NO_OPTIONS, compare=False, repr=False
    )

    @property
    def name(self) -> str:
        """The id without its domain, e.g. ``"DoorKey"``."""
        return self.id.split("/", 1)[-1]

    @property
    def display_name(self) -> str:
        """``title``, or the id's name when the spec has none."""
        return self.title if self.title is not None else self.name

    @property
    def prompt_text(self) -> str:
        """What the model's prompt says the task is: the four sentences, else the description."""
        return self.prompt.text if self.prompt is not None else self.description

    def to_dict(self) -> dict[str, object]:
        """JSON-ready listing entry (the fields ``llmgs tasks --json`` and the service show)."""
        return {
            "id": self.id,
            "domain": self.domain,
            "description": self.description,
            "synonyms": list(self.synonyms),
            "grid": list(self.grid) if self.grid is not None else None,
            "default_budget": self.default_budget,
            "benchmark": self.benchmark,
        }


# -- the domains' data files -----------------------------------------------------------------
# libyaml's safe loader when present (3x faster than the pure-Python one; the same result).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TEXT_FIELDS = {"title", "description", "synonyms", "prompt", "like"}
_VALUE_FIELDS = {"grid", "default_budget", "benchmark"}


def load_specs(package: str, filename: str = "info.yaml") -> dict[str, TaskSpec]:
    """Read a domain's task specs (without factories) from a YAML file of ``package``.

    Args:
        package: The domain package holding the file, e.g. ``"envs.karel"``.
        filename: The file's name inside the package.

    Returns:
        Spec by task name (the id without its domain), in file order.

    Raises:
        ConfigError: The file is missing or malformed (unknown field, a sentence missing, a
            ``like`` naming no task of the file).
    """
    where = f"{package.replace('.', '/')}/{filename}"
    node = resources.files(package).joinpath(filename)
    if not node.is_file():
        raise ConfigError(f"no task data file {where}")
    data = yaml.load(node.read_text(encoding="utf-8"), Loader=_LOADER)
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
        raise ConfigError(f"{where}: expected a mapping with 'domain' and 'tasks'")
    domain = data.get("domain")
    defaults = data.get("defaults") or {}
    unknown = set(data) - {"domain", "defaults", "tasks"} or set(defaults) - _VALUE_FIELDS
    if not isinstance(domain, str) or unknown:
        raise ConfigError(f"{where}: needs a 'domain'; unknown keys {sorted(unknown)}")
    entries: dict[str, dict[str, Any]] = data["tasks"]
    return {name: _spec(where, domain, name, entries, defaults) for name in entries}


def _spec(
    where: str, domain: str, name: str, entries: dict[str, dict[str, Any]], defaults: dict
) -> TaskSpec:
    entry = entries[name]
    if not isinstance(entry, dict) or set(entry) - _TEXT_FIELDS - _VALUE_FIELDS:
        raise ConfigError(f"{where}: task {name!r} must be a mapping of TaskSpec fields")
    if not isinstance(entry.get("description"), str) or not entry["description"].strip():
        raise ConfigError(f"{where}: task {name!r} has no description")
    like = entry.get("like")
    base = entries.get(like) if like is not None else {}
    if not isinstance(base, dict) or (base and "like" in base):
        raise ConfigError(f"{where}: {name!r} is like {like!r}, which is no base task of the file")
    sentences = {**(base.get("prompt") or {}), **(entry.get("prompt") or {})}
    expected = {f.name for f in fields(PromptText)}
    if sentences and set(sentences) != expected:
        raise ConfigError(f"{where}: {name!r} prompt needs exactly {sorted(expected)}")
    values = {**defaults, **{k: v for k, v in entry.items() if k in _VALUE_FIELDS}}
    if "grid" in values:
        values["grid"] = tuple(values["grid"])
    return TaskSpec(
        id=f"{domain}/{name}",
        domain=domain,
        description=entry["description"],
        synonyms=tuple(entry.get("synonyms") or ()),
        title=entry.get("title", base.get("title")),
        prompt=PromptText(**sentences) if sentences else None,
        variant_of=f"{domain}/{like}" if like is not None else None,
        **values,
    )
