"""``llmgs render PROGRAM --task karel/DoorKey``: run one episode and draw it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent.commands import SUMMARIES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``render`` subcommand."""
    parser = subparsers.add_parser(
        "render",
        help=SUMMARIES["render"],
        description="Run PROGRAM (DSL text, or @FILE) for one episode on one instance of a "
        "task; print the start state (when the task draws it as text) and the return, and "
        "optionally save a PNG of the start state and an animated GIF of the episode.",
    )
    parser.add_argument("program", help="DSL program text, or @path to a file holding it")
    parser.add_argument("--task", required=True, help="task id, e.g. karel/DoorKey")
    parser.add_argument("--instance", type=int, default=0, help="instance index (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="seed of instance 0 (default 0)")
    parser.add_argument("--png", type=Path, default=None, help="save the start state here")
    parser.add_argument("--gif", type=Path, default=None, help="save the episode animation here")
    parser.add_argument("--cell", type=int, default=32, help="pixels per cell (default 32)")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")


def _draw(task: Any, text: str, args: argparse.Namespace) -> tuple[str | None, dict[str, str]]:
    """The start state as text (None when the task draws only images) and the files written."""
    from envs.errors import ConfigError

    saved: dict[str, str] = {}
    if args.png is not None:
        written = task.render_start(args.png, args.instance, cell=args.cell)
        if written is None:
            raise ConfigError(f"{task.id} cannot draw its start state")
        saved["png"] = str(written)
    if args.gif is not None:
        written = task.render_episode(text, args.gif, args.instance, cell=args.cell)
        if written is None:
            raise ConfigError(f"{task.id} cannot draw its episodes")
        saved["gif"] = str(written)
    return task.render_text(args.instance), saved


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs render``; returns the exit code.

    Raises:
        ConfigError: A negative ``--instance``, a file path given without ``@``, or a task
            that cannot draw what was asked.
        DSLSyntaxError: The program does not parse.
        TaskNotFound: Unknown task id.
        OSError: ``@FILE`` cannot be read or an output file cannot be written.
    """
    import envs
    from envs.errors import ConfigError

    text = args.program
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    elif not text.lstrip().startswith("DEF") and Path(text).is_file():
        raise ConfigError(f"{text} is a file: pass @{text} to read the program from it")
    if args.instance < 0:
        raise ConfigError(f"--instance must be >= 0, got {args.instance}")
    # The spec's options for single episodes (Karel: the python engine, which compiles nothing).
    options = envs.info(args.task).episode_options
    task = envs.make(args.task, n=args.instance + 1, seed=args.seed, **options)
    rollout = task.rollout(text, args.instance, trace=False)
    start, saved = _draw(task, text, args)
    if args.json:
        record = {
            "task": task.id,
            "instance": args.instance,
            "seed": args.seed + args.instance,
            "start": start,
            "return": rollout.total_return,
            "terminated": rollout.terminated,
            "crashed": rollout.crashed,
            "calls": rollout.calls,
            "saved": saved,
        }
        print(json.dumps(record, indent=2))
        return 0
    print(f"{task.id} instance {args.instance} (seed {args.seed + args.instance})")
    if start is not None:
        print(start)
    status = "terminated" if rollout.terminated else "crashed" if rollout.crashed else "ended"
    print(f"return {rollout.total_return!r} ({status}, {rollout.calls} calls)")
    for kind, path in saved.items():
        print(f"saved {kind}: {path}")
    return 0
