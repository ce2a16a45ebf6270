"""Measure what the embedded models' proposals cost and yield, per prompt/decoding condition.

``python -m evals.proposals --model local/qwen2.5-coder-0.5b --task karel/DoorKey --samples 6
--condition before --condition grammar --out evals/results/proposals`` asks the model for
``samples`` answers per task and condition, exactly as a solve round does (one answer per
request, the same messages for every sample, seed ``1000 + i`` for sample ``i``), and records
per answer: wall seconds, completion tokens, finish reason, whether it converted, and the
return of the converted program on the task's 32 instances. Conditions:

* ``before``: the paper's Pythonic-DSL prompt, free-form decoding, ``max_tokens`` 384 (the
  previous default for local models).
* ``grammar``: the Python-only prompt with worked examples of other tasks, decoded under the
  GBNF grammar of :mod:`agent.conversion.grammar`, ``max_tokens`` = the grammar's bound.
* ``grammar_noex``: the same without worked examples (the ablation).

The model runs in this process through llama-cpp-python (``LlamaGrammar`` for the grammar),
the same runtime the embedded backend serves. Rows go to ``answers.jsonl`` (appended) and a
summary of medians per model and condition is printed as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONDITIONS = ("before", "grammar", "grammar_noex")
BEFORE_MAX_TOKENS = 384


def _messages(task_id: str, condition: str) -> list[dict[str, str]]:
    from agent import render_prompt

    if condition == "before":
        return render_prompt(task_id, "pythonic_dsl")
    return render_prompt(task_id, "pythonic_dsl", examples=condition == "grammar", constrained=True)


def _answer(llama: Any, messages: list[dict[str, str]], condition: str, domain: str, seed: int,
            temperature: float) -> tuple[dict[str, Any], float]:  # fmt: skip
    from agent.conversion import max_answer_chars, python_gbnf

    kwargs: dict[str, Any] = {"messages": messages, "temperature": temperature, "top_p": 1.0,
                              "seed": seed, "max_tokens": BEFORE_MAX_TOKENS}  # fmt: skip
    if condition != "before":
        import llama_cpp

        kwargs["grammar"] = llama_cpp.LlamaGrammar.from_string(python_gbnf(domain), verbose=False)
        kwargs["max_tokens"] = max_answer_chars(domain)
    started = time.perf_counter()
    out = llama.create_chat_completion(**kwargs)
    return out, time.perf_counter() - started


def _load(model: str) -> Any:
    """The model in this process, as the embedded server loads it (verified weights)."""
    from agent.llm import local_model_path, local_model_threads

    os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # as the embedded runtime (local_model)
    import llama_cpp

    path = local_model_path(model.removeprefix("local/"), None, show_progress=False)
    threads = local_model_threads()
    return llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=threads,
                           n_threads_batch=threads, verbose=False)  # fmt: skip


def run(model: str, tasks: Sequence[str], conditions: Sequence[str], samples: int, out_dir: Path,
        temperature: float = 1.0) -> list[dict[str, Any]]:  # fmt: skip
    """Sample and record every (task, condition, sample); return the rows."""
    import envs
    from agent.conversion import convert_answer

    llama = _load(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for task_id in tasks:
        task = envs.make(task_id)
        for condition in conditions:
            messages = _messages(task_id, condition)
            for i in range(samples):
                out, seconds = _answer(llama, messages, condition, task.domain, 1000 + i,
                                       temperature)  # fmt: skip
                text = out["choices"][0]["message"]["content"] or ""
                outcome = convert_answer(text, task.domain)
                value = task.evaluate(outcome.program) if outcome.program else None
                row = {
                    "model": model, "task": task_id, "condition": condition, "sample": i,
                    "seconds": round(seconds, 3),
                    "prompt_tokens": out["usage"]["prompt_tokens"],
                    "completion_tokens": out["usage"]["completion_tokens"],
                    "finish_reason": out["choices"][0].get("finish_reason"),
                    "accepted": outcome.accepted, "reason": outcome.reason, "return": value,
                    "load_avg_1m": round(os.getloadavg()[0], 2), "text": text,
                }  # fmt: skip
                rows.append(row)
                with open(out_dir / "answers.jsonl", "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(f"{model} {task_id} {condition} {i}: {seconds:.1f}s "
                      f"{row['completion_tokens']} tok accepted={outcome.accepted} "
                      f"return={value}", file=sys.stderr, flush=True)  # fmt: skip
    return rows


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians and totals per (model, condition)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["condition"]), []).append(row)
    out = []
    for (model, condition), group in sorted(groups.items()):
        seconds = [r["seconds"] for r in group]
        tokens = [r["completion_tokens"] for r in group]
        accepted = sum(r["accepted"] for r in group)
        best: dict[str, float] = {}
        for r in group:
            if r["return"] is not None:
                best[r["task"]] = max(r["return"], best.get(r["task"], float("-inf")))
        out.append({
            "model": model, "condition": condition, "answers": len(group),
            "accepted": accepted, "acceptance": round(accepted / len(group), 3),
            "median_tokens_per_answer": statistics.median(tokens),
            "median_seconds_per_answer": round(statistics.median(seconds), 2),
            "answers_per_min_median": round(60 / statistics.median(seconds), 2),
            "answers_per_min_total": round(60 * len(group) / sum(seconds), 2),
            "accepted_per_min_total": round(60 * accepted / sum(seconds), 2),
            "truncated": sum(r["finish_reason"] == "length" for r in group),
            "best_return_by_task": best,
            "median_load_avg": statistics.median(r["load_avg_1m"] for r in group),
        })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the summary as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--task", action="append", required=True)
    parser.add_argument("--condition", action="append", choices=CONDITIONS)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("evals/results/proposals"))
    parser.add_argument("--summarise-only", action="store_true",
                        help="summarise the rows already in OUT/answers.jsonl")  # fmt: skip
    args = parser.parse_args(argv)
    if args.summarise_only:
        path = args.out / "answers.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        rows = []
        for model in args.model:
            rows += run(model, args.task, args.condition or list(CONDITIONS), args.samples,
                        args.out, args.temperature)  # fmt: skip
    for line in summarise(rows):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
