"""The ``llmgs`` command line: a thin dispatcher over one module per subcommand.

Each subcommand lives in ``agent/commands/<name>.py`` and exposes ``register(subparsers)``
(adds its parser, with ``--help`` text) and ``run(args) -> int``. Only the module of the command
being run is imported: ``llmgs --help`` lists the commands from
:data:`agent.commands.SUMMARIES` alone, so it and ``llmgs tasks`` do not pay for importing
litellm, numba or the search.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import signal
import sys
from collections.abc import Iterable, Sequence

from agent.commands import SUMMARIES

# Order is the order shown in --help.
COMMANDS: tuple[str, ...] = tuple(SUMMARIES)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """Build the ``llmgs`` argument parser.

    Args:
        commands: The subcommands whose modules are imported and whose full parsers are
            built; the others are listed by their summary only. None: every command.

    Returns:
        The parser; ``llmgs --help`` reads the same whichever commands were built.
    """
    full = set(COMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(
        prog="llmgs",
        description=(
            "Turn a task described in plain words into a programmatic policy: a short program in "
            "the Karel or Minigrid DSL, proposed by a language model and improved by search."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if name in full:
            importlib.import_module(f"agent.commands.{name}").register(sub)
        else:
            sub.add_parser(name, help=SUMMARIES[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llmgs`` script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The command is the first argument (the top level has no option that takes a value).
    parser = build_parser([argv[0]] if argv and argv[0] in SUMMARIES else [])
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_options", False):
        parser.parse_args(argv)  # argparse's own error for the unknown arguments (exit 2)
    args.extra = extra  # the options of a command that parses its own (llmgs eval efficiency)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(f"agent.commands.{args.command}")
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started in the background by a script: make Ctrl-C stop us all the same. Imported
        # only then, so that quick commands do not pay for importing the search package.
        from search.executor import stop_on_ctrl_c

        stop_on_ctrl_c()
    from envs.errors import LlmgsError  # only now: --help needs no environment

    try:
        code = int(module.run(args) or 0)
        sys.stdout.flush()  # here, so that a reader that went away is handled below
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if not _reader_gone():
            print(f"llmgs {args.command}: error: {describe_os_error(exc)}", file=sys.stderr)
            return 1
        # The reader stopped reading (`llmgs eval list | head -1`): stop quietly, as Unix
        # tools do, with nothing left to flush into the closed pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool that SIGPIPE ended
    except LlmgsError as exc:
        from agent.commands.options import FLAGS_DEST, in_flags

        message = in_flags(str(exc), getattr(args, FLAGS_DEST, None) or {})
        print(f"llmgs {args.command}: error: {message}", file=sys.stderr)
        return 1
    except OSError as exc:
        # Local state the commands did not anticipate (a folder that is a file, read-only, a
        # full disk): say which path and what to check instead of a traceback.
        print(f"llmgs {args.command}: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end was closed (not another pipe)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() here, or no real stdout
        return False


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
