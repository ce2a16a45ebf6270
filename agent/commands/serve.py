"""``llmgs serve``: the HTTP API and web page (FastAPI + uvicorn) over a job queue."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from agent.commands import SUMMARIES

TOKEN_ENV = "LLMGS_SERVICE_TOKEN"


def default_db() -> Path:
    """``$LLMGS_SERVICE_DB``, else ``$XDG_STATE_HOME/llmgs/service.sqlite3``."""
    env = os.environ.get("LLMGS_SERVICE_DB")
    if env:
        return Path(env).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser() / "llmgs" / "service.sqlite3"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand."""
    from agent.commands.options import add_cache_arguments

    parser = subparsers.add_parser(
        "serve",
        help=SUMMARIES["serve"],
        description="Serve the llmgs HTTP API (POST /v1/solve, GET /v1/jobs/{id}, server-sent "
        "events, cancellation, /v1/tasks, /openapi.json) and a web page at /. Jobs run in worker "
        "processes and are kept in SQLite across restarts. Needs the 'serve' extra: "
        "pip install 'llmgs[serve]'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token",
        default=None,
        help=f"require 'Authorization: Bearer TOKEN' on the API (default: ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help=f"job database (default {default_db()})"
    )
    parser.add_argument("--workers", type=int, default=None, help="jobs at once (default cores/2)")
    parser.add_argument("--max-queued", type=int, default=100, help="queued jobs at most")
    parser.add_argument("--max-budget", type=int, default=1_000_000, help="largest budget allowed")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="largest request body; beyond it the request is refused with 413 (default 65536)",
    )
    # One cache for every job; its mode, when not given, is the solver's (on).
    add_cache_arguments(parser, default=None, default_text="the solver's (on)")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help="where jobs save their run directories (default: 'runs' next to the database)",
    )
    parser.add_argument(
        "--job-function",
        default=None,
        metavar="MODULE:FUNCTION",
        help="run this function for each job instead of agent.solve (same keyword arguments, "
        "plus on_event and should_stop)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    """Run ``llmgs serve`` until interrupted; returns the exit code.

    Raises:
        ConfigError: The 'serve' extra is not installed, or a setting is invalid.
    """
    from envs.errors import ConfigError

    try:
        import uvicorn

        from agent.service import ServiceConfig, create_app
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"llmgs serve needs the 'serve' extra ({exc.name} is missing): "
            "pip install 'llmgs[serve]'"
        ) from exc
    # Read the token, then drop it from the environment so worker processes never see it.
    token = args.token if args.token is not None else os.environ.pop(TOKEN_ENV, None)
    os.environ.pop(TOKEN_ENV, None)
    if token is not None and not token.strip():
        raise ConfigError("the service token must not be empty")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    if not _is_loopback(args.host) and token is None:
        print(
            f"llmgs serve: warning: {args.host} is not loopback and no token is set; anyone "
            "who can reach it can run jobs",
            file=sys.stderr,
        )
    db = (args.db if args.db is not None else default_db()).expanduser()
    runs_dir = (args.runs_dir if args.runs_dir is not None else db.parent / "runs").expanduser()
    config = ServiceConfig(
        db_path=str(db),
        token=token,
        max_workers=args.workers,
        max_queued=args.max_queued,
        max_budget=args.max_budget,
        runs_dir=str(runs_dir),
        cache_dir=str(args.cache_dir.expanduser()) if args.cache_dir is not None else None,
        solve_options={"cache": args.cache} if args.cache is not None else {},
        **({"job_function": args.job_function} if args.job_function else {}),
        **({"max_body_bytes": args.max_body_bytes} if args.max_body_bytes is not None else {}),
    )
    app = create_app(config)
    # Refuse here, with a clear error, to serve a database another live server owns.
    app.state.manager.lock_database()
    print(
        f"llmgs serve: http://{args.host}:{args.port}/ (jobs in {db}; "
        f"{'token required' if token else 'no token'})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
