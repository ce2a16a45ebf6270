"""The completion cache: keys, several processes at once, and a process killed mid-write."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.llm import SamplingSettings
from agent.llm.cache import CachedSample, CompletionCache, cache_key

MESSAGES = [{"role": "user", "content": "x"}]


def test_key_covers_every_parameter_but_n() -> None:
    base = SamplingSettings(n=1, temperature=0.5, seed=0)
    key = cache_key("m", MESSAGES, base, 0)
    assert key == cache_key("m", MESSAGES, SamplingSettings(n=7, temperature=0.5, seed=0), 0)
    assert key != cache_key("m", MESSAGES, base, 1)
    assert key != cache_key("m2", MESSAGES, base, 0)
    assert key != cache_key("m", [{"role": "system", "content": "x"}], base, 0)
    assert key != cache_key("m", MESSAGES, SamplingSettings(temperature=0.5, seed=0, top_p=0.5), 0)


def test_unreadable_entries_are_misses(tmp_path: Path) -> None:
    cache = CompletionCache(tmp_path)
    cache._cache.set("k", b"\x00 not json")  # an entry from some other writer
    assert cache.get("k") is None
    cache.put("k2", CachedSample("t", "stop", 1, 2))
    assert cache.get("k2") == CachedSample("t", "stop", 1, 2)
    assert len(cache) == 2
    assert cache.clear() == 2


def _writer(directory: str, worker: int, count: int) -> None:
    cache = CompletionCache(Path(directory))
    for i in range(count):
        cache.put(f"{worker}-{i}", CachedSample(f"text {worker} {i}", "stop", i, 0))
    cache.close()


def test_several_processes_write_one_directory(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 40)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    cache = CompletionCache(tmp_path)
    assert len(cache) == 120
    assert cache.get("2-39") == CachedSample("text 2 39", "stop", 39, 0)


_ENDLESS_WRITER = """
import sys
from pathlib import Path
from agent.llm.cache import CachedSample, CompletionCache
cache = CompletionCache(Path(sys.argv[1]))
i = 0
while True:
    cache.put(f"k{i}", CachedSample("x" * 2000, "stop", i, 0))
    i += 1
"""


def test_a_killed_writer_leaves_a_readable_cache(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _ENDLESS_WRITER, str(tmp_path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "cache.db").exists() and len(CompletionCache(tmp_path)) >= 50:
                break
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    cache = CompletionCache(tmp_path)
    n = len(cache)
    assert n >= 50
    for i in range(n):
        sample = cache.get(f"k{i}")
        assert sample is not None and sample.completion_tokens == i
    cache.put("after", CachedSample("ok", "stop", 1, 0))
    assert cache.get("after") is not None
