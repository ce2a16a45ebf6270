"""Execution-trace feedback for the revision prompts (spec/benchmark.md §7.5).

:func:`format_trace` renders an :class:`envs.task.Rollout` as the text the
``execution_trace`` and ``program_execution_trace`` templates embed: the initial world, then
each executed action or perception with its result, the agent's position and any reward, and,
when asked, the Python line being executed (tagged ``# Currently executing this line``). The
reference's version of this feature crashes; this one is driven by the rollout's pre-order
locations and the printer's location -> line map, so the tag is always on the right line.
"""

from __future__ import annotations

from agent.conversion.to_python import to_python_with_lines  # noqa: I001
from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.task import Rollout, TraceStep

TAG = "# Currently executing this line"
DEFAULT_MAX_STEPS = 49


def _call_text(step: TraceStep) -> str:
    # Trace names are DSL tokens ("front_object_type h( lava h)"); show them as Python calls.
    parts = step.name.split()
    if len(parts) == 4 and parts[1] == "h(":
        return f'{parts[0]}("{parts[2]}")'
    return f"{step.name}()"


def step_line(k: int, step: TraceStep) -> str:
    """One trace step as feedback text: the call, a perception's result, position, reward."""
    text = f"step {k}: {_call_text(step)}"
    if step.kind == "perception":
        text += f" -> {step.result}"
    text += f" | agent at {tuple(step.position)} facing {step.facing}"
    if step.reward:
        text += f" | reward {step.reward:+.4g}"
    return text


def ending(rollout: Rollout) -> str:
    """How an episode ended, in words."""
    if rollout.terminated:
        return "the task ended the episode"
    if rollout.crashed:
        return "the episode was stopped (a loop repeated a state or the call budget ran out)"
    return "the program finished"


def format_trace(
    rollout: Rollout,
    program: Program | str,
    world_text: str,
    domain: str = "karel",
    with_program_lines: bool = False,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    full_program: bool = False,
) -> str:
    """Render a rollout as revision feedback.

    Args:
        rollout: The episode, recorded with ``trace=True``.
        program: The program that produced it (Program or DSL text).
        world_text: The initial state, already rendered by the environment.
        domain: ``"karel"`` or ``"minigrid"``.
        with_program_lines: Show, at each step, the Python line being executed, tagged
            ``# Currently executing this line``.
        max_steps: Steps shown (the reference shows 49); the rest are summarised.
        full_program: With ``with_program_lines``, print the whole program at each step
            (the reference's layout) instead of only the tagged line.

    Returns:
        The feedback text.
    """
    prog = ensure_program(program, domain)
    rendering = to_python_with_lines(prog, domain)
    code_lines = rendering.text.splitlines()
    out = ["Initial state:", world_text.rstrip("\n"), ""]
    if with_program_lines:
        out += ["Program with line numbers:"]
        out += [f"{n:3d} | {line}" for n, line in enumerate(code_lines, 1)]
        out.append("")
    shown = rollout.steps[:max_steps]
    out.append(f"Trace ({len(shown)} of {len(rollout.steps)} steps shown):")
    for k, step in enumerate(shown, 1):
        out.append(step_line(k, step))
        line_no = rendering.lines.get(step.location)
        if not with_program_lines or line_no is None:
            continue
        if full_program:
            out += [
                f"    {line}  {TAG}" if n == line_no else f"    {line}"
                for n, line in enumerate(code_lines, 1)
            ]
        else:
            out.append(f"    line {line_no}: {code_lines[line_no - 1].strip()}  {TAG}")
    if len(rollout.steps) > len(shown):
        out.append(f"... {len(rollout.steps) - len(shown)} more steps")
    out.append(
        f"Total return: {rollout.total_return:.4g} after {rollout.calls} actions and "
        f"perceptions; {ending(rollout)}."
    )
    return "\n".join(out)
