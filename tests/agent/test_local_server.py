"""The embedded model's server process, driven by a stand-in runtime that crashes on purpose.

``fixtures/fake_llama_server.py`` takes the place of ``llama_cpp.server`` (``LLMGS_LOCAL_SERVER``)
so that these tests need neither the weights nor llama.cpp and run in seconds: they prove that a
crash of the runtime becomes a clear ``RuntimeCrashed``, that ``solve()`` and ``llmgs solve``
survive it with a warning and a saved result, that ``llmgs models`` reports the signal, and
that the server never outlives its parent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import solve
from agent.commands import models
from agent.llm import Gateway, LLMConfig, SamplingSettings, bench, local_server
from agent.llm.gateway import import_litellm
from agent.llm.local_server import RuntimeCrashed

FAKE = Path(__file__).parent / "fixtures" / "fake_llama_server.py"
MODEL = "local/fake-model"
PROMPT = [{"role": "user", "content": "Write a Karel program."}]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> Iterator[Path]:
    """The stand-in runtime, a dummy GGUF file, logs and runs under tmp_path; yields the record."""
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF not a real model")
    record = tmp_path / "requests.jsonl"
    monkeypatch.setenv(local_server.SERVER_SCRIPT_ENV, str(FAKE))
    monkeypatch.setenv("LLMGS_GGUF", str(gguf))
    monkeypatch.setenv(local_server.LOG_DIR_ENV, str(tmp_path / "logs"))
    monkeypatch.setenv("LLMGS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FAKE_LLAMA_RECORD", str(record))
    monkeypatch.setenv("FAKE_LLAMA_MODE", "ok")
    monkeypatch.setenv("LLMGS_THREADS", "1")
    yield record
    local_server.stop_all()


def _requests(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_local_model_is_reached_as_an_openai_server(fake_runtime: Path) -> None:
    gateway = Gateway(LLMConfig(model=MODEL), show_progress=False)
    out = gateway.complete(PROMPT, SamplingSettings(n=2, seed=5, max_tokens=32))
    assert len(out.items) == 2 and all("def run" in t for t in out.texts)
    assert out.usage.calls == 2 and out.usage.completion_tokens > 0
    sent = _requests(fake_runtime)
    # The server answers one sample per request: the gateway asks again, seed + i for sample i.
    assert [r["seed"] for r in sent] == [5, 6]
    assert all(r["model"] == "fake-model" and r["repeat_penalty"] == 1.0 for r in sent)
    again = gateway.complete(PROMPT, SamplingSettings(n=2, seed=5, max_tokens=32))
    assert all(c.cached for c in again.items) and len(_requests(fake_runtime)) == 2


def test_progress_reports_prompt_and_generation_speed_apart(
    fake_runtime: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = Gateway(LLMConfig(model=MODEL), show_progress=True)
    gateway.complete(PROMPT, SamplingSettings(max_tokens=8, seed=0))
    err = capsys.readouterr().err
    assert "in a llama.cpp server process" in err and "loaded in" in err
    # The fake's timing block: 1.5 s in all, 0.5 s of it generating 8 tokens (its words).
    assert (
        "llama.cpp: prompt 4 tokens in 1.0 s (4.0 tok/s), 8 more tokens generated in 0.5 s (16"
        in err
    )


def test_quiet_solve_prints_none_of_the_runtime_s_lines(
    fake_runtime: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main

    argv = ["solve", "--task", "karel/Harvester", "--model", MODEL, "--samples", "1",
            "--budget", "30", "--instances", "2", "--no-save", "--cache", "off"]  # fmt: skip
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    local_server.stop_all()  # the next run loads it again
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "in a llama.cpp server process" in err and "llama.cpp: prompt" in err


def _gguf() -> Path:
    return Path(os.environ["LLMGS_GGUF"])


def test_server_is_started_once_and_measured_by_streaming(fake_runtime: Path) -> None:
    start = dict(gguf=_gguf(), n_ctx=1024, n_threads=1, show_progress=False)
    server = local_server.ensure(MODEL, **start)
    assert local_server.ensure(MODEL, **start) is server
    assert server.api_base.startswith("http://127.0.0.1:") and server.alive()
    speed = bench.measure(server, PROMPT, 8)
    assert "def run" in speed.text and speed.generated_tokens > 5
    assert speed.prompt_tokens == 4  # the fake counts words
    assert speed.prompt_tok_s is not None and speed.gen_tok_s is not None
    assert server.log_path is not None and server.log_path.is_file()
    server.stop()
    assert not server.alive() and not server.log_path.exists()  # a clean run leaves no log


def test_grammar_is_passed_to_the_server_in_the_body(fake_runtime: Path) -> None:
    litellm = import_litellm()
    kwargs = {
        "model": MODEL,
        "messages": PROMPT,
        "max_tokens": 8,
        "extra_body": {"grammar": 'root ::= "move()"'},
        "llmgs_gguf": str(_gguf()),
        "llmgs_progress": False,
    }
    response = local_server.completion(litellm, kwargs)
    assert response.choices[0].message.content
    assert _requests(fake_runtime)[-1]["grammar"] == 'root ::= "move()"'


def test_crash_while_generating_is_a_clear_error_not_retried(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash")
    sleeps: list[float] = []
    gateway = Gateway(LLMConfig(model=MODEL), sleep=sleeps.append, show_progress=False)
    with pytest.raises(RuntimeCrashed) as info:
        gateway.complete(PROMPT, SamplingSettings(max_tokens=8))
    message = str(info.value)
    assert "crashed with SIGSEGV (signal 11) while generating" in message
    assert "./install.sh" in message and "--model none" in message
    assert info.value.signal == signal.SIGSEGV and not info.value.retryable
    assert sleeps == [] and len(_requests(fake_runtime)) == 1
    assert info.value.log_path is not None and info.value.log_path.is_file()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("crash_at_load", "crashed with SIGSEGV (signal 11) while loading the model"),
        (
            "exit_at_load",
            "exited with code 1 while loading the model (local/fake-model): error: fake",
        ),
    ],
)
def test_a_server_that_fails_to_start_says_why(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch, mode: str, expected: str
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", mode)
    with pytest.raises(RuntimeCrashed, match=re.escape(expected)):
        Gateway(LLMConfig(model=MODEL), show_progress=False).complete(PROMPT, SamplingSettings())


def test_a_server_that_never_answers_is_stopped_at_the_start_timeout(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "hang_at_load")
    monkeypatch.setenv(local_server.START_TIMEOUT_ENV, "1")
    with pytest.raises(RuntimeCrashed, match="did not answer within 1 s") as info:
        local_server.ensure(MODEL, gguf=_gguf(), show_progress=False)
    assert info.value.log_path is not None and info.value.log_path.is_file()  # kept to read


def _events(run_dir: str) -> list[dict]:
    lines = (Path(run_dir) / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_solve_survives_a_crash_warns_and_saves_why(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash")
    result = solve("climb the stairs", task="karel/StairClimber", model=MODEL, budget=300)
    assert result.program and result.search is not None  # pure search ran instead
    assert len(result.warnings) == 1 and "SIGSEGV (signal 11)" in result.warnings[0]
    assert "pure search" in result.warnings[0]
    assert "warning: the model failed" in capsys.readouterr().err
    saved = json.loads((Path(result.run_dir or "") / "result.json").read_text())
    assert saved["warnings"] == list(result.warnings)
    warnings = [e for e in _events(result.run_dir or "") if e["event"] == "warning"]
    assert warnings and warnings[0]["kind"] == "llm_failed"


def test_solve_keeps_the_answers_accepted_before_the_crash(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash_after:2")
    result = solve(
        "climb the stairs", task="karel/StairClimber", model=MODEL, budget=300, progress=False
    )
    assert "search from the 1 accepted programs" in result.warnings[0]
    assert result.search is not None and result.search["seed_returns"]  # seeded by the answer
    assert result.llm.calls == 2


def test_cli_solve_ends_with_a_message_and_a_result_not_a_segfault(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash")
    cmd = [sys.executable, "-m", "agent.cli", "solve", "climb the stairs", "--model", MODEL]
    cmd += ["--task", "karel/StairClimber", "--budget", "300", "--runs-dir", str(tmp_path / "r")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "crashed with SIGSEGV (signal 11)" in done.stderr
    assert "Segmentation fault" not in done.stderr
    assert "program (DSL):" in done.stdout and "saved:" in done.stdout
    (run_dir,) = (tmp_path / "r").iterdir()
    assert "SIGSEGV" in json.loads((run_dir / "result.json").read_text())["warnings"][0]


def test_models_reports_a_crashing_runtime_with_its_signal(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash")
    row = models.probe_local(MODEL, max_tokens=4, gguf=_gguf())
    assert row.probe == "crashed" and row.signal == signal.SIGSEGV and not row.ready
    assert "SIGSEGV" in row.status
    monkeypatch.setenv("FAKE_LLAMA_MODE", "ok")
    ok = models.probe_local(MODEL, max_tokens=4, gguf=_gguf())
    assert ok.probe == "ok" and ok.ready and ok.load_s is not None
    assert ok.prompt_tok_s is not None and ok.gen_tok_s is not None


def test_cli_models_exit_code_and_json_show_the_crash(
    fake_runtime: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main
    from agent.llm import local_model

    monkeypatch.setenv("FAKE_LLAMA_MODE", "crash")
    monkeypatch.setattr(local_model, "LOCAL_MODELS", {})  # only the LLMGS_GGUF model
    assert main(["models", "--offline", "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)
    assert row["model"] == "local/<any> (LLMGS_GGUF)"
    assert row["probe"] == "crashed" and row["signal"] == 11 and row["ready"] is False


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            return any(line.startswith("State:\tZ") for line in fh)
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("in_thread", [False, True])
def test_server_dies_with_its_parent(fake_runtime: Path, in_thread: bool) -> None:
    start = f"local_server.ensure('{MODEL}', gguf=Path({str(_gguf())!r}), show_progress=False)"
    code = (
        "import sys, threading, time\nfrom pathlib import Path\n"
        "from agent.llm import local_server\n"
        "box = []\n"
        f"t = threading.Thread(target=lambda: box.append({start}))\n"
        "t.start(); t.join(); time.sleep(1.0)\n"  # the starting thread is gone by now
        if in_thread
        else f"import time\nfrom pathlib import Path\nfrom agent.llm import local_server\n"
        f"box = [{start}]\n"
    )
    code += "print(box[0].proc.pid, box[0].alive(), flush=True)\ntime.sleep(60)\n"
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO, env=os.environ
    )
    try:
        assert parent.stdout is not None
        pid, alive = parent.stdout.readline().split()
        child = int(pid)
        assert alive == "True" and not _gone(child)  # outlives the thread that started it
        parent.kill()  # no atexit, no cleanup: only the child's own watch can end it
        parent.wait()
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child)
    finally:
        parent.kill()
