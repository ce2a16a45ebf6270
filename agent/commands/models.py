"""``llmgs models``: the configured backends, whether each answers, and the local models."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from agent.llm import local_model

_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class BackendStatus:
    """One line of ``llmgs models``.

    Attributes:
        model: How to select it (a ``--model`` value, with ``--api-base`` where needed).
        kind: ``embedded``, ``hosted`` or ``server``.
        ready: Whether a call would be expected to work now.
        status: What was found, in words, with what to do when not ready.
    """

    model: str
    kind: str
    ready: bool
    status: str


def _local_status() -> list[BackendStatus]:
    runtime = importlib.util.find_spec("llama_cpp") is not None
    rows = []
    for name, spec in local_model.LOCAL_MODELS.items():
        path = local_model.model_dir() / spec.filename
        if not runtime:
            rows.append(
                BackendStatus(
                    f"local/{name}",
                    "embedded",
                    False,
                    f"llama-cpp-python missing: {local_model.INSTALL_HINT}",
                )
            )
        elif path.is_file() and path.stat().st_size == spec.size:
            rows.append(BackendStatus(f"local/{name}", "embedded", True, f"assembled at {path}"))
        elif local_model.weights_installed(spec):
            rows.append(
                BackendStatus(
                    f"local/{name}",
                    "embedded",
                    True,
                    f"weights installed; assembled on first use ({spec.size >> 20} MiB)",
                )
            )
        else:
            rows.append(
                BackendStatus(
                    f"local/{name}",
                    "embedded",
                    False,
                    f"weights not installed: {local_model.INSTALL_HINT}",
                )
            )
    gguf = os.environ.get("LLMGS_GGUF")
    if gguf:
        exists = os.path.isfile(gguf)
        rows.append(
            BackendStatus(
                "local/<any> (LLMGS_GGUF)",
                "embedded",
                exists and runtime,
                f"{gguf} {'found' if exists else 'does not exist'}",
            )
        )
    return rows


def _tcp_reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=_TIMEOUT_S):
            return True
    except OSError:
        return False


def _get_json(url: str) -> dict | None:
    # Only loopback/user-named servers are asked; no key is ever sent by this check.
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _openai_status() -> BackendStatus:
    key = bool(os.environ.get("OPENAI_API_KEY"))
    reachable = _tcp_reachable("https://api.openai.com")
    if not key:
        status = "OPENAI_API_KEY is not set"
    else:
        status = "key set; api.openai.com " + ("reachable" if reachable else "not reachable")
    return BackendStatus("openai/gpt-4o-mini", "hosted", key and reachable, status)


def _ollama_status() -> BackendStatus:
    base = os.environ.get("OLLAMA_API_BASE", "http://localhost:11434").rstrip("/")
    data = _get_json(f"{base}/api/tags")
    if data is None:
        return BackendStatus("ollama/<model>", "server", False, f"no Ollama server at {base}")
    names = [str(m.get("name")) for m in data.get("models", []) if isinstance(m, dict)]
    listed = ", ".join(names[:5]) or "no models pulled"
    return BackendStatus("ollama/<model>", "server", bool(names), f"{base}: {listed}")


def _server_status(api_base: str) -> BackendStatus:
    base = api_base.rstrip("/")
    data = _get_json(f"{base}/models")
    if data is None:
        return BackendStatus(
            f"openai/<name> --api-base {base}",
            "server",
            False,
            f"no OpenAI-compatible server answered at {base}/models",
        )
    names = [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]
    return BackendStatus(
        f"openai/<name> --api-base {base}",
        "server",
        True,
        f"serves: {', '.join(names[:5]) or 'no models listed'}",
    )


def collect(api_base: str | None = None, *, network: bool = True) -> list[BackendStatus]:
    """Status of every backend llmgs knows about.

    Args:
        api_base: Also check this OpenAI-compatible server.
        network: Check remote and server backends (short timeouts); off: local models only.
    """
    rows = _local_status()
    if network:
        rows.append(_openai_status())
        rows.append(_ollama_status())
        if api_base is not None:
            rows.append(_server_status(api_base))
    return rows


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    parser = subparsers.add_parser(
        "models",
        help="list model backends, whether each is reachable, and the local models' status",
        description="Show every model backend: the embedded local models (installed, assembled), "
        "OpenAI (key set, reachable), Ollama, and an OpenAI-compatible server given by --api-base.",
    )
    parser.add_argument("--api-base", default=None, help="also check this server")
    parser.add_argument("--offline", action="store_true", help="check local models only")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs models``; returns the exit code."""
    rows = collect(args.api_base, network=not args.offline)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    width = max(len(r.model) for r in rows)
    for r in rows:
        mark = "ok " if r.ready else "-- "
        print(f"{mark} {r.model:<{width}}  {r.kind:<8}  {r.status}")
    return 0
