"""The ``llmgs`` dispatcher: only the command being run is imported; --help lists them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("agent", "search", "envs", "evals", "prompts")

# Runs `llmgs ARGS` in a fresh interpreter and prints the project modules it imported.
_COUNT = f"""
import contextlib, io, json, sys
from agent.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {_PACKAGES!r})))
"""


def _imported(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _COUNT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        # As from a terminal: a suite started in the background of a script inherits SIGINT
        # ignored, and the CLI then imports search.executor to restore Ctrl-C (agent/cli.py).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_help_imports_no_command_module() -> None:
    # Before the commands were imported lazily, `llmgs --help` imported 77 project modules
    # (every command, the search, the gateway, the pipeline).
    modules = _imported("--help")
    assert modules == ["agent", "agent.cli", "agent.commands"]


def test_tasks_imports_only_the_task_registry() -> None:
    # Was 79 modules; now the dispatcher, the tasks command and envs (the registry and the
    # domains it lists).
    modules = _imported("tasks", "--json")
    assert "agent.commands.tasks" in modules
    assert not [m for m in modules if m.split(".")[0] in ("search", "evals")]
    assert not [m for m in modules if m.startswith(("agent.llm", "agent.pipeline"))]
    assert [m for m in modules if m.startswith("agent.commands.")] == ["agent.commands.tasks"]
    assert len(modules) <= 35


def test_help_lists_every_command_as_the_full_parser_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert build_parser([]).format_help() == build_parser().format_help()
    assert main([]) == 2
    listing = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n    {name} " in listing


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sovle", "open the door"])
    assert stop.value.code == 2 and "invalid choice: 'sovle'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["search", "--task", "karel/DoorKey"],
        ["solve", "--task", "karel/DoorKey", "--model", "none"],
    ],
)
def test_a_budget_below_one_is_refused_with_a_message(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # A zero budget would evaluate nothing and print a return of -inf and an empty program.
    assert main([*command, "--budget", "0"]) == 1
    assert "--budget must be at least 1 evaluation, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "said"),
    [(["--max-tokens", "0"], "--max-tokens must be >= 1"),
     (["--generation-s", "0"], "--generation-s must be > 0"),
     (["--samples", "0"], "--samples must be >= 1")],
)  # fmt: skip
def test_a_setting_s_error_names_the_flag_not_the_field(
    option: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", "play snake", "--model", "none", "--no-save", *option]) == 1
    err = capsys.readouterr().err
    assert f"llmgs solve: error: {said}" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["search", "solve"])
@pytest.mark.parametrize(
    ("text", "value"), [("1e6", 1_000_000), ("100_000", 100_000), ("2,500", 2500), ("300", 300)]
)
def test_a_budget_may_be_written_as_people_write_counts(
    command: str, text: str, value: int
) -> None:
    args = build_parser([command]).parse_args(
        [command, "--task", "karel/DoorKey", "--budget", text]
    )
    assert args.budget == value


@pytest.mark.parametrize("text", ["12.5", "lots", "inf", "1e400"])
def test_a_budget_that_is_not_a_whole_number_is_a_usage_error(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser(["search"]).parse_args(["search", "--task", "karel/DoorKey", "--budget", text])
    assert stop.value.code == 2
    assert "--budget" in capsys.readouterr().err


def test_search_prints_its_improvements_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In a log or a pipe there is no progress bar: each improvement is a line instead.
    assert main(["search", "--task", "karel/Harvester", "--budget", "3000", "--seed", "0"]) == 0
    captured = capsys.readouterr()
    assert "[search] best" in captured.err and "evaluations" in captured.err
    assert "[search]" not in captured.out  # the result alone goes to stdout
    assert main(["search", "--task", "karel/Harvester", "--budget", "300", "--no-progress"]) == 0
    assert "[search]" not in capsys.readouterr().err
    assert main(["search", "--task", "karel/Harvester", "--budget", "300", "--quiet"]) == 0
    assert "[search]" not in capsys.readouterr().err


def test_resuming_a_folder_that_does_not_exist_says_it_starts_anew(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "typo"
    assert (
        main(["search", "--task", "karel/Harvester", "--budget", "200", "--resume", str(folder)])
        == 0
    )
    assert f"nothing to resume in {folder}: starting a new run" in capsys.readouterr().err
    assert (
        main(["search", "--task", "karel/Harvester", "--budget", "200", "--resume", str(folder)])
        == 0
    )
    err = capsys.readouterr().err
    assert "nothing to resume" not in err
    # mosaic (the default) keeps no checkpoints: the second call says it starts again.
    assert "mosaic keeps no mid-run checkpoints" in err


def test_solve_takes_either_spelling_of_no_progress() -> None:
    for flag in ("--quiet", "--no-progress"):
        args = build_parser(["solve"]).parse_args(["solve", "--task", "karel/DoorKey", flag])
        assert args.quiet is True


def test_the_benchmarks_run_under_llmgs_eval_with_their_own_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["eval", "speed", "--tasks", "karel/Harvester", "--budget", "200", "--rounds", "1"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"] == "karel/Harvester"
    with pytest.raises(SystemExit) as stop:
        main(["eval", "efficiency", "--help"])
    assert stop.value.code == 0 and "--budget" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:  # other commands still refuse unknown options
        main(["search", "--task", "karel/DoorKey", "--no-such-option"])
    assert stop.value.code == 2


def test_a_command_parses_its_own_options() -> None:
    args = build_parser(["search"]).parse_args(["search", "--task", "karel/DoorKey"])
    assert args.command == "search" and args.task == "karel/DoorKey" and args.method == "mosaic"


def test_a_reader_that_went_away_ends_the_command_quietly() -> None:
    # `llmgs eval list | head -1`: the pipe's reader is gone before the listing is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "eval", "list"],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == ""
