"""The embedded model out of process: llama-cpp-python's OpenAI-compatible server.

A ``local/<name>`` model is served by a child process running ``python -m llama_cpp.server``
on 127.0.0.1 with a free port, started on first use (once per process and model) with the
SHA-256-verified GGUF. The gateway reaches it as ``openai/<alias>`` with ``api_base`` exactly
like any other OpenAI-compatible server, so cache keys, retries, usage and seeds go through one
path. The server is stopped when llmgs exits, and stops itself when llmgs dies.

Why a child process and not an in-process ``llama_cpp.Llama``: a crash in native code (a
llama.cpp built with ``-march=native`` turns on AMX kernels that segfault on Intel Xeons) then
kills only the child; its exit status names the signal, and :class:`RuntimeCrashed` tells the
user what happened and what to do, while ``solve()`` carries on without the model. It is also
the field's standard way to serve a GGUF file, and the same code path as a remote server.

Settings (environment): ``LLMGS_RUNTIME_PYTHON`` runs the server with another interpreter (a
virtual environment holding your own llama.cpp build); ``LLMGS_LOCAL_SERVER`` runs a Python file
instead of ``llama_cpp.server`` with the same arguments (a stand-in runtime; the tests use one
that crashes on purpose); ``LLMGS_SERVER_START_TIMEOUT`` bounds the start (seconds, default 300);
``LLMGS_LOG_DIR`` holds the server logs (default ``~/.cache/llmgs/logs``).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from agent.llm import local_model
from agent.llm.local_model import PARAM_GGUF, PARAM_N_CTX, PARAM_N_THREADS, PARAM_PROGRESS
from envs.errors import ConfigError, LLMError

SERVER_SCRIPT_ENV = "LLMGS_LOCAL_SERVER"
RUNTIME_PYTHON_ENV = "LLMGS_RUNTIME_PYTHON"
START_TIMEOUT_ENV = "LLMGS_SERVER_START_TIMEOUT"
LOG_DIR_ENV = "LLMGS_LOG_DIR"

# Not a secret: the server listens on 127.0.0.1 only and checks no key, but the OpenAI client
# refuses to send a request without one.
SERVER_API_KEY = "llmgs-local-server"
# A CPU-bound answer can take minutes on a busy 2-core machine; a crash is seen at once anyway
# (the connection drops), so this only bounds a hung server.
REQUEST_TIMEOUT_S = 1800.0
REBUILD_HINT = (
    "on an Intel CPU with AMX this is llama.cpp's native build (-march=native): rebuild the "
    "runtime with ./install.sh (or LLMGS_RUNTIME_FLAGS=portable ./install.sh for a build that "
    "runs on any x86-64 CPU with AVX2); or use --model none or another backend"
)
_PORT_ATTEMPTS = 3
# llama.cpp's timing lines (llama_perf_context_print), one block per request.
_PROMPT_LINE = re.compile(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens")
_EVAL_LINE = re.compile(r"\s eval time =\s*([\d.]+) ms /\s*(\d+) runs")
_TOTAL_LINE = re.compile(r"total time =\s*([\d.]+) ms")


class RuntimeCrashed(LLMError):
    """The embedded model's server process died (a signal, an exit code) or never started.

    Attributes:
        returncode: The process's exit status (negative: killed by that signal).
        signal: The signal number that ended it, or None.
        log_path: The server's log file (kept after a crash).
    """

    def __init__(
        self, message: str, *, model: str, returncode: int | None, log_path: Path | None
    ) -> None:
        super().__init__(message, model=model, retryable=False)
        self.returncode = returncode
        self.signal = -returncode if returncode is not None and returncode < 0 else None
        self.log_path = log_path


def log_dir() -> Path:
    """Where server logs go: ``$LLMGS_LOG_DIR`` or ``~/.cache/llmgs/logs``."""
    env = os.environ.get(LOG_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "llmgs" / "logs"


def signal_name(number: int) -> str:
    """``SIGSEGV`` for 11; ``signal 99`` for a number Python does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bypass_proxy_for_loopback() -> None:
    """Keep HTTP(S)_PROXY settings from routing requests to our own 127.0.0.1 server."""
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        if "127.0.0.1" not in hosts:
            os.environ[name] = ",".join([*hosts, "127.0.0.1"])


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""urllib without proxies: requests to our own 127.0.0.1 server never go through one."""


class LocalServer:
    """One llama.cpp server child process for one model file and setting.

    Args:
        model: The model string (``local/<name>``); its name is the server's model alias.
        path: The verified GGUF file to serve.
        n_ctx: Context length.
        threads: llama.cpp threads (prompt and generation).
        show_progress: Report the start and each request's speed on stderr.
    """

    def __init__(
        self, model: str, path: Path, *, n_ctx: int, threads: int, show_progress: bool
    ) -> None:
        self.model = model
        self.alias = model.removeprefix("local/") or "model"
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.show_progress = show_progress
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.load_s = 0.0

    @property
    def api_base(self) -> str:
        """The OpenAI-compatible base URL of this server."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self, port: int) -> list[str]:
        """The child's command line for ``port``."""
        python = os.environ.get(RUNTIME_PYTHON_ENV) or sys.executable
        child = Path(__file__).with_name("runtime_child.py")
        cmd = [python, "-P", str(child), "--parent", str(os.getpid())]
        if threading.current_thread() is threading.main_thread():
            cmd.append("--pdeathsig")
        script = os.environ.get(SERVER_SCRIPT_ENV)
        if script:
            cmd += ["--script", script]
        cmd += ["--", "--model", str(self.path), "--model_alias", self.alias]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(self.n_ctx)]
        cmd += ["--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        # verbose: llama.cpp's load and timing messages go to the log (crash reports, speed).
        return [*cmd, "--verbose", "true"]

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Measured on 2 cores with the 0.5B model (tokens/s, prompt / generation): idle,
        # PASSIVE 105-132 / 10-12 and a bounded spin 131 / 27; beside two busy processes,
        # PASSIVE 71 / 15, bounded spin 62-79 / 12-14, ACTIVE did not finish in 100 s.
        # A user's own OMP_WAIT_POLICY wins.
        if "OMP_WAIT_POLICY" not in env:
            env.setdefault("GOMP_SPINCOUNT", "10000")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout_s: float) -> None:
        """Start the child and wait until it serves ``/v1/models`` (the model is loaded then).

        Raises:
            RuntimeCrashed: The child died while loading, or did not answer in ``timeout_s``.
        """
        _bypass_proxy_for_loopback()
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if self.show_progress:
            print(
                f"loading {self.path.name} ({self.threads} threads, n_ctx {self.n_ctx}) "
                "in a llama.cpp server process...",
                file=sys.stderr,
                flush=True,
            )
        for _ in range(_PORT_ATTEMPTS):
            self.port = _free_port()
            self.log_path = directory / f"{self.alias}-{os.getpid()}-{self.port}.log"
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command(self.port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self._environment(),
                    # Ctrl-C in the terminal is for llmgs, which then stops the server itself.
                    start_new_session=True,
                )
            if self._wait_ready(self.proc, started + timeout_s, timeout_s):
                break
        else:
            raise RuntimeCrashed(
                f"the embedded model's runtime could not bind a port on 127.0.0.1 "
                f"({_PORT_ATTEMPTS} attempts); server log: {self.log_path}",
                model=self.model,
                returncode=None,
                log_path=self.log_path,
            )
        self.load_s = time.perf_counter() - started
        if self.show_progress:
            print(f"loaded in {self.load_s:.1f} s", file=sys.stderr, flush=True)

    def _wait_ready(self, proc: subprocess.Popen[bytes], deadline: float, timeout_s: float) -> bool:
        """True once ready; False when the port was taken meanwhile (start again)."""
        while True:
            code = proc.poll()
            if code is not None:
                if code > 0 and "address already in use" in self.log_tail().lower():
                    return False
                raise self.exit_error(code, "while loading the model")
            try:
                with OPENER.open(f"{self.api_base}/models", timeout=2.0) as resp:
                    if resp.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                pass  # not listening yet
            if time.perf_counter() > deadline:
                self.stop(keep_log=True)
                raise RuntimeCrashed(
                    f"the embedded model's runtime did not answer within {timeout_s:.0f} s "
                    f"(raise {START_TIMEOUT_ENV} on a slow machine); server log: {self.log_path}",
                    model=self.model,
                    returncode=None,
                    log_path=self.log_path,
                )
            time.sleep(0.1)

    def alive(self) -> bool:
        """Whether the child is running."""
        return self.proc is not None and self.proc.poll() is None

    def exited(self, wait_s: float = 0.0) -> int | None:
        """The child's exit status if it has ended (waiting up to ``wait_s`` for it), else None."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=wait_s) if wait_s > 0 else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server log ("" when there is none)."""
        if self.log_path is None or not self.log_path.is_file():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(max(0, self.log_path.stat().st_size - 16384))
            text = fh.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log_size(self) -> int:
        """Bytes in the server log now (where the next request's messages will start)."""
        try:
            return self.log_path.stat().st_size if self.log_path is not None else 0
        except FileNotFoundError:
            return 0

    def speed_since(self, offset: int) -> str | None:
        """Prompt and generation speed of the request logged after ``offset``, in words.

        From llama.cpp's own timing lines (printed after each request in verbose mode). Its
        "prompt eval time" is not reliable here, so the prompt's share is the request's total
        time less the generation time. None when the log holds no complete timing block.
        """
        if self.log_path is None:
            return None
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                text = fh.read(1 << 20).decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        prompt = _PROMPT_LINE.findall(text)
        gen = _EVAL_LINE.findall(text)
        total = _TOTAL_LINE.findall(text)
        if not (prompt and gen and total):
            return None
        tokens, (gen_ms, runs), total_ms = int(prompt[-1]), gen[-1], float(total[-1])
        prompt_s, gen_s = max(total_ms - float(gen_ms), 0.0) / 1000, float(gen_ms) / 1000
        parts = [f"prompt {tokens} tokens in {prompt_s:.1f} s"]
        if prompt_s > 0 and tokens > 1:
            parts[0] += f" ({tokens / prompt_s:.1f} tok/s)"
        parts.append(f"{int(runs)} more tokens generated in {gen_s:.1f} s")
        if gen_s > 0:
            parts[1] += f" ({int(runs) / gen_s:.1f} tok/s)"
        return ", ".join(parts)

    def exit_error(self, code: int, during: str) -> RuntimeCrashed:
        """The error that says how the child ended and what to do."""
        where = f"server log: {self.log_path}"
        if code < 0:
            number = -code
            name = signal_name(number)
            if number == signal.SIGKILL:
                advice = "often the out-of-memory killer: free memory or use a smaller model"
                head = f"the embedded model's runtime was killed ({name}, signal {number})"
            else:
                advice = REBUILD_HINT
                head = f"the embedded model's runtime crashed with {name} (signal {number})"
            message = f"{head} {during} ({self.model}); {advice}; {where}"
        else:
            last = [line.strip() for line in self.log_tail().splitlines() if line.strip()]
            detail = last[-1][:300] if last else "no output"
            message = (
                f"the embedded model's runtime exited with code {code} {during} ({self.model}): "
                f"{detail}; {where}"
            )
            if "No module named" in detail:
                message += f". Install the runtime with ./install.sh ({local_model.INSTALL_HINT})"
        return RuntimeCrashed(message, model=self.model, returncode=code, log_path=self.log_path)

    def stop(self, *, keep_log: bool = False) -> None:
        """Stop the child (TERM, then KILL); the log of a clean run is deleted unless kept."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)
            # Ended by us: the log holds nothing worth keeping.
            if self.log_path is not None and not keep_log:
                self.log_path.unlink(missing_ok=True)


_SERVERS: dict[tuple[str, str, int, int], LocalServer] = {}
_SERVERS_LOCK = threading.Lock()
_ATEXIT = False


def stop_all() -> None:
    """Stop every server this process started (registered to run at exit)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.stop()


def _start_timeout() -> float:
    env = os.environ.get(START_TIMEOUT_ENV)
    if not env:
        return 300.0
    try:
        return max(1.0, float(env))
    except ValueError as exc:
        raise ConfigError(f"{START_TIMEOUT_ENV} must be a number of seconds, got {env!r}") from exc


def _check_runtime(model: str) -> None:
    if os.environ.get(SERVER_SCRIPT_ENV) or os.environ.get(RUNTIME_PYTHON_ENV):
        return  # another interpreter or a stand-in: the child's own error will tell
    for module in ("llama_cpp", "uvicorn", "sse_starlette", "pydantic_settings"):
        if importlib.util.find_spec(module) is None:
            raise LLMError(
                f"the embedded model's runtime is incomplete ({module} is not installed): "
                f"run ./install.sh ({local_model.INSTALL_HINT})",
                model=model,
            )


def ensure(
    model: str,
    *,
    gguf: Path | None = None,
    n_ctx: int = 4096,
    n_threads: int | None = None,
    show_progress: bool = True,
    private: bool = False,
) -> LocalServer:
    """The running server of ``local/<name>``, started (once per process) if need be.

    A server that died since its last request is started again. ``private=True`` always
    starts a new server that is neither shared nor reused (a probe that stops it after use).

    Raises:
        ConfigError: Unknown model, missing GGUF file, bad setting.
        ModelIntegrityError: The assembled weights failed their SHA-256 check.
        LLMError: The runtime is not installed.
        RuntimeCrashed: The server died while loading or did not start.
    """
    global _ATEXIT
    threads = n_threads if n_threads is not None else local_model.default_threads()
    with _SERVERS_LOCK:
        path = local_model.resolve_path(model, gguf, show_progress=show_progress)
        server = LocalServer(model, path, n_ctx=n_ctx, threads=threads, show_progress=False)
        key = (str(path.resolve()), server.alias, n_ctx, threads)
        running = None if private else _SERVERS.get(key)
        if running is not None and running.alive():
            return running
        _check_runtime(model)
        if not _ATEXIT:
            atexit.register(stop_all)
            _ATEXIT = True
        server.show_progress = show_progress
        server.start(_start_timeout())
        if not private:
            _SERVERS[key] = server
        return server


def _connection_lost(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc).lower()
    return bool(names & {"APIConnectionError", "InternalServerError", "ConnectionError"}) or (
        "connection" in text
    )


def completion(litellm: Any, kwargs: dict[str, Any]) -> Any:
    """``litellm.completion`` for a ``local/<name>`` model, through its server.

    Args:
        litellm: The imported litellm module.
        kwargs: The gateway's keyword arguments (with the ``llmgs_*`` local settings).

    Returns:
        litellm's ModelResponse.

    Raises:
        RuntimeCrashed: The server died before or while answering.
        Exception: Whatever litellm raised for a server that is still alive (the gateway
            classifies and retries it like any backend's failure).
    """
    call = dict(kwargs)
    gguf = call.pop(PARAM_GGUF, None)
    n_ctx = int(call.pop(PARAM_N_CTX, None) or 4096)
    n_threads = call.pop(PARAM_N_THREADS, None)
    show = bool(call.pop(PARAM_PROGRESS, True))
    model = str(call["model"])
    server = ensure(
        model,
        gguf=Path(gguf) if gguf else None,
        n_ctx=n_ctx,
        n_threads=int(n_threads) if n_threads is not None else None,
        show_progress=show,
    )
    extra = dict(call.get("extra_body") or {})
    # llama_cpp.server defaults repeat_penalty to 1.1; llama.cpp's own sampler (and llmgs's
    # answers before the server) use 1.0.
    extra.setdefault("repeat_penalty", 1.0)
    call.update(
        model=f"openai/{server.alias}",
        api_base=server.api_base,
        api_key=SERVER_API_KEY,
        timeout=REQUEST_TIMEOUT_S,
        max_retries=0,
        extra_body=extra,
    )
    offset = server.log_size()
    try:
        response = litellm.completion(**call)
    except Exception as exc:  # a dead server is a crash, whatever error the client saw
        code = server.exited(wait_s=3.0 if _connection_lost(exc) else 0.0)
        if code is not None:
            raise server.exit_error(code, "while generating") from exc
        raise
    speed = server.speed_since(offset) if show else None
    if speed is not None:  # prompt and generation apart: one tokens/s figure would mislead
        print(f"    llama.cpp: {speed}", file=sys.stderr, flush=True)
    return response
