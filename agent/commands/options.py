"""Options shared by several commands, spelled and explained once.

The completion cache is ``--cache on|off|replay`` and ``--cache-dir DIR`` in every command that
calls a model (``llmgs solve``, ``llmgs serve``, ``llmgs llm``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from agent.llm.types import CacheMode

CACHE_MODES: tuple[str, ...] = get_args(CacheMode)


def add_cache_arguments(
    parser: argparse.ArgumentParser, *, default: str | None = "on", default_text: str = "on"
) -> None:
    """Add ``--cache`` and ``--cache-dir``.

    Args:
        parser: The command's parser.
        default: The value of ``--cache`` when it is not given (None: let the command decide).
        default_text: How the help names that default.
    """
    parser.add_argument(
        "--cache",
        choices=CACHE_MODES,
        default=default,
        help="completion cache: on reads and writes it, off neither, replay answers only "
        f"from it and fails on a miss (offline replay); default {default_text}",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="completion cache folder (default $LLMGS_CACHE_DIR or ~/.cache/llmgs/completions)",
    )
