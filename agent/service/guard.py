"""The first thing every request meets: the token check, then the body-size limit.

FastAPI reads and parses a request's body before it runs the route's dependencies, so a token
checked as a dependency would let an anonymous client make the server hold any body it sends.
:class:`RequestGuard` is plain ASGI middleware in front of the routing: it refuses a ``/v1``
request without the right bearer token from its headers alone (401, nothing read), refuses a
declared ``Content-Length`` over the limit (413, nothing read), and counts the bytes of a body
as they arrive, refusing it (413) as soon as it passes the limit, so at most ``max_body_bytes``
of a body are ever held.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from agent.service.auth import UNAUTHORIZED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Largest request body by default (a request is at most a few kilobytes of JSON).
MAX_BODY_BYTES = 64 * 1024
#: Routes that require the token when the server has one.
PROTECTED_PREFIX = "/v1"


class RequestGuard:
    """ASGI middleware: bearer token first, then a streamed body-size limit.

    Args:
        app: The application behind it.
        token: The server's token, or None for an open API.
        max_body_bytes: Largest body accepted.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, max_body_bytes: int) -> None:
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be >= 1, got {max_body_bytes}")
        self.app = app
        self.expected = token.encode("utf-8") if token is not None else None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if (
            self.expected is not None
            and _protected(scope["path"])
            and not self._authorized(headers)
        ):
            await _reply(send, 401, UNAUTHORIZED, {"www-authenticate": "Bearer"})
            return
        length = headers.get("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                await _reply(send, 400, f"Content-Length must be a byte count, got {length[:40]!r}")
                return
            if len(length) > 18 or int(length) > self.max_body_bytes:
                await _reply(send, 413, self._too_large())
                return
        body = bytearray()
        first: Message = {"type": "http.request", "body": b"", "more_body": False}
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                first = message
                break
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _reply(send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": bytes(body), "more_body": False}
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()  # e.g. http.disconnect while an event stream is open

        await self.app(scope, replay, send)

    def _authorized(self, headers: dict[str, str]) -> bool:
        # Same rule as fastapi.security.HTTPBearer: "Bearer <credentials>", scheme in any case.
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        given = credentials.strip().encode("latin-1")
        if scheme.lower() != "bearer" or not given or self.expected is None:
            return False
        return hmac.compare_digest(given, self.expected)

    def _too_large(self) -> str:
        return (
            f"request body too large: this server accepts at most {self.max_body_bytes} bytes "
            "(a solve request is a few kilobytes of JSON)"
        )


def _protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name (the last one wins), decoded as latin-1 as HTTP is."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _reply(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    """A JSON error (the API's ``ErrorBody``) that closes the connection: the rest of the
    body, unread, is not worth waiting for."""
    body = json.dumps({"detail": detail}).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
