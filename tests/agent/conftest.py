"""Shared fixtures of the agent tests (generic, usable by any test module here)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty completion cache directory, also set as ``$LLMGS_CACHE_DIR``."""
    directory = tmp_path / "completions"
    monkeypatch.setenv("LLMGS_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove provider keys from the environment, as on a fresh machine."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLMGS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
