"""``llmgs solve``: human output on stdout, progress on stderr, ``--json`` prints only JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import build_parser, main


def test_json_prints_only_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["solve", "pick up the key and open the door", "--model", "none",
                 "--budget", "150", "--instances", "4", "--no-save", "--json"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0
    data = json.loads(out.out)
    assert data["task"] == "karel/DoorKey" and data["evaluations"] <= 150
    assert set(data) >= {"program", "reward", "unique_evaluations", "llm"}
    assert "task: karel/DoorKey" in out.err  # progress still went to stderr


def test_human_output_has_the_final_block_and_saves_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["solve", "--task", "karel/Harvester", "--model", "none", "--budget", "100",
                 "--instances", "4", "--runs-dir", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    for label in ("task:", "return:", "program (DSL):", "program (Python):", "evaluations:",
                  "llm:", "saved:"):  # fmt: skip
        assert label in out
    assert len(list(tmp_path.glob("*-Harvester/result.json"))) == 1


def test_instances_whose_return_rounds_below_one_count_as_solved(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # TopOff's rewards sum to 0.9999999999999998 on some instances of this solution: the
    # summary once said "return: 1 (...; 22 solved)".
    code = main(["solve", "--task", "karel/TopOff", "--model", "none", "--budget", "20000",
                 "--no-save", "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "return:      1 (re-evaluated on 32 instances; 32 solved)" in out


def test_unknown_task_is_an_error_exit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "make me a sandwich", "--model", "none", "--no-save"]) == 1
    assert "no task matches" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["solve", "open the door"], ["serve"], ["llm", "hi"]])
def test_every_model_command_spells_the_cache_options_the_same(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser()
    args = parser.parse_args([*command, "--cache", "replay", "--cache-dir", str(tmp_path)])
    assert args.cache == "replay" and args.cache_dir == tmp_path
    for wrong in (["--cache", "maybe"], ["--no-cache"], ["--replay"]):  # the old spelling too
        with pytest.raises(SystemExit):
            parser.parse_args([*command, *wrong])
    assert "--cache" in capsys.readouterr().err


def test_llm_command_hands_the_cache_options_to_the_gateway(tmp_path: Path) -> None:
    from agent.commands.llm import config_from_args

    args = build_parser().parse_args(["llm", "hi", "--cache", "off", "--cache-dir", str(tmp_path)])
    config = config_from_args(args)
    assert config.cache == "off" and config.cache_dir == tmp_path
    assert config_from_args(build_parser().parse_args(["llm", "hi"])).cache == "on"


def test_quiet_prints_no_progress_even_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # solve() prints progress by itself when stderr is a terminal and no printer is given;
    # --quiet once left it doing so.
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["solve", "play snake", "--model", "none", "--budget", "50", "--no-save",
                 "--quiet"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == "" and "return:" in captured.out
