"""Test helpers that start a command in its own process group and wait on events, not time.

Linux only (they read /proc). Every wait polls a condition up to a generous deadline, so a
heavily loaded machine makes a test slower, never wrong.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Generous: a loaded machine may take a minute to import and start a search.
START_DEADLINE_S = 300.0


def start_group(
    command: Sequence[str], stdout: Path, stderr: Path, *, sigint: int = signal.SIG_DFL
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new process group (as a terminal job is).

    Args:
        command: The command line.
        stdout: File that receives its standard output.
        stderr: File that receives its standard error.
        sigint: The SIGINT disposition it inherits: ``SIG_IGN`` is what a script's
            background job (``cmd &`` without job control) gets.
    """
    with stdout.open("wb") as out, stderr.open("wb") as err:
        return subprocess.Popen(
            list(command),
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
        )


def group_members(pgid: int) -> list[int]:
    """Process ids of the live (not zombie) processes of process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        state, _ppid, group = text.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_until(
    condition: Callable[[], bool],
    deadline_s: float,
    what: str,
    running: subprocess.Popen[bytes] | None = None,
) -> float:
    """Poll ``condition`` until it holds; returns the seconds it took.

    Args:
        condition: What to wait for.
        deadline_s: How long to wait at most.
        what: Says what failed, in the error.
        running: A process that must not end while we wait (its end fails at once).

    Raises:
        AssertionError: It did not hold within ``deadline_s`` seconds, or ``running`` ended.
    """
    started = time.monotonic()
    while not condition():
        if running is not None and running.poll() is not None:
            raise AssertionError(f"{what}: the command ended (exit code {running.returncode})")
        if time.monotonic() - started > deadline_s:
            raise AssertionError(f"{what}: not within {deadline_s:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def text_of(path: Path) -> str:
    """The file's text, or "" while it does not exist yet."""
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Never leave a search running: SIGKILL whatever is left of the group, reap the leader."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in group_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def ctrl_c_once_workers_run(
    proc: subprocess.Popen[bytes], started: Callable[[], bool], what: str, workers: int = 2
) -> None:
    """Wait for ``started`` and the workers, send SIGINT to the group, wait until all are gone.

    Args:
        proc: The group's leader (from :func:`start_group`).
        started: True once the command said it started.
        what: The failure message if it never does.
        workers: Worker processes to wait for beside the leader.
    """
    wait_until(started, START_DEADLINE_S, what, proc)
    wait_until(lambda: len(group_members(proc.pid)) >= 1 + workers, START_DEADLINE_S,
               f"the {workers} workers never started", proc)  # fmt: skip
    os.killpg(proc.pid, signal.SIGINT)
    wait_until(lambda: proc.poll() is not None and not group_members(proc.pid), 30,
               "processes left running after Ctrl-C")  # fmt: skip
