"""Checkpoints of a search run, taken at climb boundaries.

A checkpoint holds everything the rest of a run depends on: the search RNG state, the
evaluation counter, best program and curve, the method's position (climbs started, the sorted
seed programs of the LLM-GS loop) and the evaluation cache (as two numpy arrays, so a resumed
run reports the same unique count). Resuming from any checkpoint gives the same final result as
an uninterrupted run with the same seed. Files are written to a temporary name and renamed, so
a kill mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from envs.errors import ConfigError

STATE_FILE = "checkpoint.json"
CACHE_FILE = "checkpoint_cache.npz"
RESULT_FILE = "result.json"
FORMAT_VERSION = 1


def rng_state(rng: np.random.RandomState) -> dict[str, Any]:
    """JSON-ready state of a legacy RandomState."""
    name, keys, pos, has_gauss, cached = rng.get_state()
    return {
        "name": name,
        "keys": keys.tolist(),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def set_rng_state(rng: np.random.RandomState, state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    rng.set_state(
        (
            state["name"],
            np.asarray(state["keys"], dtype=np.uint32),
            state["pos"],
            state["has_gauss"],
            state["cached_gaussian"],
        )
    )


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def warn_unwritten(what: Path, err: OSError) -> None:
    """Report on stderr that a side file of a run could not be written (a full disk, a folder
    made read-only): the search and its result go on without it."""
    print(
        f"warning: could not write {what}: {err.strerror or err} (the search goes on; its "
        "result is printed as usual)",
        file=sys.stderr,
        flush=True,
    )


def save(run_dir: Path, state: dict[str, Any], keys: np.ndarray, values: np.ndarray) -> None:
    """Write a checkpoint (cache first, state last: the state names the cache it goes with)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / (CACHE_FILE + ".tmp.npz")
    np.savez(tmp, keys=keys, values=values)
    os.replace(tmp, run_dir / CACHE_FILE)
    payload = {"version": FORMAT_VERSION, "cache_entries": int(len(keys)), **state}
    _atomic_write_bytes(run_dir / STATE_FILE, json.dumps(payload).encode())


def load(run_dir: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray] | None:
    """The checkpoint in ``run_dir``, or None when there is none.

    Raises:
        ConfigError: The checkpoint is damaged (truncated, not JSON, a bad ``.npz``, a
            missing array or entry count); the message names the files and how to start over.
            Nothing is deleted.
    """
    state_path = run_dir / STATE_FILE
    if not state_path.exists():
        return None
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        with np.load(run_dir / CACHE_FILE) as arrays:
            keys, values = arrays["keys"], arrays["values"]
        if not isinstance(state, dict):
            raise TypeError(f"{STATE_FILE} holds no JSON object")
        int(state["cache_entries"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as err:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors; a truncated .npz is a
        # BadZipFile, EOFError or a missing member (KeyError).
        raise ConfigError(
            f"the checkpoint in {run_dir} cannot be read ({type(err).__name__}: {err}); it "
            f"cannot be resumed: start a new run with another --run-dir, or delete "
            f"{state_path.name} and {CACHE_FILE} there to start that run over"
        ) from None
    if len(keys) != state["cache_entries"]:
        # The cache was replaced by a later checkpoint whose state write did not finish.
        keys, values = keys[: state["cache_entries"]], values[: state["cache_entries"]]
    return state, keys, values
