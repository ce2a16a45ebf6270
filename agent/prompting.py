"""Render the LLM-GS prompts from the template files in ``prompts/``.

Structure (spec/benchmark.md §7.1): a system message with the environment, the actions, the
perceptions, the Python rules and the Python -> DSL conversion table; a user message with the
task name, four sentences (map, agent start, goal, return) and the request. The task's words
come from its registered spec (:class:`envs.TaskSpec`: ``title`` and ``prompt``, read from
``envs/<domain>/info.yaml`` for the built-in tasks), never from a table here. The action,
perception, grammar and conversion-table sections are generated from ``envs.dsl.grammar`` so
that prompt and parser cannot drift apart. Templates use ``string.Template`` and a missing
variable is an error, never a blank.

Example:
    >>> messages = render_prompt("karel/Harvester")
    >>> [m["role"] for m in messages]
    ['system', 'user']
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

import envs
from agent.conversion.acceptance import STRATEGIES
from agent.conversion.to_python import to_python
from envs.dsl.grammar import MAX_REPEAT, Grammar, grammar
from envs.errors import ConfigError

Message = dict[str, str]
RevisionMethod = Literal[
    "regeneration", "regeneration_with_reward", "execution_trace", "program_execution_trace"
]
REVISION_METHODS: tuple[str, ...] = get_args(RevisionMethod)
_DOMAIN_NAMES = {"karel": "Karel", "minigrid": "Minigrid"}
#: Worked examples shown at most (each adds about 100 prompt tokens).
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class TaskPrompt:
    """What the user prompt says about a task.

    Attributes:
        name: Display name, printed upper case after ``TASK NAME:``.
        description: The task in plain words (for benchmark tasks: map, start, goal, return).
        domain: ``"karel"`` or ``"minigrid"``.
        task_id: The registered task the text belongs to (None for a task described only in
            the user's words); worked examples of that task and its dense/sparse twin are
            never shown for it.
    """

    name: str
    description: str
    domain: str = "karel"
    task_id: str | None = None


def read_template(path: str) -> str:
    """Read a template file of the ``prompts`` package (e.g. ``"user/task.txt"``).

    Raises:
        ConfigError: No such template.
    """
    node = resources.files("prompts")
    for part in path.split("/"):
        node = node.joinpath(part)
    if not node.is_file():
        raise ConfigError(f"no prompt template {path!r} in the prompts package")
    return node.read_text(encoding="utf-8")


def fill(path: str, values: Mapping[str, Any]) -> str:
    """Fill the template at ``path``; a variable without a value is an error.

    Raises:
        ConfigError: The template names a variable that ``values`` lacks, or has a stray ``$``.
    """
    template = string.Template(read_template(path))
    try:
        return template.substitute(values).rstrip("\n")
    except KeyError as err:
        raise ConfigError(f"prompt template {path!r} needs the variable {err.args[0]!r}") from None
    except ValueError as err:
        raise ConfigError(f"prompt template {path!r} is malformed: {err}") from None


def _spec(task_id: str) -> envs.TaskSpec | None:
    """The registered spec of exactly ``task_id``, or None."""
    return next((spec for spec in envs.tasks() if spec.id == task_id), None)


def task_family(task_id: str) -> str:
    """The task an id is a variant of (``karel/StairClimber`` -> its sparse twin's id),
    following the specs' ``variant_of`` links; an unknown id is its own family."""
    seen = {task_id}
    spec = _spec(task_id)
    while spec is not None and spec.variant_of is not None and spec.variant_of not in seen:
        task_id = spec.variant_of
        seen.add(task_id)
        spec = _spec(task_id)
    return task_id


def task_prompt(task: str | TaskPrompt) -> TaskPrompt:
    """What the prompt says about a registered task, by id (``"karel/DoorKey"``) or bare name.

    The task's spec (:class:`envs.TaskSpec`) holds it: its title and four sentences, or for a
    task registered without sentences its name and description.

    Raises:
        TaskNotFound: No task has that id or name.
    """
    if isinstance(task, TaskPrompt):
        return task
    spec = envs.info(task)
    return TaskPrompt(spec.display_name, spec.prompt_text, spec.domain, spec.id)


def task_ids() -> list[str]:
    """Ids of every registered task whose spec has the prompt's four sentences."""
    return [spec.id for spec in envs.tasks() if spec.prompt is not None]


def _call(name: str, gram: Grammar) -> str:
    if gram.takes_arg(name):
        return f'{name}("{gram.perception_args[name][0]}")'
    return f"{name}()"


def _dsl_term(name: str, gram: Grammar) -> str:
    if gram.takes_arg(name):
        return f"{name} h( {'|'.join(gram.perception_args[name])} h)"
    return name


def _perception_meaning(name: str, gram: Grammar) -> str:
    meaning = gram.perceptions[name]
    if gram.takes_arg(name):
        values = ", ".join(f'"{v}"' for v in gram.perception_args[name])
        meaning += f"; the argument is one of {values}"
    return meaning


def conversion_rows(domain: str) -> list[tuple[str, str]]:
    """(Python, DSL) pairs of the conversion table; tests check each row with the converter."""
    gram = grammar(domain)
    rows = [
        ("def run(): BODY", "DEF run m( BODY m)"),
        ("while COND: BODY", "WHILE c( COND c) w( BODY w)"),
        ("if COND: BODY", "IF c( COND c) i( BODY i)"),
        ("if COND: BODY1 else: BODY2", "IFELSE c( COND c) i( BODY1 i) ELSE e( BODY2 e)"),
        (f"for _ in range(n): BODY  (n = 0..{MAX_REPEAT})", "REPEAT R=n r( BODY r)"),
        ("not COND", "not c( COND c)"),
    ]
    rows += [(f"{a}()", a) for a in gram.actions]
    for p in gram.perceptions:
        example = f"{p} h( {gram.perception_args[p][0]} h)" if gram.takes_arg(p) else p
        rows.append((_call(p, gram), example))
    return rows


def example_program(gram: Grammar) -> str:
    """A small DSL program built from the grammar's names, shown converted in the prompt."""
    actions = list(gram.actions)
    cond = next(p for p in gram.perceptions if not gram.takes_arg(p))
    return (
        f"DEF run m( WHILE c( {cond} c) w( {actions[0]} w) REPEAT R=2 r( {actions[1]} r) "
        f"IFELSE c( not c( {cond} c) c) i( {actions[2]} i) ELSE e( {actions[0]} e) m)"
    )


def _example(gram: Grammar) -> str:
    program = example_program(gram)
    python = to_python(program, gram.domain).rstrip("\n")
    return f"For example, this Python program:\n{python}\nis this DSL program:\n{program}"


def sections(domain: str) -> dict[str, str]:
    """The generated prompt sections of a domain, by template variable name."""
    gram = grammar(domain)
    rows = conversion_rows(domain)
    width = max(len(py) for py, _ in rows)
    perceptions = " | ".join(_dsl_term(p, gram) for p in gram.perceptions)
    return {
        "environment": read_template(f"{domain}/environment.txt").strip(),
        "domain_name": _DOMAIN_NAMES[domain],
        "actions": "\n".join(f"- {a}(): {m}" for a, m in gram.actions.items()),
        "perceptions": "\n".join(
            f"- {_call(p, gram)}: {_perception_meaning(p, gram)}" for p in gram.perceptions
        ),
        "dsl_actions": "\n".join(f"- {a}: {m}" for a, m in gram.actions.items()),
        "dsl_perceptions": "\n".join(
            f"- {_dsl_term(p, gram)}: {_perception_meaning(p, gram)}" for p in gram.perceptions
        ),
        "python_rules": read_template("python_rules.txt").strip(),
        "conversion_table": "\n".join(f"{py.ljust(width)}  ->  {dsl}" for py, dsl in rows)
        + "\n\n"
        + _example(gram),
        "dsl_grammar": "\n".join(
            [
                "program   := DEF run m( block m)",
                "block     := statement | statement block",
                "statement := WHILE c( cond c) w( block w) | IF c( cond c) i( block i)",
                "           | IFELSE c( cond c) i( block i) ELSE e( block e)",
                f"           | REPEAT R=n r( block r)    (n is 0..{MAX_REPEAT})",
                "           | action",
                "cond      := perception | not c( perception c)",
                f"action    := {' | '.join(gram.actions)}",
                f"perception:= {perceptions}",
            ]
        ),
    }


# -- worked examples -----------------------------------------------------------------------
@dataclass(frozen=True)
class WorkedExample:
    """A program written for one benchmark task, shown to the model when it solves another.

    Attributes:
        task_id: The task the program was written for.
        program: Canonical DSL.
        score: Its mean return on the task's 32 benchmark instances (a test checks it).
    """

    task_id: str
    program: str
    score: float


@cache
def worked_examples(domain: str) -> tuple[WorkedExample, ...]:
    """Every worked example of a domain (``prompts/<domain>/examples.yaml``), in file order.

    Raises:
        ConfigError: Unknown domain or a malformed examples file.
    """
    if domain not in _DOMAIN_NAMES:
        raise ConfigError(f"unknown domain {domain!r}; choose one of {', '.join(_DOMAIN_NAMES)}")
    rows = yaml.safe_load(read_template(f"{domain}/examples.yaml")) or []
    try:
        return tuple(WorkedExample(r["task"], r["program"], float(r["score"])) for r in rows)
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"prompts/{domain}/examples.yaml is malformed: {err}") from None


def examples_for(task: str | TaskPrompt, limit: int = MAX_EXAMPLES) -> list[WorkedExample]:
    """Worked examples for ``task``: other tasks of its domain only (leave-one-out).

    A task never sees an example of itself or of its dense/sparse twin, so no answer leaks;
    a user's own task (no ``task_id``) may see any example of its domain.
    """
    info = task_prompt(task)
    family = task_family(info.task_id) if info.task_id is not None else None
    return [
        e
        for e in worked_examples(info.domain)
        if task_family(e.task_id) != family and task_prompt(e.task_id).name != info.name
    ][:limit]


def examples_section(task: str | TaskPrompt, strategy: str = "python") -> str:
    """The prompt section that shows the worked examples for ``task`` ("" when none).

    Raises:
        ConfigError: A worked example's task has no prompt sentences.
    """
    info = task_prompt(task)
    shown = []
    for k, example in enumerate(examples_for(info), 1):
        spec = envs.info(example.task_id)
        if spec.prompt is None:
            raise ConfigError(f"worked example task {spec.id} has no prompt sentences")
        code = (
            example.program
            if strategy == "dsl"
            else to_python(example.program, info.domain).rstrip("\n")
        )
        shown.append(
            f"Example {k}: {spec.display_name}. {spec.prompt.map} {spec.prompt.goal}\n"
            f"A program for it (average return {example.score:.3g}):\n{code}"
        )
    if not shown:
        return ""
    return fill("examples.txt", {"examples": "\n\n".join(shown)})


# -- rendering -----------------------------------------------------------------------------
def _check(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def _user_parts(
    info: TaskPrompt, strategy: str, n_programs: int, constrained: bool = False
) -> dict[str, str]:
    if n_programs < 1:
        raise ConfigError(f"n_programs must be at least 1, got {n_programs}")
    values = {
        **sections(info.domain),
        "task_name": info.name.upper(),
        "task_description": info.description,
        "n_programs": str(n_programs),
        "plural": "" if n_programs == 1 else "s",
    }
    ask = "user/constrained.txt" if constrained else f"user/{strategy}.txt"
    return {"task": fill("user/task.txt", values), "ask": fill(ask, values)}


def _system(info: TaskPrompt, strategy: str, examples: bool, constrained: bool) -> str:
    # Under the grammar the answer is Python only: the DSL table would be dead weight.
    template = "system/python.txt" if constrained else f"system/{strategy}.txt"
    system = fill(template, sections(info.domain))
    shown = examples_section(info, "python" if constrained else strategy) if examples else ""
    return f"{system}\n\n{shown}" if shown else system


def render_prompt(
    task: str | TaskPrompt,
    strategy: str = "pythonic_dsl",
    *,
    n_programs: int = 1,
    examples: bool = False,
    constrained: bool = False,
) -> list[Message]:
    """The system and user messages that ask a model for programs.

    Args:
        task: A task id (``"karel/DoorKey"``), a bare benchmark name, or a :class:`TaskPrompt`
            for a task described in the user's own words.
        strategy: ``"pythonic_dsl"`` (Python, then its DSL translation), ``"python"`` or
            ``"dsl"``.
        n_programs: Programs asked for in one answer.
        examples: Add worked examples of other tasks of the domain (:func:`examples_for`).
        constrained: The answer is decoded under the grammar of
            :mod:`agent.conversion.grammar`: ask for the bare ``def run():`` code only.

    Raises:
        TaskNotFound: Unknown task id. ConfigError: unknown strategy or a template error.
    """
    _check(strategy)
    info = task_prompt(task)
    system = _system(info, strategy, examples, constrained)
    user = fill("user/request.txt", _user_parts(info, strategy, n_programs, constrained))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def format_programs(programs: Iterable[str], domain: str) -> str:
    """Distinct programs as Python, in sorted canonical order (the reference used set order)."""
    unique = sorted(set(programs))
    return "\n\n".join(
        f"Program {k}:\n{_indent(to_python(p, domain))}" for k, p in enumerate(unique, 1)
    )


def format_scored(scored: Iterable[tuple[str, float]], domain: str) -> str:
    """Distinct (program, score) pairs as Python, best score first."""
    best: dict[str, float] = {}
    for program, score in scored:
        best[program] = max(score, best.get(program, score))
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return "\n\n".join(
        f"Program {k} (average return {score:.4g}):\n{_indent(to_python(p, domain))}"
        for k, (p, score) in enumerate(ranked, 1)
    )


def render_revision(
    method: str,
    task: str | TaskPrompt,
    strategy: str = "pythonic_dsl",
    *,
    programs: Iterable[str] = (),
    scored_programs: Iterable[tuple[str, float]] = (),
    program: str | None = None,
    score: float | None = None,
    trace: str | None = None,
    n_programs: int = 1,
    examples: bool = False,
    constrained: bool = False,
) -> list[Message]:
    """Messages of a revision round (spec/benchmark.md §7.5).

    Args:
        method: One of :data:`REVISION_METHODS`.
        task: As for :func:`render_prompt`.
        strategy: As for :func:`render_prompt`.
        programs: ``regeneration``: the previous round's DSL programs.
        scored_programs: ``regeneration_with_reward``: (DSL program, average return) pairs.
        program: Trace methods: the DSL program that was traced.
        score: Trace methods: its average return.
        trace: Trace methods: the text from :func:`agent.revision_feedback.format_trace`.
        n_programs: Programs asked for.
        examples: As for :func:`render_prompt`.
        constrained: As for :func:`render_prompt`.

    Raises:
        ConfigError: Unknown method or strategy, or the method's inputs are missing.
    """
    if method not in REVISION_METHODS:
        raise ConfigError(
            f"unknown revision method {method!r}; choose one of {', '.join(REVISION_METHODS)}"
        )
    _check(strategy)
    info = task_prompt(task)
    values: dict[str, str] = dict(_user_parts(info, strategy, n_programs, constrained))
    if method == "regeneration":
        values["programs"] = format_programs(programs, info.domain)
    elif method == "regeneration_with_reward":
        values["scored_programs"] = format_scored(scored_programs, info.domain)
    else:
        if program is None or score is None or trace is None:
            raise ConfigError(f"revision method {method!r} needs program, score and trace")
        values.update(
            program=to_python(program, info.domain).rstrip("\n"), score=f"{score:.4g}", trace=trace
        )
    if method.startswith("regeneration") and not values.get(
        "programs", values.get("scored_programs")
    ):
        raise ConfigError(f"revision method {method!r} needs at least one previous program")
    system = _system(info, strategy, examples, constrained)
    user = fill(f"revision/{method}.txt", values)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
