"""The ``llmgs`` command line: a thin dispatcher over one module per subcommand.

Each subcommand lives in ``agent/commands/<name>.py`` and exposes ``register(subparsers)``
(adds its parser, with ``--help`` text) and ``run(args) -> int``. Modules are imported lazily
so that ``llmgs tasks`` does not pay for importing litellm or numba.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from envs.errors import LlmgsError

# Order is the order shown in --help.
COMMANDS: tuple[str, ...] = (
    "solve",
    "tasks",
    "render",
    "bench",
    "search",
    "llm",
    "models",
    "eval",
    "serve",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="llmgs",
        description=(
            "Turn a task described in plain words into a programmatic policy: a short program in "
            "the Karel or Minigrid DSL, proposed by a language model and improved by search."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"agent.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``llmgs`` script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(f"agent.commands.{args.command}")
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started in the background by a script: make Ctrl-C stop us all the same. Imported
        # only then, so that quick commands do not pay for importing the search package.
        from search.executor import stop_on_ctrl_c

        stop_on_ctrl_c()
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except LlmgsError as exc:
        print(f"llmgs {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # Local state the commands did not anticipate (a folder that is a file, read-only, a
        # full disk): say which path and what to check instead of a traceback.
        print(f"llmgs {args.command}: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1


def describe_os_error(exc: OSError) -> str:
    """One line naming the path an OSError is about and what to check."""
    where = f" {exc.filename}" if exc.filename is not None else ""
    return (
        f"cannot use{where}: {exc.strerror or exc}; check that the path exists, is a folder "
        "where one is expected, is writable, and that the disk has space (or choose another "
        "path)"
    )


if __name__ == "__main__":
    sys.exit(main())
