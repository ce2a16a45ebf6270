"""The embedded model: assembly and verification (fake parts), and real 0.5B calls (``llm``).

The real calls go through the model's llama.cpp server process, as in production; they share
one server (same file, n_ctx and threads). A runtime that crashes on this CPU fails them with
``RuntimeCrashed``, whose message names the signal and the fix (see test_local_server.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.llm import Gateway, LLMConfig, SamplingSettings, local_model
from agent.llm.local_model import LocalModelSpec, assemble, verify
from envs.errors import ConfigError, LLMError, ModelIntegrityError

CHUNKS = [b"GGUF" + bytes(range(256)) * 50, b"second part" * 999, b"tail"]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalModelSpec:
    """Three importable part packages laid out like the real ones, and their spec."""
    root = tmp_path / "site"
    for i, chunk in enumerate(CHUNKS, start=1):
        package = root / f"llmgs_fake_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(CHUNKS)
    return LocalModelSpec(
        name="fake",
        filename="fake.gguf",
        module_prefix="llmgs_fake_part",
        parts=len(CHUNKS),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )


def test_assemble_concatenates_in_order_and_reuses(
    fake_parts: LocalModelSpec, tmp_path: Path
) -> None:
    out = assemble(fake_parts, directory=tmp_path / "models", show_progress=False)
    assert out.read_bytes() == b"".join(CHUNKS)
    mtime = out.stat().st_mtime_ns
    assert assemble(fake_parts, directory=tmp_path / "models", show_progress=False) == out
    assert out.stat().st_mtime_ns == mtime
    verify(fake_parts, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["fake.gguf"]


def test_hash_mismatch_is_refused_and_leaves_no_file(
    fake_parts: LocalModelSpec, tmp_path: Path
) -> None:
    bad = LocalModelSpec(**{**fake_parts.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelIntegrityError, match="was not used"):
        assemble(bad, directory=tmp_path / "models", show_progress=False)
    assert list((tmp_path / "models").iterdir()) == []


def test_tampered_file_is_never_verified(fake_parts: LocalModelSpec, tmp_path: Path) -> None:
    out = assemble(fake_parts, directory=tmp_path / "models", show_progress=False)
    data = bytearray(out.read_bytes())
    data[10] ^= 0xFF
    out.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="not loaded"):
        verify(fake_parts, out)


def test_missing_parts_say_how_to_install(tmp_path: Path) -> None:
    spec = LocalModelSpec("absent", "absent.gguf", "llmgs_no_such_part", 2, 10, "0" * 64)
    with pytest.raises(LLMError, match=r'pip install "llmgs\[local\]"'):
        assemble(spec, directory=tmp_path, show_progress=False)


def test_unknown_local_model_and_missing_gguf_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="local/qwen2.5-coder-0.5b"):
        local_model.get_spec("local/nope")
    with pytest.raises(ConfigError, match="does not exist"):
        local_model.resolve_path("x", tmp_path / "missing.gguf")


def test_thread_count_respects_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMGS_THREADS", "1")
    assert local_model.default_threads() == 1
    monkeypatch.delenv("LLMGS_THREADS")
    assert 1 <= local_model.default_threads() <= 8


SMALL = "local/qwen2.5-coder-0.5b"
PROMPT = [{"role": "user", "content": "Write a Python function that adds two numbers."}]


@pytest.mark.llm
def test_local_model_answers_n_samples_and_repeats_from_cache(cache_dir: Path) -> None:
    gateway = Gateway(LLMConfig(model=SMALL, n_ctx=2048), show_progress=False)
    settings = SamplingSettings(n=2, temperature=0.8, max_tokens=24, seed=1)
    out = gateway.complete(PROMPT, settings)
    assert len(out.items) == 2
    assert all(c.text.strip() and not c.cached for c in out.items)
    assert out.usage.calls == 2  # the server answers one sample a request: asked again, seed + 1
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0
    assert out.usage.cost_usd == 0.0
    again = gateway.complete(PROMPT, settings)
    assert again.texts == out.texts and all(c.cached for c in again.items)
    assert again.usage.calls == 0 and gateway.usage.calls == 2


@pytest.mark.llm
def test_cli_llm_local_fresh_then_cached(cache_dir: Path, no_api_keys: None) -> None:
    cmd = [sys.executable, "-m", "agent.cli", "llm", "Say hi.", "--model", SMALL]
    cmd += ["--max-tokens", "8", "--json"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300)
    record = json.loads(first.stdout)
    assert record["cached"] is False and record["text"].strip()
    assert record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
    second = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
    again = json.loads(second.stdout)
    assert again["cached"] is True and again["text"] == record["text"]


@pytest.mark.llm
def test_prompt_longer_than_context_is_a_clear_error_not_retried(cache_dir: Path) -> None:
    gateway = Gateway(LLMConfig(model=SMALL, n_ctx=2048, cache="off"), show_progress=False)
    long_prompt = [{"role": "user", "content": "move turn_left " * 1500}]
    with pytest.raises(LLMError, match="does not fit the model's context") as info:
        gateway.complete(long_prompt, SamplingSettings(max_tokens=4))
    assert not info.value.retryable
    assert gateway.usage.calls == 0


def test_integrity_failure_surfaces_through_the_gateway_unretried(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGS_MODEL_DIR", str(tmp_path / "models"))
    spec = local_model.LOCAL_MODELS["qwen2.5-coder-0.5b"]
    fake = tmp_path / "models" / spec.filename
    fake.parent.mkdir(parents=True)
    with open(fake, "wb") as fh:  # right size, wrong bytes: must be refused, never loaded
        fh.truncate(spec.size)
    sleeps: list[float] = []
    gateway = Gateway(LLMConfig(model=SMALL), sleep=sleeps.append, show_progress=False)
    with pytest.raises(ModelIntegrityError, match="not loaded"):
        gateway.complete(PROMPT, SamplingSettings(max_tokens=4))
    assert sleeps == []


@pytest.mark.llm
def test_a_users_own_gguf_is_loaded_and_keyed_by_its_path(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = local_model.get_spec(SMALL)
    own = local_model.assemble(spec, show_progress=False)  # stands in for a user's file
    monkeypatch.setenv("LLMGS_GGUF", str(own))
    gateway = Gateway(LLMConfig(model="local/my-model", n_ctx=2048), show_progress=False)
    assert str(own.resolve()) in gateway.model_id
    out = gateway.complete(PROMPT, SamplingSettings(max_tokens=4, seed=0))
    assert out.items[0].text.strip() and out.usage.completion_tokens > 0


@pytest.mark.llm
def test_models_probe_generates_in_a_child_process_and_reports_speeds() -> None:
    from agent.commands.models import probe_local

    row = probe_local(SMALL, max_tokens=8)
    assert row.probe == "ok", row.status  # a crash here names its signal and the fix
    assert row.ready and row.signal is None
    assert row.load_s is not None and row.load_s > 0
    assert row.prompt_tok_s is not None and row.prompt_tok_s > 0
    assert row.gen_tok_s is not None and row.gen_tok_s > 0


@pytest.mark.llm
def test_a_grammar_in_the_request_body_constrains_the_real_model() -> None:
    from agent.llm import local_server
    from agent.llm.gateway import import_litellm

    kwargs = {
        "model": SMALL,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0.0,
        "seed": 0,
        "extra_body": {"grammar": 'root ::= "move()" ("\\n" "turnLeft()")?'},
        "llmgs_n_ctx": 2048,
        "llmgs_progress": False,
    }
    response = local_server.completion(import_litellm(), kwargs)
    assert response.choices[0].message.content in ("move()", "move()\nturnLeft()")
