"""Eval suites as data: tasks x methods x backends x seeds x budgets, loaded from YAML.

A suite file names the tasks, the methods (how a cell is run), the backends (model strings,
``null`` for no model), the seeds and the budgets. :meth:`Suite.cells` expands it into the
independent :class:`Cell` s the runner executes. Pure-search methods never use a model, so
they are expanded with the ``none`` backend only.

A ``solve`` or ``revision`` method may also set solve() settings by name (:data:`SETTINGS`:
``api_base`` for a model behind an OpenAI-compatible server, ``generation_s``, ``grammar``,
``cache``, ...); every cell of the method passes them on. API keys are never settings: they
are read from the environment (``LLMGS_API_KEY`` for a server, ``OPENAI_API_KEY``, ...).

Example suite::

    name: smoke
    tasks: [karel/StairClimberSparse]
    seeds: [0, 1]
    budgets: [200]
    backends: [null]
    methods:
      - {name: shc, kind: search, method: shc}
      - {name: server, kind: solve, samples: 16, backends: [openai/qwen2.5-coder-1.5b],
         api_base: "http://127.0.0.1:8765/v1", generation_s: 600}
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import envs
from envs import ConfigError, TaskNotFound
from search import METHODS

Kind = Literal["search", "solve", "revision"]
KINDS: tuple[str, ...] = ("search", "solve", "revision")
#: Search methods a ``search`` cell may run: every method of ``search.search`` that starts from
#: random programs (``llmgs`` needs seed programs, which only ``solve`` cells have).
SEARCH_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m != "llmgs")
#: The backend label of cells that use no model.
NO_MODEL = "none"
#: solve() settings a ``solve`` or ``revision`` method may set by name (fields of
#: ``agent.SolveConfig`` and ``agent.LLMConfig``); the cell's own (model, seed, budget,
#: instances, samples, ...) come from the suite and the method's fields.
SETTINGS: tuple[str, ...] = (
    "api_base", "gguf_path", "n_ctx", "strategy", "temperature", "top_p", "generation_s",
    "grammar", "examples", "search_method", "loop_rounds", "early_stop", "confirm_match",
    "cache", "cache_dir", "timeout_s", "num_retries", "n_threads",
)  # fmt: skip
#: Settings that change how answers are fetched, not which answers or results a cell gets:
#: left out of the fingerprint, so e.g. ``cache: replay`` keeps a cell's rows current.
NEUTRAL_SETTINGS: frozenset[str] = frozenset(
    {"cache", "cache_dir", "timeout_s", "num_retries", "n_threads"}
)
#: Settings the revision experiment fixes (``evals.revision.EXPERIMENT``).
REVISION_FIXED: frozenset[str] = frozenset(
    {"early_stop", "search_method", "generation_s", "examples", "grammar"}
)
#: Packages whose code is part of every cell's fingerprint (see :func:`code_version`).
CODE_PACKAGES: tuple[str, ...] = ("search",)


def _reject_setting(method: str, name: str) -> str:
    """Why ``name`` is not a setting of a method (the ConfigError message)."""
    lowered = name.lower()
    if any(word in lowered for word in ("key", "secret", "token", "password")) and (
        name not in SETTINGS
    ):
        return (
            f"method {method!r}: {name!r} cannot be set in a suite: API keys are read from "
            "the environment only (LLMGS_API_KEY for a server at api_base, OPENAI_API_KEY, "
            "...), never written to suites or rows"
        )
    own = ", ".join(f.name for f in fields(MethodSpec) if f.name != "settings")
    return (
        f"method {method!r}: unknown setting {name!r}; a method takes {own} and the solve "
        f"settings {', '.join(SETTINGS)}"
    )


@dataclass(frozen=True)
class MethodSpec:
    """How the cells of one method are run.

    Attributes:
        name: Label in tables and plots (unique within the suite).
        kind: ``search`` (``search.search``: random, hc or shc from random programs),
            ``solve`` (``agent.solve``: LLM proposals, optional revision, then Scheduled HC;
            with no model it is pure Scheduled HC) or ``revision`` (the paper's revision
            experiment: a first round and ``rounds`` revision rounds, no early stop, no search).
        method: Search method of ``search`` cells.
        k: Neighbourhood size of ``hc``.
        revision: Revision method of ``solve`` and ``revision`` cells.
        rounds: Revision rounds (``solve``: at most, stops early; ``revision``: exactly).
        samples: Programs asked per round; None for solve's default (8 local, 32 remote).
        max_tokens: Tokens per answer; None for solve's default.
        backends: Backends of this method; None for the suite's list.
        seeds: Seeds of this method; None for the suite's list (lets a costly LLM method run
            fewer seeds than the cheap search baselines beside it).
        settings: solve() settings of its cells, as sorted ``(name, value)`` pairs, each one
            of :data:`SETTINGS` (``api_base``, ``generation_s``, ``cache``, ...).
    """

    name: str
    kind: Kind = "search"
    method: str = "shc"
    k: int = 250
    revision: str = "none"
    rounds: int = 0
    samples: int | None = None
    max_tokens: int | None = None
    backends: tuple[str | None, ...] | None = None
    seeds: tuple[int, ...] | None = None
    settings: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        settings = self.settings.items() if isinstance(self.settings, dict) else self.settings
        object.__setattr__(self, "settings", tuple(sorted((str(k), v) for k, v in settings)))
        for name, value in self.settings:
            if name not in SETTINGS:
                raise ConfigError(_reject_setting(self.name, name))
            if name == "api_base" and value is not None and "@" in urlsplit(str(value)).netloc:
                raise ConfigError(
                    f"method {self.name!r}: api_base must not hold credentials; set "
                    "LLMGS_API_KEY in the environment instead"
                )
        if self.settings and self.kind == "search":
            raise ConfigError(f"method {self.name!r}: a search method takes no solve settings")
        fixed = sorted(REVISION_FIXED & {name for name, _ in self.settings})
        if self.kind == "revision" and fixed:
            raise ConfigError(f"method {self.name!r}: the revision experiment fixes "
                              f"{', '.join(fixed)} (evals.revision.EXPERIMENT)")  # fmt: skip
        if self.kind not in KINDS:
            raise ConfigError(f"method {self.name!r}: kind must be one of {KINDS}")
        if self.kind == "search" and self.method not in SEARCH_METHODS:
            raise ConfigError(
                f"method {self.name!r}: search method must be one of {SEARCH_METHODS}"
            )
        if self.kind == "revision" and self.revision == "none":
            raise ConfigError(f"method {self.name!r}: a revision cell needs a revision method")
        if self.rounds < 0 or self.k < 1 or (self.samples is not None and self.samples < 1):
            raise ConfigError(f"method {self.name!r}: rounds >= 0, k >= 1 and samples >= 1")

    def solve_options(self) -> dict[str, Any]:
        """The method's settings as ``solve()`` keywords (paths expanded)."""
        out = dict(self.settings)
        for name in ("gguf_path", "cache_dir"):
            if out.get(name) is not None:
                out[name] = Path(str(out[name])).expanduser()
        return out


@dataclass(frozen=True)
class Cell:
    """One independent run of a suite: a task, a method, a backend, a seed and a budget.

    Attributes:
        suite: Suite name.
        task: Registry id.
        method: The method spec.
        backend: Model string, or None for no model.
        seed: Seed of the search and of the model's sampling.
        budget: Evaluation budget (paper counting; ignored by ``revision`` cells).
        instances: Task instances.
    """

    suite: str
    task: str
    method: MethodSpec
    backend: str | None
    seed: int
    budget: int
    instances: int = 32

    @property
    def backend_label(self) -> str:
        """The backend as shown in tables (``none`` for no model)."""
        return NO_MODEL if self.backend is None else self.backend

    @property
    def key(self) -> str:
        """Readable identity of the cell within its suite (the resume key)."""
        return (
            f"{self.task}|{self.method.name}|{self.backend_label}|seed={self.seed}"
            f"|budget={self.budget}"
        )

    @property
    def fingerprint(self) -> str:
        """Hash of every setting and of the search's code (:func:`code_version`): a row whose
        fingerprint differs is stale and is redone (see :meth:`matches` for older rows)."""
        return _digest({**self._settings_data(), "code": code_version()})

    @property
    def settings_fingerprint(self) -> str:
        """Hash of every setting, without the code (the fingerprint rows had before they
        recorded the code; rows keep it as ``settings_fingerprint``)."""
        return _digest(self._settings_data())

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether ``row`` records this cell with its current settings and search code, so the
        runner need not redo it.

        A row with a ``code`` field must have this cell's :attr:`fingerprint`. A row written
        before rows recorded the code has none; it matches on its settings alone (its
        fingerprint was :attr:`settings_fingerprint`): its code is unknown, so it is kept as
        it is rather than redone.
        """
        found = row.get("fingerprint")
        if found == self.fingerprint:
            return True
        return "code" not in row and found == self.settings_fingerprint

    def matches_settings(self, row: dict[str, Any]) -> bool:
        """Whether ``row`` records this cell with its current settings, whatever search code
        made it (what a report shows; the header says which code made its rows)."""
        found = row.get("settings_fingerprint", row.get("fingerprint"))
        return found == self.settings_fingerprint

    def _settings_data(self) -> dict[str, Any]:
        data = self.to_dict()
        kept = {k: v for k, v in data["method"].pop("settings").items()
                if k not in NEUTRAL_SETTINGS}  # fmt: skip
        if kept:  # only then, so the fingerprints of cells without settings stay as they were
            data["method"]["settings"] = kept
        return data

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        backends = self.method.backends
        data["method"]["backends"] = list(backends) if backends is not None else None
        seeds = self.method.seeds
        data["method"]["seeds"] = list(seeds) if seeds is not None else None
        data["method"]["settings"] = dict(self.method.settings)
        return data


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@functools.cache
def code_version() -> str:
    """A digest of the code of :data:`CODE_PACKAGES` (the search), part of every fingerprint.

    Each module is parsed and written back without its docstrings (``ast.unparse``), so
    comments, docstrings and formatting do not count; any change to the code does, and makes
    every cell run with it pending again. Deterministic: sorted paths, no timestamps.
    """
    import importlib

    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        root = Path(importlib.import_module(package).__file__ or "").parent
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if (
                    isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):  # fmt: skip
                    node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
            name = path.relative_to(root.parent).as_posix()
            digest.update(f"{name}\0{ast.unparse(tree)}\0".encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Suite:
    """A grid of cells.

    Attributes:
        name: Suite name (also the default results folder name).
        description: What the suite measures.
        tasks: Registry ids.
        methods: Method specs.
        backends: Model strings; None for no model.
        seeds: Seeds.
        budgets: Evaluation budgets.
        instances: Task instances per evaluation.
        command: The command that produces the committed results (shown in reports).
        path: File the suite was loaded from.
    """

    name: str
    tasks: tuple[str, ...]
    methods: tuple[MethodSpec, ...]
    backends: tuple[str | None, ...] = (None,)
    seeds: tuple[int, ...] = (0,)
    budgets: tuple[int, ...] = (1000,)
    instances: int = 32
    description: str = ""
    command: str = ""
    path: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.tasks or not self.methods or not self.seeds or not self.budgets:
            raise ConfigError(f"suite {self.name!r} needs tasks, methods, seeds and budgets")
        names = [m.name for m in self.methods]
        if len(set(names)) != len(names):
            raise ConfigError(f"suite {self.name!r}: method names must be unique, got {names}")
        if any(b < 0 for b in self.budgets) or self.instances < 1:
            raise ConfigError(f"suite {self.name!r}: budgets >= 0 and instances >= 1")

    def method_backends(self, method: MethodSpec) -> tuple[str | None, ...]:
        """Backends a method is run with (search cells: no model only)."""
        if method.kind == "search":
            return (None,)
        backends = method.backends if method.backends is not None else self.backends
        if method.kind == "revision":
            return tuple(b for b in backends if b is not None)  # revision needs a model
        return backends

    def cells(self) -> list[Cell]:
        """Every cell, in a stable order (task, method, backend, seed, budget)."""
        out = []
        for task in self.tasks:
            for method in self.methods:
                for backend in self.method_backends(method):
                    for seed in method.seeds if method.seeds is not None else self.seeds:
                        for budget in self.budgets:
                            cell = Cell(self.name, task, method, backend, seed, budget,
                                        self.instances)  # fmt: skip
                            out.append(cell)
        return out


def _tuple(value: Any, what: str) -> tuple[Any, ...]:
    if value is None:
        raise ConfigError(f"suite field {what!r} is missing")
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _method(data: Any) -> MethodSpec:
    if not isinstance(data, dict) or "name" not in data:
        raise ConfigError(f"each method needs a mapping with a name, got {data!r}")
    data = dict(data)
    for name in ("backends", "seeds"):
        if data.get(name) is not None:
            data[name] = _tuple(data[name], name)
    own = {f.name for f in fields(MethodSpec)} - {"settings"}
    nested = data.pop("settings", None) or {}
    if not isinstance(nested, dict):
        raise ConfigError(f"method {data['name']!r}: settings must be a mapping")
    # Flat keys that are not the method's own are solve settings (checked by MethodSpec).
    settings = {**nested, **{k: data.pop(k) for k in list(data) if k not in own}}
    try:
        return MethodSpec(**data, settings=tuple(settings.items()))
    except TypeError as exc:
        raise ConfigError(f"method {data.get('name')!r}: {exc}") from None


def suite_from_dict(data: dict[str, Any], path: str | None = None) -> Suite:
    """Build a :class:`Suite` from its YAML mapping.

    Raises:
        ConfigError: Unknown keys, a field or method setting that is not valid, or a task
            that is not registered (user tasks: ``LLMGS_TASK_MODULES``).
    """
    known = {"name", "description", "command", "tasks", "methods", "backends", "seeds",
             "budgets", "instances"}  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown suite fields: {', '.join(sorted(unknown))}")
    suite = Suite(
        name=str(data.get("name") or (Path(path).stem if path else "suite")),
        description=str(data.get("description", "")).strip(),
        command=str(data.get("command", "")).strip(),
        tasks=tuple(str(t) for t in _tuple(data.get("tasks"), "tasks")),
        methods=tuple(_method(m) for m in _tuple(data.get("methods"), "methods")),
        backends=_tuple(data.get("backends", [None]), "backends"),
        seeds=tuple(int(s) for s in _tuple(data.get("seeds", [0]), "seeds")),
        budgets=tuple(int(b) for b in _tuple(data.get("budgets", [1000]), "budgets")),
        instances=int(data.get("instances", 32)),
        path=path,
    )
    for method in suite.methods:
        check_settings(method)
    for task in suite.tasks:
        # Refused here, like a bad setting, instead of one failed cell per seed and method.
        try:
            envs.info(task)
        except TaskNotFound as exc:
            raise ConfigError(f"suite {suite.name!r}: {exc.args[0] if exc.args else exc}") from None
    return suite


def check_settings(method: MethodSpec) -> None:
    """Check the values of a method's solve settings as ``solve()`` would, at load time.

    Raises:
        ConfigError: A bad value (the message names the setting).
    """
    if not method.settings:
        return
    from agent import SolveConfig

    try:
        SolveConfig.from_options(model="openai/any", **method.solve_options())
    except ConfigError as exc:
        raise ConfigError(f"method {method.name!r}: {exc}") from None


def suites_dir() -> Path:
    """The folder of the bundled suites (``evals/suites``)."""
    return Path(__file__).resolve().parent / "suites"


def resolve_suite_path(name_or_path: str) -> Path:
    """A suite file for a path, or the name of a bundled suite (``search``).

    Raises:
        ConfigError: Neither a file nor a bundled suite's name (the message lists them).
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = suites_dir() / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    known = ", ".join(sorted(p.stem for p in suites_dir().glob("*.yaml")))
    raise ConfigError(f"no suite file {name_or_path!r}; bundled suites: {known}")


def load_suite(name_or_path: str) -> Suite:
    """Load a suite from a YAML file, or a bundled suite by name.

    Raises:
        ConfigError: Missing file, bad YAML or invalid fields.
    """
    import yaml

    path = resolve_suite_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a suite is a YAML mapping")
    return suite_from_dict(data, str(path))
