"""Damaged or unusable local state (issue 17, items 7 and 8).

A finished result always reaches the user: side files (events, GIF, result.json) are best
effort with a warning. State that cannot be used (a cache.db that is not a database, a runs
folder that is a file or read-only, a truncated checkpoint) ends in ``llmgs ...: error:``
naming the path and what to do, and nothing else is lost or changed.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.llm.cache import CompletionCache
from agent.pipeline.rundir import RunDir
from envs.errors import ConfigError

SOLVE = ["solve", "--task", "karel/Harvester", "--model", "none", "--budget", "40", "--quiet"]
NOT_A_DATABASE = b"this is not an SQLite database, just bytes\n" * 200


def _damaged_cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "cache.db").write_bytes(NOT_A_DATABASE)
    return folder


def _no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


# -- item 8: the completion cache ---------------------------------------------------------------
def test_a_cache_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    folder = _damaged_cache(tmp_path)
    with pytest.raises(ConfigError) as err:
        CompletionCache(folder)
    message = str(err.value)
    assert str(folder / "cache.db") in message
    assert "--cache off" in message and "--cache-dir" in message and "deleting" in message
    assert (folder / "cache.db").read_bytes() == NOT_A_DATABASE  # nothing was touched


@pytest.mark.parametrize(
    "argv",
    [
        ["llm", "hello", "--model", "openai/gpt-4o-mini"],
        [*SOLVE[:4], "openai/gpt-4o-mini", "--budget", "40", "--no-save", "--quiet"],
    ],
    ids=["llm", "solve"],
)
def test_cli_reports_a_damaged_cache(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = _damaged_cache(tmp_path)
    monkeypatch.setenv("LLMGS_CACHE_DIR", str(folder))
    # A key (never used: the damaged cache is found first), or solve refuses the model.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-000")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"llmgs {argv[0]}: error: the completion cache {folder}")
    assert "Traceback" not in err
    assert (folder / "cache.db").read_bytes() == NOT_A_DATABASE


def test_a_failed_cache_write_only_warns(tmp_path: Path, monkeypatch, capsys) -> None:
    from agent.llm.cache import CachedSample

    cache = CompletionCache(tmp_path / "cache")
    monkeypatch.setattr(cache._cache, "set", _no_space)
    cache.put("k", CachedSample("text", "stop", 1))
    cache.put("k2", CachedSample("text", "stop", 1))
    assert capsys.readouterr().err.count("warning: could not write to the completion cache") == 1
    cache.close()


# -- item 8: the runs folder --------------------------------------------------------------------
def test_a_runs_folder_that_is_a_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    runs.write_text("I am a file\n")
    assert main([*SOLVE, "--runs-dir", str(runs)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmgs solve: error: cannot create the run folder")
    assert str(runs) in err and "--runs-dir" in err and "--no-save" in err
    assert runs.read_text() == "I am a file\n"


def test_a_read_only_runs_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    runs = tmp_path / "runs"
    real_mkdir = Path.mkdir

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        if runs in (self, *self.parents):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main([*SOLVE, "--runs-dir", str(runs)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmgs solve: error: cannot create the run folder")
    assert "Read-only file system" in err and str(runs) in err


def test_cli_names_the_path_of_an_unexpected_os_error(monkeypatch, capsys) -> None:
    import agent.commands.tasks as tasks

    def broken(args: object) -> int:
        raise OSError(errno.EACCES, "Permission denied", "/somewhere/state.json")

    monkeypatch.setattr(tasks, "run", broken)
    assert main(["tasks"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmgs tasks: error: cannot use /somewhere/state.json: Permission")


# -- item 7: a finished result always reaches the user ------------------------------------------
def _only_run_dir(root: Path) -> Path:
    (run,) = [p for p in root.iterdir() if p.is_dir()]
    return run


def test_a_failed_gif_write_still_prints_and_saves_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import envs.karel.render as render

    monkeypatch.setattr(render, "save_gif", _no_space)
    assert main([*SOLVE, "--json", "--runs-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["task"] == "karel/Harvester" and result["program"]
    assert "warning: could not write" in err and "worst_instance.gif" in err
    run = _only_run_dir(tmp_path)
    assert json.loads((run / "result.json").read_text())["program"] == result["program"]
    assert not (run / "worst_instance.gif").exists()


def test_a_full_disk_loses_the_side_files_not_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real_write = Path.write_text

    def full(self: Path, *args: object, **kwargs: object) -> int:
        if self.parent.parent == tmp_path:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)
    assert main([*SOLVE, "--runs-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "program (DSL):" in out and "return:" in out
    for name in ("result.json", "best_program.dsl", "best_program.py"):
        assert f"{name}: No space left on device" in err


def test_a_failed_event_write_warns_once_and_stops_writing(tmp_path: Path) -> None:
    warnings: list[str] = []
    rundir = RunDir(tmp_path)
    rundir.warn = warnings.append
    rundir.open("karel/Harvester")

    class FullDisk:
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    assert rundir._log is not None
    rundir._log._file = FullDisk()  # type: ignore[assignment]
    for k in range(3):
        rundir({"event": "tick", "k": k})
    rundir.close()
    assert len(warnings) == 1 and "events.jsonl" in warnings[0]


# -- item 8: a damaged checkpoint ---------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpointed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("search") / "run"
    argv = ["search", "--task", "karel/Harvester", "--method", "shc", "--budget", "300", "--n", "4"]
    assert main([*argv, "--run-dir", str(run), "--checkpoint-every", "0", "--no-progress"]) == 0
    (run / "result.json").unlink()  # as if the run had been stopped before its end
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    copy.mkdir()
    for f in run.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    return copy


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_values(path: Path) -> None:
    import numpy as np

    with np.load(path) as arrays:
        keys = arrays["keys"]
    np.savez(path.with_suffix(""), keys=keys)  # np.savez adds the .npz


@pytest.mark.parametrize(
    ("name", "damage", "kind"),
    [
        ("checkpoint.json", _truncate, "JSONDecodeError"),
        ("checkpoint_cache.npz", _truncate, ""),
        ("checkpoint_cache.npz", _drop_values, "KeyError"),
    ],
)
def test_a_damaged_checkpoint_is_a_clear_error(
    checkpointed_run: Path, tmp_path: Path, capsys, name: str, damage, kind: str
) -> None:
    run = _copy(checkpointed_run, tmp_path)
    damage(run / name)
    before = {f.name: f.read_bytes() for f in run.iterdir() if f.name != "events.jsonl"}
    argv = ["search", "--task", "karel/Harvester", "--method", "shc", "--budget", "300", "--n", "4"]
    assert main([*argv, "--resume", str(run), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"llmgs search: error: the checkpoint in {run} cannot be read")
    assert kind in err and "--run-dir" in err and "Traceback" not in err
    after = {f.name: f.read_bytes() for f in run.iterdir() if f.name != "events.jsonl"}
    assert after == before


def test_a_full_disk_during_a_search_loses_side_files_not_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import search.checkpoint as checkpoint
    import search.progress as progress

    real_write = Path.write_text
    run = tmp_path / "run"

    def full(self: Path, *args: object, **kwargs: object) -> int:
        if self.parent == run:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    class FullLog(progress.EventLog):
        def __call__(self, event: dict) -> None:
            self._file = FullDisk()  # type: ignore[assignment]
            super().__call__(event)

    class FullDisk:
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(checkpoint, "save", _no_space)
    monkeypatch.setattr(Path, "write_text", full)
    monkeypatch.setattr("search.engine.EventLog", FullLog)
    argv = [
        "search",
        "--task",
        "karel/Harvester",
        "--method",
        "shc",
        "--budget",
        "200",
        "--n",
        "4",
        "--json",
    ]
    assert main([*argv, "--run-dir", str(run), "--checkpoint-every", "0", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert 0 < json.loads(out)["evaluations"] <= 200
    assert err.count("warning: could not write") == 3  # checkpoint (once), result, event log
    assert "checkpoint.json" in err and "result.json" in err and "events.jsonl" in err


def test_a_damaged_eval_index_is_a_clear_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "rows.jsonl").write_text("")
    (tmp_path / "results.sqlite").write_bytes(NOT_A_DATABASE)
    assert main(["eval", "report", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"llmgs eval: error: {tmp_path / 'results.sqlite'} is damaged")
    assert "delete it" in err and (tmp_path / "results.sqlite").read_bytes() == NOT_A_DATABASE
