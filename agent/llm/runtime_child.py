"""Entry point of the embedded model's server process (standard library only, run by path).

``python -P runtime_child.py --parent PID [--pdeathsig] [--script FILE] -- SERVER ARGS`` makes
sure the server never outlives llmgs, then runs ``llama_cpp.server`` (or ``FILE``, a stand-in
runtime for tests or a user's own server) in this same process, so that a crash in native code
ends this process with its signal, where the parent reads it from the exit status.

It is run by path with ``-P`` (no script folder on ``sys.path``: this folder holds a ``types``
module) and may run under another interpreter than llmgs (``LLMGS_RUNTIME_PYTHON``), so it
imports nothing from llmgs.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import runpy
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5


def _die_with_parent(parent: int, pdeathsig: bool) -> None:
    """Exit as soon as the llmgs process that started us is gone (even if it was killed)."""
    if pdeathsig:
        # Immediate, but tied to the parent's *thread* that started us: only asked for when
        # that was the main thread. The polling thread below covers every other case.
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # not Linux: the polling thread alone does the job

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(_POLL_S)

    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=watch, name="llmgs-parent-watch", daemon=True).start()


def _scrub_server_environment() -> None:
    """Drop variables the server would read as its own settings (``PORT``, ``API_KEY``, ...).

    llama_cpp.server takes every setting it is not given on the command line from an
    environment variable of the same name, and ``HOST``/``PORT`` even override the command
    line: a ``PORT`` or ``API_KEY`` meant for something else must not move or lock our server.
    """
    from llama_cpp.server.settings import ConfigFileSettings, Settings

    names = {
        "host",
        "port",
        "config_file",
        *Settings.model_fields,
        *ConfigFileSettings.model_fields,
    }
    for key in list(os.environ):
        if key.lower() in names:
            del os.environ[key]


def main() -> None:
    """Parse our own arguments, then hand the rest to the server as its ``sys.argv``."""
    parser = argparse.ArgumentParser(prog="runtime_child")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--pdeathsig", action="store_true")
    parser.add_argument("--script", default=None)
    parser.add_argument("server_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    server_args = args.server_args[1:] if args.server_args[:1] == ["--"] else args.server_args
    _die_with_parent(args.parent, args.pdeathsig)
    # A crash of a process holding a 1 GB model would otherwise leave a 1 GB core file behind.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.script:
        sys.argv = [args.script, *server_args]
        runpy.run_path(args.script, run_name="__main__")
    else:
        _scrub_server_environment()
        sys.argv = ["llama_cpp.server", *server_args]
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
