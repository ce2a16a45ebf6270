"""``llmgs models``: the configured backends, whether each answers, and the local models.

Each installed embedded model is tried for real: its llama.cpp server process is started and
asked for a few tokens, so a runtime that crashes on this CPU shows as ``crashed`` with the
signal instead of "ok" (the weights and the import alone prove nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.commands import SUMMARIES
from agent.llm import local_model
from envs.errors import LlmgsError

_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class BackendStatus:
    """One line of ``llmgs models``.

    Attributes:
        model: How to select it (a ``--model`` value, with ``--api-base`` where needed).
        kind: ``embedded``, ``hosted`` or ``server``.
        ready: Whether a call would be expected to work now.
        status: What was found, in words, with what to do when not ready.
        probe: Embedded models: what a short generation in the model's server process gave:
            ``ok``, ``crashed``, ``missing``, ``error`` or ``skipped`` (``--no-probe``).
        signal: The signal that ended a crashed runtime (11 for SIGSEGV), else None.
        load_s: Seconds from starting the server process to serving the loaded model.
        prompt_tok_s: Prompt evaluation speed measured by llama.cpp.
        gen_tok_s: Generation speed measured by llama.cpp.
    """

    model: str
    kind: str
    ready: bool
    status: str
    probe: str | None = None
    signal: int | None = None
    load_s: float | None = None
    prompt_tok_s: float | None = None
    gen_tok_s: float | None = None


PROBE_PROMPT = "Write a Python function run() that moves a robot forward twice."


def probe_local(model: str, *, max_tokens: int = 16, gguf: Path | None = None) -> BackendStatus:
    """Start ``model``'s server in a child process, generate a few tokens, and report.

    A crash of the runtime (a signal) is reported, never raised: this is the check a user runs
    to find out whether the embedded model works on this machine.
    """
    from agent.llm import bench, local_server

    messages = [{"role": "user", "content": PROBE_PROMPT}]
    try:
        server = local_server.ensure(
            model, gguf=gguf, n_ctx=2048, show_progress=False, private=True
        )
        try:
            speed = bench.measure(server, messages, max_tokens)
        finally:
            server.stop()
    except local_server.RuntimeCrashed as exc:
        kind = "crashed" if exc.signal is not None else "error"
        return BackendStatus(model, "embedded", False, str(exc), kind, exc.signal)
    except LlmgsError as exc:
        return BackendStatus(model, "embedded", False, str(exc), "error")
    status = (
        f"generated {speed.generated_tokens} tokens in its server process: loaded in "
        f"{server.load_s:.1f} s, prompt {speed.prompt_tok_s} tok/s, generation "
        f"{speed.gen_tok_s} tok/s"
    )
    return BackendStatus(model, "embedded", True, status, "ok", None, round(server.load_s, 2),
                         speed.prompt_tok_s, speed.gen_tok_s)  # fmt: skip


def _local_status(probe: bool, max_tokens: int) -> list[BackendStatus]:
    runtime = importlib.util.find_spec("llama_cpp") is not None
    rows = []
    for name, spec in local_model.LOCAL_MODELS.items():
        model = f"local/{name}"
        path = local_model.model_dir() / spec.filename
        assembled = path.is_file() and path.stat().st_size == spec.size
        if not assembled and not local_model.weights_installed(spec):
            status = f"weights not installed: {local_model.INSTALL_HINT}"
            rows.append(BackendStatus(model, "embedded", False, status, "missing"))
        elif not runtime:
            status = f"llama-cpp-python missing: run ./install.sh ({local_model.INSTALL_HINT})"
            rows.append(BackendStatus(model, "embedded", False, status, "missing"))
        elif probe:
            rows.append(probe_local(model, max_tokens=max_tokens))
        else:
            where = (
                f"assembled at {path}"
                if assembled
                else f"weights installed; assembled on first use ({spec.size >> 20} MiB)"
            )
            rows.append(BackendStatus(model, "embedded", True, where, "skipped"))
    gguf = os.environ.get("LLMGS_GGUF")
    if gguf:
        exists = os.path.isfile(gguf)
        if exists and probe:
            row = probe_local("local/gguf", max_tokens=max_tokens, gguf=Path(gguf))
            rows.append(dataclasses.replace(row, model="local/<any> (LLMGS_GGUF)"))
        else:
            rows.append(
                BackendStatus(
                    "local/<any> (LLMGS_GGUF)",
                    "embedded",
                    exists and runtime,
                    f"{gguf} {'found' if exists else 'does not exist'}",
                    "skipped" if exists else "missing",
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


def collect(
    api_base: str | None = None, *, network: bool = True, probe: bool = True, max_tokens: int = 16
) -> list[BackendStatus]:
    """Status of every backend llmgs knows about.

    Args:
        api_base: Also check this OpenAI-compatible server.
        network: Check remote and server backends (short timeouts); off: local models only.
        probe: Generate a few tokens with each installed embedded model, in its server process.
        max_tokens: Tokens each probe generates.
    """
    rows = _local_status(probe, max_tokens)
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
        help=SUMMARIES["models"],
        description="Show every model backend: the embedded local models (each installed one "
        "generates a few tokens in its own server process: ok, crashed with the signal, "
        "missing or error, with load time and prompt and generation speed), OpenAI (key set, "
        "reachable), Ollama, and an OpenAI-compatible server given by --api-base.",
    )
    parser.add_argument("--api-base", default=None, help="also check this server")
    parser.add_argument("--offline", action="store_true", help="check local models only")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--no-probe", action="store_true", help="do not run the embedded models, only look"
    )
    parser.add_argument("--max-tokens", type=int, default=16, help="tokens each probe generates")


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs models``; returns the exit code."""
    if not args.no_probe and not args.json:
        print("probing: each installed embedded model is loaded and writes a few tokens "
              "(seconds each; --no-probe only looks)", file=sys.stderr)  # fmt: skip
    rows = collect(
        args.api_base, network=not args.offline, probe=not args.no_probe, max_tokens=args.max_tokens
    )
    # Non-zero when an embedded model that is installed does not work here (scripts, CI).
    code = 1 if any(r.probe in ("crashed", "error") for r in rows) else 0
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return code
    width = max(len(r.model) for r in rows)
    for r in rows:
        mark = "ok " if r.ready else "-- "
        probe = f"[{r.probe}] " if r.probe not in (None, "ok", "skipped") else ""
        print(f"{mark} {r.model:<{width}}  {r.kind:<8}  {probe}{r.status}")
    return code
