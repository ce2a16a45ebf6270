"""``llmgs llm PROMPT``: one completion through the gateway, to check that a backend works."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from agent.commands import SUMMARIES
from agent.commands.options import add_cache_arguments
from agent.llm.types import DEFAULT_MODEL, LLMConfig, SamplingSettings


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model/backend options shared by commands that call a model."""
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"litellm model string, or local/qwen2.5-coder-0.5b|1.5b (default {DEFAULT_MODEL}); "
        "each provider gets only the parameters litellm lists for it (docs/backends.md)",
    )
    parser.add_argument(
        "--api-base",
        default=None,
        help="URL of a server of your own: OpenAI-compatible (http://127.0.0.1:8080/v1, with "
        "--model openai/NAME) or Ollama (http://127.0.0.1:11434, with --model ollama/NAME); "
        "key from LLMGS_API_KEY, if the server needs one",
    )
    parser.add_argument("--gguf", type=Path, default=None, help="your own GGUF file for local/")
    add_cache_arguments(parser)


def config_from_args(args: argparse.Namespace) -> LLMConfig:
    """Build an :class:`LLMConfig` from the options of :func:`add_backend_arguments`."""
    return LLMConfig(
        model=args.model, api_base=args.api_base, cache=args.cache, cache_dir=args.cache_dir,
        gguf_path=args.gguf,
    )  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``llm`` subcommand."""
    parser = subparsers.add_parser(
        "llm",
        help=SUMMARIES["llm"],
        description="Send PROMPT to a model through the llmgs gateway (cache, retries, usage) "
        "and print the answer.",
    )
    parser.add_argument("prompt", help="the user message")
    add_backend_arguments(parser)
    parser.add_argument("--system", default=None, help="an optional system message")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--temperature", type=float, default=0.0, help="default 0 (greedy)")
    parser.add_argument("--max-tokens", type=int, default=256, help="default 256")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs llm``; returns the exit code."""
    from agent.llm.gateway import Gateway

    gateway = Gateway(config_from_args(args))
    messages = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.prompt})
    settings = SamplingSettings(
        n=1, temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed
    )
    start = time.perf_counter()
    out = gateway.complete(messages, settings)
    latency = time.perf_counter() - start
    item = out.items[0]
    if args.json:
        record = {
            "text": item.text,
            "cached": item.cached,
            "prompt_tokens": item.prompt_tokens,
            "completion_tokens": item.completion_tokens,
            "latency_s": round(latency, 4),
        }
        print(json.dumps(record))
    else:
        print(item.text)
        source = "cached" if item.cached else "generated"
        print(
            f"[{args.model}: {source} in {latency:.2f} s, {item.prompt_tokens} prompt + "
            f"{item.completion_tokens} completion tokens]",
            file=sys.stderr,
        )
    return 0
