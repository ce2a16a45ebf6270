"""``check_task``: does a task keep the Task contract? (Gymnasium's ``check_env`` for llmgs.)

The tests run it over every registered task; a user who registers a task of their own runs it
once on it::

    import envs
    envs.register(envs.TaskSpec("karel/MyTask", "karel", "...", factory=my_factory))
    envs.check_task("karel/MyTask")   # raises TaskContractError naming the broken rule

(docs/tasks.md; ``docs/examples/corridor_task.py`` is a complete user task that passes.)

The probe programs are built from the domain's grammar (every action, a loop on a perception,
a branch), so no task is named here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from envs.dsl.grammar import GRAMMARS, grammar
from envs.errors import ConfigError, DSLSyntaxError, TaskContractError
from envs.task import Task, mean_return

_BROKEN = "DEF run m( "


def probe_programs(domain: str) -> list[str]:
    """Three programs of ``domain`` that use every action, a loop and a branch on a perception.

    Raises:
        ConfigError: Unknown domain.
    """
    g = grammar(domain)
    actions = list(g.actions)
    conditions = []
    for name in list(g.perceptions)[:2]:
        values = g.perception_args.get(name)
        conditions.append(f"{name} h( {values[0]} h)" if values else name)
    first, second = actions[0], actions[1 % len(actions)]
    return [
        f"DEF run m( {' '.join(actions)} m)",
        f"DEF run m( REPEAT R=5 r( WHILE c( {conditions[0]} c) w( {first} w) {second} r) m)",
        f"DEF run m( IFELSE c( not c( {conditions[-1]} c) c) i( {actions[-1]} i) "
        f"ELSE e( {first} e) {second} m)",
    ]


def check_task(
    task: Task | str,
    programs: Sequence[str] | None = None,
    *,
    n: int = 3,
    seed: int = 5,
) -> None:
    """Check that a task keeps the Task contract; raise on the first rule it breaks.

    With a :class:`Task`, it checks the object: its attributes (id ``domain/Name``, a
    description, ``n`` >= 1, ``seed`` >= 0), that ``returns`` gives n finite floats and is
    repeatable, that ``evaluate`` is their benchmark mean (:func:`envs.task.mean_return`),
    that ``rollout`` of every instance, with or without a trace, returns the same, that a
    program that does not parse raises ``DSLSyntaxError`` and an instance out of range
    ``ConfigError``. With a registry id, it also builds the task twice with ``n`` and ``seed``
    and checks that both builds agree, that the factory honours n and seed, and that instance
    i is the task built with ``seed + i`` (every rollout step identical).

    Args:
        task: The task, or its registry id.
        programs: DSL programs to probe with; None for :func:`probe_programs` of its domain.
        n: Instances per build (registry id only).
        seed: Seed of instance 0 (registry id only).

    Raises:
        TaskContractError: A rule is broken; the message names it and the program.
        ConfigError: No programs given for a domain without a grammar.
        TaskNotFound: Unknown registry id.
    """
    built = _build(task, n, seed) if isinstance(task, str) else task
    _check_attributes(built)
    if programs is None:
        if built.domain not in GRAMMARS:
            raise ConfigError(f"domain {built.domain!r} has no grammar: pass programs=")
        programs = probe_programs(built.domain)
    for program in programs:
        _check_scoring(built, program)
    _check_errors(built, programs[0] if programs else "")
    if isinstance(task, str):
        _check_builds(task, built, programs, n, seed)


def _fail(task: Task, rule: str, program: str | None = None) -> TaskContractError:
    where = f" (program {program!r})" if program is not None else ""
    return TaskContractError(f"{getattr(task, 'id', task)!r}: {rule}{where}")


def _build(task_id: str, n: int, seed: int) -> Task:
    import envs  # the registry sits above this module

    task = envs.make(task_id, n=n, seed=seed)
    if not isinstance(task, Task):
        raise TaskContractError(f"{task_id!r}: the factory returned {type(task).__name__}")
    if task.id != envs.info(task_id).id:
        raise _fail(task, f"id must be its registry id {envs.info(task_id).id!r}")
    if task.n != n or task.seed != seed:
        raise _fail(task, f"built with n={n}, seed={seed} it says n={task.n}, seed={task.seed}")
    return task


def _check_attributes(task: Task) -> None:
    domain, _, name = str(getattr(task, "id", "")).partition("/")
    if not name or domain != getattr(task, "domain", None):
        raise _fail(task, f"id must be '<domain>/<Name>' with domain {task.domain!r}")
    if not isinstance(task.description, str) or not task.description.strip():
        raise _fail(task, "has no description")
    if not isinstance(task.n, int) or task.n < 1:
        raise _fail(task, f"n must be an int >= 1, got {task.n!r}")
    if not isinstance(task.seed, int) or task.seed < 0:
        raise _fail(task, f"seed must be an int >= 0, got {task.seed!r}")


def _check_scoring(task: Task, program: str) -> None:
    returns = task.returns(program)
    if len(returns) != task.n:
        raise _fail(task, f"returns gave {len(returns)} values for n={task.n}", program)
    if not all(isinstance(r, float) and math.isfinite(r) for r in returns):
        raise _fail(task, f"returns must be finite floats, got {returns!r}", program)
    if task.returns(program) != returns:
        raise _fail(task, "returns differ between two calls (hidden state?)", program)
    if task.evaluate(program) != mean_return(returns, task.n):
        raise _fail(task, "evaluate is not the benchmark mean of returns", program)
    for instance, expected in enumerate(returns):
        plain = task.rollout(program, instance, trace=False)
        traced = task.rollout(program, instance, trace=True)
        if plain.instance != instance or plain.total_return != expected:
            raise _fail(task, f"rollout of instance {instance} disagrees with returns", program)
        if (traced.total_return, traced.calls) != (plain.total_return, plain.calls):
            raise _fail(task, f"a traced rollout of instance {instance} differs", program)
        if plain.steps or (traced.steps and traced.steps[-1].calls != traced.calls):
            raise _fail(task, f"the trace of instance {instance} is inconsistent", program)


def _check_errors(task: Task, program: str) -> None:
    try:
        task.returns(_BROKEN)
    except DSLSyntaxError:
        pass
    else:
        raise _fail(task, "a program that does not parse must raise DSLSyntaxError", _BROKEN)
    try:
        task.rollout(program, task.n, trace=False)
    except ConfigError:
        pass
    else:
        raise _fail(task, f"rollout of instance n={task.n} must raise ConfigError", program)


def _check_builds(task_id: str, built: Task, programs: Sequence[str], n: int, seed: int) -> None:
    again = _build(task_id, n, seed)
    for program in programs:
        if again.returns(program) != built.returns(program):
            raise _fail(built, "two builds with the same n and seed score differently", program)
        for instance in range(n):
            alone = _build(task_id, 1, seed + instance).rollout(program, 0)
            inside = built.rollout(program, instance)
            if dataclasses.replace(alone, instance=instance) != inside:
                raise _fail(built, f"instance {instance} is not the task seeded {seed + instance}")
