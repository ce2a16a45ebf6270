"""The backends_1e5 cells with the 1.5B model behind a llama.cpp server started by hand.

The eval suite's cells name a model string only (no ``api_base``), so this script runs the same
``solve()`` call the suite's ``llmgs-1.5b`` cells make (16 samples, one round, 100,000
evaluations, the default search) against ``openai/<alias>`` with ``api_base``, and appends rows
in the suite's row format to ``rows.jsonl`` beside it. A server backend gets the paper's
free-form prompt by default; ``--same-prompt`` asks for the embedded model's prompt and grammar
(``grammar=True, examples=True``), so the two differ only in how the model is reached.

Start the server first (the same GGUF file the embedded model uses)::

    GOMP_SPINCOUNT=10000 nice -n 5 python -m llama_cpp.server \
        --model ~/.cache/llmgs/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
        --model_alias qwen2.5-coder-1.5b --host 127.0.0.1 --port 8765 --n_ctx 4096 \
        --n_threads 1 --n_threads_batch 1

Usage::

    python evals/results/backends_1e5_server/run_server_cells.py --task karel/DoorKey \
        --seed 0 [--same-prompt]
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path
from typing import Any

from evals.rows import evals_to_solve, finite, round_summaries, solve_curve, usage_fields

HERE = Path(__file__).resolve().parent


def run(task: str, seed: int, api_base: str, alias: str, same_prompt: bool) -> dict[str, Any]:
    """One cell: solve() against the server; the row in the suite's format."""
    from agent import solve

    model = f"openai/{alias}"
    method = "llmgs-1.5b-server" + ("-same-prompt" if same_prompt else "")
    extra = {"grammar": True, "examples": True} if same_prompt else {}
    started = time.perf_counter()
    result = solve(
        task, task=task, model=model, api_base=api_base, budget=100_000, seed=seed,
        samples=16, rounds=0, instances=32, save=False, **extra,
    )  # fmt: skip
    data = result.to_dict()
    curve, pre_search = solve_curve(data)
    backend = f"{model}@{api_base}"
    return {
        "key": f"{task}|{method}|{backend}|seed={seed}|budget=100000",
        "fingerprint": method, "suite": "backends_1e5_server", "task": task,
        "method": method, "kind": "solve", "backend": backend, "seed": seed,
        "budget": 100_000, "instances": 32, "status": "ok", "reason": "",
        "final_return": finite(result.reward), "solved": result.solved,
        "evaluations": result.evaluations, "unique_evaluations": result.unique_evaluations,
        "evals_to_solve": evals_to_solve(curve), "curve": curve,
        "pre_search_return": pre_search, "program": result.program,
        "stop_reason": result.stop_reason, **usage_fields(data),
        "rounds": round_summaries(data["rounds"]),
        "stage_times": {t.stage: round(t.seconds, 3) for t in result.timings},
        "heldout_return_solve": result.heldout_return,
        "wall_s": round(time.perf_counter() - started, 3),
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip


def main() -> None:
    """Run the cells named on the command line, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-base", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--alias", default="qwen2.5-coder-1.5b")
    parser.add_argument("--same-prompt", action="store_true")
    args = parser.parse_args()
    for task in args.task:
        row = run(task, args.seed, args.api_base, args.alias, args.same_prompt)
        with (HERE / "rows.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
        shown = ("key", "final_return", "evals_to_solve", "answers", "accepted", "wall_s")
        print(json.dumps({k: row[k] for k in shown}))


if __name__ == "__main__":
    main()
