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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from agent.llm.types import SamplingSettings

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
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CompletionCache:
    """A process-safe store of sampled completions, keyed by :func:`cache_key`.

    Args:
        directory: Where the SQLite files live (created if missing).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        # Wait up to a minute on a lock held by another process instead of failing.
        self._cache = diskcache.Cache(str(self.directory), timeout=60)

    def get(self, key: str) -> CachedSample | None:
        """The cached sample, or ``None`` on a miss (or an entry this version cannot read)."""
        raw: Any = self._cache.get(key, default=None, retry=True)
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
        self._cache.set(key, value, retry=True)

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        return int(self._cache.clear(retry=True))

    def close(self) -> None:
        """Close the SQLite connections of this process."""
        self._cache.close()
