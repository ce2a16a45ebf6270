"""Measure the embedded models' speed in their server process (the way ``solve`` runs them).

``python -m agent.llm.bench [--model M] [--threads T] [--repeat 3] [--build LABEL=PYTHON]``

Each run streams one greedy answer (seed 0) to the same ~700-token Karel prompt from the
model's llama.cpp server. Prompt speed is the prompt tokens over the time to the first
generated token; generation speed is the tokens after the first over the time after it. A
distinct system line per run keeps the server's KV cache from reusing an earlier prompt.
Prints one JSON line per run, then one line of medians per model and build. ``--build
LABEL=PYTHON`` (repeatable) compares builds: one server per build, each run with another
interpreter (a virtual environment holding another llama.cpp build), interleaved run by run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from agent.llm import local_model, local_server
from envs.errors import LLMError

_TASK = (
    "You control Karel, a robot in a grid world. Actions: move(), turn_left(), turn_right(), "
    "pick_marker(), put_marker(). Perceptions: front_is_clear(), left_is_clear(), "
    "right_is_clear(), markers_present(), no_markers_present(). Use only while, if, else and "
    "for i in range(n) with n at most 19. "
)
PROMPT = _TASK * 9 + "Write a Python function run() that climbs a staircase to the marker."


@dataclass(frozen=True)
class Speed:
    """One streamed answer, timed on the client side.

    Attributes:
        prompt_tokens: Tokens of the prompt (as the server counts them).
        generated_tokens: Content chunks streamed (one per token).
        prompt_tok_s: ``prompt_tokens`` over the time to the first generated token.
        gen_tok_s: Tokens after the first over the time after the first.
        seconds: Wall time of the whole answer.
        text: The answer.
    """

    prompt_tokens: int
    generated_tokens: int
    prompt_tok_s: float | None
    gen_tok_s: float | None
    seconds: float
    text: str


def _post(server: local_server.LocalServer, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{server.api_base}/chat/completions",
        data=json.dumps({"model": server.alias, "seed": 0, "repeat_penalty": 1.0, **body}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return local_server.OPENER.open(request, timeout=local_server.REQUEST_TIMEOUT_S)


def measure(
    server: local_server.LocalServer, messages: list[dict[str, str]], max_tokens: int
) -> Speed:
    """Stream one greedy answer from ``server`` and time it.

    Raises:
        RuntimeCrashed: The server died while answering.
        LLMError: The server failed otherwise.
    """
    start = time.perf_counter()
    first = 0.0
    chunks: list[str] = []
    try:
        with _post(server, {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0,
                            "stream": True}) as resp:  # fmt: skip
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[5:])["choices"][0].get("delta") or {}
                if delta.get("content"):
                    chunks.append(delta["content"])
                    first = first or time.perf_counter()
        end = time.perf_counter()
        # The prompt is in the KV cache now: this costs one token, and tells the prompt size.
        with _post(server, {"messages": messages, "max_tokens": 1, "temperature": 0.0}) as resp:
            usage = json.loads(resp.read().decode("utf-8")).get("usage") or {}
    except (OSError, ValueError, KeyError, IndexError) as exc:
        code = server.exited(wait_s=3.0)
        if code is not None:
            raise server.exit_error(code, "while generating") from exc
        raise LLMError(f"{server.model}: the server failed: {exc}", model=server.model) from exc
    prompt_tokens = int(usage.get("prompt_tokens", 0))
    return Speed(
        prompt_tokens=prompt_tokens,
        generated_tokens=len(chunks),
        prompt_tok_s=round(prompt_tokens / (first - start), 1) if first else None,
        gen_tok_s=round((len(chunks) - 1) / (end - first), 1) if len(chunks) > 1 else None,
        seconds=round(end - start, 3),
        text="".join(chunks),
    )


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def run_model(
    model: str, builds: dict[str, str | None], args: argparse.Namespace, threads: int
) -> list[dict[str, Any]]:
    """Start one server per build, time ``args.repeat`` answers each, interleaved run by run.

    Interleaving spreads a shared machine's changing load evenly over the builds compared.

    Raises:
        LLMError: A server cannot start or answer (``RuntimeCrashed`` when it dies).
    """
    servers: dict[str, local_server.LocalServer] = {}
    rows = []
    try:
        for label, python in builds.items():
            if python:
                os.environ[local_server.RUNTIME_PYTHON_ENV] = python
            else:
                os.environ.pop(local_server.RUNTIME_PYTHON_ENV, None)
            servers[label] = local_server.ensure(model, n_ctx=4096, n_threads=threads, private=True)
        for run in range(args.repeat):
            for label, server in servers.items():
                messages = [
                    {
                        "role": "system",
                        "content": f"Run {run} {label}. You are a helpful assistant.",
                    },
                    {"role": "user", "content": PROMPT},
                ]
                speed = measure(server, messages, args.max_tokens)
                row = {"model": model, "build": label, "threads": threads, "run": run,
                       "load_s": round(server.load_s, 2), **asdict(speed),
                       "load_avg_1m": round(os.getloadavg()[0], 2)}  # fmt: skip
                row.pop("text")
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON lines; returns 1 when a runtime crashed or failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="local/... (repeatable; default both)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--build",
        action="append",
        metavar="LABEL=PYTHON",
        help="compare builds: run the server with this interpreter under this label "
        "(repeatable; default: this environment's build)",
    )
    args = parser.parse_args(argv)
    builds: dict[str, str | None] = {}
    for item in args.build or ["this=" + (os.environ.get(local_server.RUNTIME_PYTHON_ENV) or "")]:
        label, _, python = item.partition("=")
        builds[label] = python or None
    models = args.model or [f"local/{name}" for name in local_model.LOCAL_MODELS]
    threads = args.threads if args.threads is not None else local_model.default_threads()
    for model in models:
        try:
            rows = run_model(model, builds, args, threads)
        except LLMError as exc:
            print(json.dumps({"model": model, "error": str(exc)}))
            return 1
        for label in builds:
            mine = [r for r in rows if r["build"] == label]
            summary = {
                "model": model,
                "build": label,
                "median_of": len(mine),
                "prompt_tok_s": _median(mine, "prompt_tok_s"),
                "gen_tok_s": _median(mine, "gen_tok_s"),
                "load_s": mine[0]["load_s"] if mine else None,
            }
            print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
