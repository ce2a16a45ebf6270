"""Model servers on 127.0.0.1 that speak the real wire APIs, for end-to-end backend tests.

Each server implements the endpoints litellm uses for its provider, with the request checks
the real service makes (so a parameter the provider does not take fails here as it would
there):

- :class:`OllamaAPI`: ``GET /api/tags``, ``POST /api/show``, ``POST /api/generate`` and
  ``POST /api/chat``, streaming NDJSON unless ``"stream": false`` (Ollama's default).
- :class:`AnthropicAPI`: ``POST /v1/messages`` (Messages API: ``anthropic-version`` header,
  ``max_tokens`` required, unknown fields such as ``n`` or ``seed`` rejected with 400).
- :class:`OpenAIAPI`: ``GET /v1/models`` and ``POST /v1/chat/completions`` without a key;
  like llama.cpp's server it may ignore ``n`` (``honours_n=False``).

The answer text comes from a :data:`Responder` given the request's chat messages and its
seed, so tests script what the "model" says. Every request body is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.agent.http_json import read_json, send_body, send_json

Responder = Callable[[list[dict[str, Any]], Any], str]
"""``(chat messages as the server received them, seed or None) -> answer text``."""


def _words(text: Any) -> int:
    return len(str(text).split())


@dataclass
class ServerState:
    """What a test server knows: the script, its models and the requests it got.

    Attributes:
        respond: Makes the answer text.
        models: Model names the server serves (others get the API's "not found").
        honours_n: Whether ``n`` > 1 gives n choices (OpenAI API only).
        delay_s: Seconds each answer takes (a slow CPU server).
        fail_from: Completion requests from this index on fail with a 400 (OpenAI API only).
        requests: ``(path, body, headers)`` of every request, in order.
    """

    respond: Responder
    models: tuple[str, ...] = ("tiny",)
    honours_n: bool = True
    delay_s: float = 0.0
    fail_from: int | None = None
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str) -> list[dict[str, Any]]:
        """Bodies of the POST requests to ``path``."""
        with self.lock:
            return [body for p, body, _ in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    state: ServerState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _ndjson(self, chunks: list[dict[str, Any]]) -> None:
        body = b"".join(json.dumps(c).encode() + b"\n" for c in chunks)
        send_body(self, 200, body, "application/x-ndjson")

    def _body(self) -> dict[str, Any]:
        body = read_json(self)
        with self.state.lock:
            self.state.requests.append((self.path, body, dict(self.headers.items())))
        return body

    def _answer(self, messages: list[dict[str, Any]], seed: Any) -> str:
        if self.state.delay_s:
            time.sleep(self.state.delay_s)
        return self.state.respond(messages, seed)

    def _known(self, model: str) -> bool:
        return model.split(":")[0] in self.state.models


class OllamaAPI(_Handler):
    """Ollama's REST API (github.com/ollama/ollama docs/api.md), as litellm calls it."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/api/tags":
            models = [{"name": f"{m}:latest", "model": f"{m}:latest", "size": 1} for m in
                      self.state.models]  # fmt: skip
            send_json(self, 200, {"models": models})
        elif self.path in ("/", ""):
            send_json(self, 200, "Ollama is running")
        else:
            send_json(self, 404, {"error": "404 page not found"})

    def do_POST(self) -> None:
        body = self._body()
        model = str(body.get("model", body.get("name", "")))
        if self.path == "/api/show":
            if not self._known(model):
                send_json(self, 404, {"error": f"model '{model}' not found"})
                return
            send_json(self, 200, {"template": "{{ .Prompt }}", "details": {"family": "qwen2"},
                             "model_info": {"qwen2.context_length": 4096}})  # fmt: skip
            return
        if self.path not in ("/api/generate", "/api/chat"):
            send_json(self, 404, {"error": "404 page not found"})
            return
        if not self._known(model):
            send_json(self, 404, {"error": f"model '{model}' not found, try pulling it first"})
            return
        options = body.get("options") or {}
        if self.path == "/api/chat":
            messages = list(body.get("messages") or [])
        else:
            messages = [{"role": "user", "content": str(body.get("prompt", ""))}]
            if body.get("system"):
                messages.insert(0, {"role": "system", "content": str(body["system"])})
        text = self._answer(messages, options.get("seed"))
        prompt_tokens = sum(_words(m.get("content", "")) for m in messages)
        final: dict[str, Any] = {
            "model": model, "created_at": "2026-01-01T00:00:00Z", "done": True,
            "done_reason": "stop", "prompt_eval_count": prompt_tokens,
            "eval_count": _words(text), "total_duration": 1,
        }  # fmt: skip
        if self.path == "/api/chat":
            final["message"] = {"role": "assistant", "content": text}
        else:
            final["response"] = text
        if body.get("stream", True):  # Ollama streams unless told not to
            head = dict(final, done=False)
            for key in ("prompt_eval_count", "eval_count", "done_reason", "total_duration"):
                head.pop(key, None)
            if self.path == "/api/chat":
                final["message"] = {"role": "assistant", "content": ""}
            else:
                final["response"] = ""
            self._ndjson([head, final])
        else:
            send_json(self, 200, final)


#: Top-level fields of an Anthropic Messages request (others are rejected, as the API does).
_ANTHROPIC_FIELDS = frozenset({
    "model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k",
    "stop_sequences", "stream", "metadata", "tools", "tool_choice", "thinking",
    "service_tier", "container", "mcp_servers",
})  # fmt: skip


class AnthropicAPI(_Handler):
    """Anthropic's Messages API (``POST /v1/messages``)."""

    def _error(self, status: int, kind: str, message: str) -> None:
        send_json(self, status, {"type": "error", "error": {"type": kind, "message": message}})

    def do_POST(self) -> None:
        body = self._body()
        if self.path.split("?")[0] != "/v1/messages":
            self._error(404, "not_found_error", f"Not Found: {self.path}")
            return
        if not self.headers.get("anthropic-version"):
            self._error(400, "invalid_request_error", "anthropic-version: header is required")
            return
        extra = sorted(set(body) - _ANTHROPIC_FIELDS)
        if extra:
            self._error(400, "invalid_request_error", f"{extra[0]}: Extra inputs are not "
                        "permitted")  # fmt: skip
            return
        if "max_tokens" not in body:
            self._error(400, "invalid_request_error", "max_tokens: Field required")
            return
        model = str(body.get("model", ""))
        if not self._known(model):
            self._error(404, "not_found_error", f"model: {model}")
            return
        messages = list(body.get("messages") or [])
        chat = [
            {"role": m["role"], "content": m["content"] if isinstance(m["content"], str)
             else "".join(part.get("text", "") for part in m["content"])}
            for m in messages
        ]  # fmt: skip
        system = body.get("system")
        if system:
            text = system if isinstance(system, str) else "".join(p["text"] for p in system)
            chat.insert(0, {"role": "system", "content": text})
        answer = self._answer(chat, None)
        send_json(self, 200, {
            "id": "msg_loopback", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": sum(_words(m["content"]) for m in chat),
                      "output_tokens": _words(answer)},
        })  # fmt: skip


class OpenAIAPI(_Handler):
    """The OpenAI chat-completions API without a key (llama.cpp, vLLM, LM Studio...)."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            data = [{"id": m, "object": "model", "owned_by": "me"} for m in self.state.models]
            send_json(self, 200, {"object": "list", "data": data})
        else:
            send_json(self, 404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        body = self._body()
        if self.path.rstrip("/") != "/v1/chat/completions":
            send_json(self, 404, {"error": {"message": "not found", "type": "not_found"}})
            return
        model = str(body.get("model", ""))
        if not self._known(model):
            send_json(self, 404, {"error": {"message": f"model {model} not found", "code": 404,
                                       "type": "not_found_error"}})  # fmt: skip
            return
        fail_from = self.state.fail_from
        if fail_from is not None and len(self.state.posts("/v1/chat/completions")) > fail_from:
            send_json(self, 400, {"error": {"message": "the model refuses", "code": 400,
                                       "type": "invalid_request_error"}})  # fmt: skip
            return
        messages = list(body.get("messages") or [])
        n = int(body.get("n") or 1) if self.state.honours_n else 1
        seed = body.get("seed")
        texts = [self._answer(messages, None if seed is None else seed + k) for k in range(n)]
        prompt_tokens = sum(_words(m.get("content", "")) for m in messages)
        send_json(self, 200, {
            "id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
            "model": model,
            "choices": [
                {"index": k, "message": {"role": "assistant", "content": t},
                 "finish_reason": "stop"} for k, t in enumerate(texts)
            ],
            "usage": {"prompt_tokens": prompt_tokens,
                      "completion_tokens": sum(_words(t) for t in texts),
                      "total_tokens": prompt_tokens + sum(_words(t) for t in texts)},
        })  # fmt: skip


@contextmanager
def serve(api: type[_Handler], state: ServerState) -> Iterator[str]:
    """Run ``api`` on 127.0.0.1 in a thread; yields its base URL (``http://127.0.0.1:PORT``)."""
    handler = type(api.__name__, (api,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
