"""JSON in and out of the test HTTP servers (the loopback model APIs, the fake OpenAI server
and the fake llama.cpp server): one way to answer and to read a body, for all of them."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


def send_body(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    """Answer with ``body`` and its length (so keep-alive connections know where it ends)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    """Answer with ``payload`` as JSON."""
    send_body(handler, status, json.dumps(payload).encode("utf-8"), "application/json")


def read_json(handler: BaseHTTPRequestHandler) -> Any:
    """The request's JSON body; ``{}`` when it has none."""
    length = int(handler.headers.get("Content-Length", "0") or 0)
    raw = handler.rfile.read(length) if length else b""
    return json.loads(raw or b"{}")
