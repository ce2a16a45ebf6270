"""``llmgs llm PROMPT``: one completion through the gateway, to check that a backend works."""

from __future__ import annotations

import argparse
import json
import sys
import time

from agent.commands import SUMMARIES
from agent.commands.options import add_cache_arguments, add_config_arguments, config_options, given
from agent.llm.types import LLMConfig, SamplingSettings

#: The :class:`LLMConfig` fields ``llmgs llm`` offers (with ``--cache`` and ``--cache-dir``).
BACKEND_OPTIONS: tuple[str, ...] = ("model", "api_base", "gguf_path", "cache", "cache_dir")


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model/backend options (derived from :class:`LLMConfig`'s fields)."""
    add_config_arguments(
        parser, LLMConfig, ("model", "api_base", "gguf_path"),
        helps={"model": f"{config_options(LLMConfig)['model'].help}; each provider gets only "
               "the parameters litellm lists for it (docs/backends.md)"},
    )  # fmt: skip
    add_cache_arguments(parser)


def config_from_args(args: argparse.Namespace) -> LLMConfig:
    """Build an :class:`LLMConfig` from the options of :func:`add_backend_arguments`.

    Raises:
        ConfigError: A value the config does not allow.
    """
    return LLMConfig(**given(args, BACKEND_OPTIONS))


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

    config = config_from_args(args)
    gateway = Gateway(config)
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
            f"[{config.model}: {source} in {latency:.2f} s, {item.prompt_tokens} prompt + "
            f"{item.completion_tokens} completion tokens]",
            file=sys.stderr,
        )
    return 0
