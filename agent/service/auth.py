"""Optional bearer-token protection of the API.

The token comes from ``--token`` or ``$LLMGS_SERVICE_TOKEN``; it is compared in constant time
and never logged, echoed or stored. The web page and the OpenAPI schema stay public (they hold
no data); every ``/v1`` route requires the token when one is set. The check runs twice: in
:class:`agent.service.guard.RequestGuard`, before any of the body is read, and as the routes'
dependency (which also puts the scheme into the OpenAPI schema).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

#: The 401 message (the same wherever the token is checked).
UNAUTHORIZED = "missing or wrong bearer token (send 'Authorization: Bearer <token>')"

_bearer = HTTPBearer(auto_error=False, description="The token the server was started with.")


def require_token(token: str) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A FastAPI dependency that accepts only ``Authorization: Bearer <token>``.

    Args:
        token: The expected token (non-empty).

    Raises:
        ValueError: An empty token (that would protect nothing).
    """
    if not token:
        raise ValueError("the service token must not be empty")
    expected = token.encode("utf-8")

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:  # noqa: B008
        # Header text is latin-1 decoded bytes; encoding it back gives the bytes sent, which
        # are compared with the token's UTF-8 bytes.
        given = credentials.credentials.encode("latin-1") if credentials is not None else b""
        if credentials is None or not hmac.compare_digest(given, expected):
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail=UNAUTHORIZED,
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
