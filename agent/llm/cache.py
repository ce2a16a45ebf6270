"""The on-disk completion cache.

One entry per *sample*: the key hashes the model identity, the full messages, every sampling
parameter and the sample index, so a request for n samples is n entries, a different
temperature or seed is a miss, and a rerun with the same seed is answered from disk.
diskcache keeps entries in SQLite with transactions, so several processes can share one
directory and a process killed mid-write leaves no half entry behind.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from agent.llm.types import SamplingSettings
from envs.errors import ConfigError

# Bump when the key or value layout changes, so old entries are never misread.
_SCHEMA = 1


@dataclass(frozen=True)
class CachedSample:
    """What the cache stores for one sample.

    Attributes:
        text: The completion text.
        finish_reason: The backend's finish reason.
        completion_tokens: Tokens generated for this sample.
        prompt_tokens: Prompt tokens of the request that produced it.
    """

    text: str
    finish_reason: str
    completion_tokens: int
    prompt_tokens: int = 0


def cache_key(
    model_id: str,
    messages: Sequence[Mapping[str, str]],
    settings: SamplingSettings,
    sample_index: int,
) -> str:
    """The cache key of one sample (a SHA-256 hex digest of canonical JSON).

    Args:
        model_id: The model string plus anything that changes which weights answer (the
            ``api_base`` of a server, the path of a user's GGUF); never an API key.
        messages: The full chat messages.
        settings: Sampling settings; every field except ``n`` enters the key.
        sample_index: Which sample of the request this is.

    Returns:
        A 64-character hex string.
    """
    payload = {
        "schema": _SCHEMA,
        "model": model_id,
        "messages": [dict(m) for m in messages],
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
        "stop": list(settings.stop),
        "sample": sample_index,
    }
    if settings.grammar is not None:  # only then, so keys of unconstrained samples stay valid
        payload["grammar"] = hashlib.sha256(settings.grammar.encode("utf-8")).hexdigest()
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _unusable(directory: Path, err: Exception) -> ConfigError:
    return ConfigError(
        f"the completion cache {directory} cannot be used ({err}): it only holds cached model "
        f"answers, so deleting {directory / 'cache.db'} (or the folder) is safe; or run "
        "without it (--cache off) or point --cache-dir elsewhere"
    )


class CompletionCache:
    """A process-safe store of sampled completions, keyed by :func:`cache_key`.

    A cache that cannot be opened or read (``cache.db`` is not a database, the folder is a
    file or unreadable) raises :class:`ConfigError` saying what to do; a failed write (a full
    disk) only loses that entry, with one warning on stderr, because the answer itself is
    already in hand.

    Args:
        directory: Where the SQLite files live (created if missing).

    Raises:
        ConfigError: The cache cannot be opened.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._write_failed = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Wait up to a minute on a lock held by another process instead of failing.
            self._cache = diskcache.Cache(str(self.directory), timeout=60)
        except (sqlite3.DatabaseError, OSError) as err:
            raise _unusable(self.directory, err) from None

    def get(self, key: str) -> CachedSample | None:
        """The cached sample, or ``None`` on a miss (or an entry this version cannot read).

        Raises:
            ConfigError: The cache's database is damaged.
        """
        try:
            raw: Any = self._cache.get(key, default=None, retry=True)
        except (sqlite3.DatabaseError, OSError) as err:
            raise _unusable(self.directory, err) from None
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
            return CachedSample(
                text=str(data["text"]),
                finish_reason=str(data["finish_reason"]),
                completion_tokens=int(data["completion_tokens"]),
                prompt_tokens=int(data.get("prompt_tokens", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, sample: CachedSample) -> None:
        """Store one sample (stored as JSON text, never pickled model output)."""
        value = json.dumps(
            {
                "text": sample.text,
                "finish_reason": sample.finish_reason,
                "completion_tokens": sample.completion_tokens,
                "prompt_tokens": sample.prompt_tokens,
            },
            ensure_ascii=False,
        )
        try:
            self._cache.set(key, value, retry=True)
        except (sqlite3.DatabaseError, OSError) as err:
            if not self._write_failed:
                self._write_failed = True
                print(
                    f"warning: could not write to the completion cache {self.directory} "
                    f"({err}); answers of this run are not cached",
                    file=sys.stderr,
                    flush=True,
                )

    def __len__(self) -> int:
        try:
            return len(self._cache)
        except (sqlite3.DatabaseError, OSError) as err:
            raise _unusable(self.directory, err) from None

    def clear(self) -> int:
        """Remove every entry; returns how many were removed.

        Raises:
            ConfigError: The cache's database is damaged (delete the folder instead).
        """
        try:
            return int(self._cache.clear(retry=True))
        except (sqlite3.DatabaseError, OSError) as err:
            raise _unusable(self.directory, err) from None

    def close(self) -> None:
        """Close the SQLite connections of this process."""
        self._cache.close()
