"""Optional bearer-token protection of the API.

The token comes from ``--token`` or ``$LLMGS_SERVICE_TOKEN``; it is compared in constant time
and never logged, echoed or stored. The web page and the OpenAPI schema stay public (they hold
no data); every ``/v1`` route requires the token when one is set.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
        given = credentials.credentials.encode("utf-8") if credentials is not None else b""
        if credentials is None or not hmac.compare_digest(given, expected):
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
