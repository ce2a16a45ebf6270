"""The test command assumes the ``[dev]`` install: every optional extra must be importable.

Some test modules skip themselves when an optional extra is missing (so a partial install can
still run the rest); this test makes such a gap a failure of the suite instead of a silent skip.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

EXTRAS = {
    "llama_cpp": "local",
    "fastapi": "serve",
    "uvicorn": "serve",
    "schemathesis": "test",
    "playwright": "test",
    "hypothesis": "test",
    "ray": "ray",
}


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_dev_install_provides(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(
            f"{module} (extra '{EXTRAS[module]}') is missing: install with pip install -e '.[dev]'"
            f" ({exc})"
        )


def test_import_agent_stays_light() -> None:
    """``import agent`` must not pay for litellm (about 3 s) or numba."""
    code = (
        "import sys, agent, envs, search; print('litellm' in sys.modules, 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
