"""Ctrl-C to the process group of `llmgs eval run` stops every process and keeps finished cells."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from tests.process_watch import ctrl_c_once_workers_run, kill_group, start_group, text_of

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_to_the_group_of_a_suite_stops_every_process(tmp_path: Path) -> None:
    # Three long cells (Scheduled HC on a task it does not solve, 1e6 evaluations) on two workers.
    suite = tmp_path / "long.yaml"
    suite.write_text(
        "name: long\ntasks: [karel/OneStroke]\nseeds: [0, 1, 2]\nbudgets: [1000000]\n"
        "methods: [{name: shc, kind: search, method: shc}]\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "agent.cli", "eval", "run", str(suite), "--out", str(out),
               "--workers", "2", "--no-report"]  # fmt: skip
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    proc = start_group(command, stdout, stderr, sigint=signal.SIG_IGN)  # a script's background job
    try:
        # The runner logs its start before the pool starts; then the two workers appear.
        ctrl_c_once_workers_run(proc, lambda: '"event": "started"' in text_of(out / "runs.jsonl"),
                                "the suite never started")  # fmt: skip
    finally:
        kill_group(proc)
    err = text_of(stderr)
    assert proc.returncode == 130 and "interrupted" in err, err
    assert "Traceback" not in err
    rows = out / "rows.jsonl"
    assert not rows.exists() or all(json.loads(line) for line in rows.read_text().splitlines())
