"""What each backend gets: the parameters its provider accepts, and defaults that suit it.

Two questions about a model string, answered in one place:

- **Which OpenAI parameters may be sent?** litellm knows each provider's list
  (``litellm.get_supported_openai_params``); the gateway sends ``n`` only where it is listed
  (else one request per sample, sample ``i`` seeded ``seed + i``) and ``seed`` only where it is
  listed (it stays in the cache key either way). :data:`PROVIDER_NOTES` says the same in words
  for ``--help`` and docs; a test checks it against litellm.
- **How much to ask for?** A model on this machine's CPU (embedded, or a server on loopback
  or the local network: Ollama, llama.cpp, vLLM on a laptop) writes one answer in seconds to
  tens of seconds; a hosted frontier model answers 32 in one request. :func:`backend_defaults`
  gives samples per round, ``max_tokens`` and a wall-time budget for generation by kind.

Importing this module does not import litellm; :func:`supported_params` does, on first use.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlparse

from envs.errors import LLMError

BackendKind = Literal["embedded", "server", "hosted"]
"""``embedded``: ``local/...`` in-process or child-process llama.cpp; ``server``: a server of
the user's own (loopback or private address, or a local-server provider such as Ollama);
``hosted``: a provider's cloud API."""

#: Providers whose default endpoint is a server on the user's machine.
LOCAL_SERVER_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "hosted_vllm", "lm_studio", "llamafile", "llama_cpp"}
)

#: What each provider gets, in words (``llmgs solve --help`` and docs/backends.md).
PROVIDER_NOTES = (
    "openai/NAME: n samples per request, seeded; openai/NAME with --api-base (llama.cpp, vLLM, "
    "LM Studio): one sample per request, seeded; ollama/NAME and ollama_chat/NAME: one request "
    "per sample, seeded; anthropic/NAME: one request per sample, unseeded (the seed still "
    "keys the cache); local/...: embedded, one sample at a time, seeded"
)


@dataclass(frozen=True)
class BackendDefaults:
    """Sampling defaults that suit one kind of backend.

    Attributes:
        kind: The backend kind.
        samples: Programs asked for per round.
        max_tokens: Tokens per answer (valid answers are 100-300 tokens).
        generation_s: Wall-time budget of generation (all rounds together); once spent no
            more answers are asked for and the search starts with the evaluations left.
        one_per_request: Ask one answer per request, so progress shows after each answer.
        timeout_s: Per-request timeout (a CPU server may need minutes for one answer).
    """

    kind: BackendKind
    samples: int
    max_tokens: int
    generation_s: float
    one_per_request: bool
    timeout_s: float


_DEFAULTS: dict[str, BackendDefaults] = {
    # ~3-35 s per answer on a CPU: 8 answers fit the 5 minutes, a runaway answer is cut short.
    "embedded": BackendDefaults("embedded", 8, 384, 300.0, True, 600.0),
    "server": BackendDefaults("server", 8, 384, 300.0, True, 600.0),
    # The paper's 32 samples and 1024 tokens; one request with n=32 where the provider takes n.
    "hosted": BackendDefaults("hosted", 32, 1024, 600.0, False, 120.0),
}


def provider_of(model: str) -> str:
    """The provider prefix of a litellm model string (``openai/gpt-4o`` -> ``openai``)."""
    return model.split("/", 1)[0]


def is_private_url(url: str) -> bool:
    """Whether ``url`` points at this machine or a private network (a server of the user's)."""
    host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    if host in ("localhost", "host.docker.internal") or host.endswith((".local", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def backend_kind(model: str, api_base: str | None = None) -> BackendKind:
    """The kind of backend a model string and server URL name."""
    provider = provider_of(model)
    if provider == "local":
        return "embedded"
    if api_base is not None:
        return "server" if is_private_url(api_base) else "hosted"
    return "server" if provider in LOCAL_SERVER_PROVIDERS else "hosted"


def backend_defaults(model: str | None, api_base: str | None = None) -> BackendDefaults:
    """Samples, ``max_tokens`` and generation time that suit this backend.

    ``model=None`` (an injected model of the caller's own) gets the hosted defaults.
    """
    if model is None:
        return _DEFAULTS["hosted"]
    return _DEFAULTS[backend_kind(model, api_base)]


def import_litellm() -> Any:
    """Import litellm the way llmgs needs it: offline price map, no telemetry, quiet."""
    # Without the local map every import tries a network fetch of prices and warns.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


@lru_cache(maxsize=64)
def supported_params(model: str) -> frozenset[str] | None:
    """The OpenAI parameters litellm says this model's provider accepts.

    Returns:
        The parameter names, or None for the embedded ``local`` provider (it takes them all).

    Raises:
        LLMError: litellm does not know the provider (the message lists what to write).
    """
    provider = provider_of(model)
    if provider == "local":
        return None
    litellm = import_litellm()
    name = model.split("/", 1)[1] if "/" in model else model
    if provider not in litellm.provider_list:
        raise LLMError(
            f"litellm does not know the provider {provider!r} of {model!r}: write "
            "openai/NAME (with --api-base for any OpenAI-compatible server), ollama/NAME, "
            "anthropic/NAME, ... or local/qwen2.5-coder-0.5b",
            model=model,
        )
    params = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider)
    return frozenset(params or ())


def one_per_request(model: str | None, api_base: str | None = None) -> bool:
    """Whether to ask this backend for one answer per request.

    True for models on the user's machine (each answer takes seconds, and progress should show
    after each) and for providers that do not take ``n`` (the gateway would send one request
    per sample anyway). ``model=None`` (an injected model) gets all samples in one request.

    Raises:
        LLMError: litellm does not know the provider.
    """
    if model is None:
        return False
    if backend_defaults(model, api_base).one_per_request:
        return True
    params = supported_params(model)
    return params is not None and "n" not in params
