"""Measure the embedded models' speed: ``python -m agent.llm.bench [--model M] [--threads T]``.

Prompt speed is prompt tokens over the time to the first generated token (a fresh KV cache
each run); generation speed is the remaining tokens over the time after the first. Prints one
JSON line per model and run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from agent.llm import local_model

_TASK = (
    "You control Karel, a robot in a grid world. Actions: move(), turn_left(), turn_right(), "
    "pick_marker(), put_marker(). Perceptions: front_is_clear(), left_is_clear(), "
    "right_is_clear(), markers_present(), no_markers_present(). Use only while, if, else and "
    "for i in range(n) with n at most 19. "
)
PROMPT = _TASK * 9 + "Write a Python function run() that climbs a staircase to the marker."


def measure(llama: Any, max_tokens: int) -> dict[str, float]:
    """One streamed greedy completion of :data:`PROMPT` from an empty KV cache."""
    llama.reset()
    messages = [{"role": "user", "content": PROMPT}]
    start = time.perf_counter()
    first = 0.0
    chunks = 0
    for chunk in llama.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True, seed=0
    ):
        delta = chunk["choices"][0].get("delta", {})
        if delta.get("content"):
            chunks += 1
            if first == 0.0:
                first = time.perf_counter()
    end = time.perf_counter()
    usage = llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)["usage"]
    prompt_tokens = int(usage["prompt_tokens"])
    gen_time = max(end - first, 1e-9)
    return {
        "prompt_tokens": prompt_tokens,
        "prompt_tok_s": round(prompt_tokens / max(first - start, 1e-9), 1),
        "generated_tokens": chunks,
        "gen_tok_s": round(max(chunks - 1, 0) / gen_time, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="local/... (repeatable; default both)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    models = args.model or [f"local/{name}" for name in local_model.LOCAL_MODELS]
    for model in models:
        loaded = local_model.load(model, n_ctx=4096, n_threads=args.threads)
        threads = args.threads if args.threads is not None else local_model.default_threads()
        for run in range(args.repeat):
            with loaded.lock:
                row = measure(loaded.llama, args.max_tokens)
            row = {"model": model, "threads": threads, "run": run, **row}
            row["load_avg_1m"] = round(os.getloadavg()[0], 2)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
