"""API-key authentication: ``Authorization: X-API-Key: <key>``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import error_body
from .store.db import in_thread

if TYPE_CHECKING:
    from .store import Store
    from .store.users import UserRow

UNAUTHORIZED = (
    "Missing or invalid API key. Send the header 'Authorization: X-API-Key: <key>' "
    "(set KILI_API_KEY or pass api_key=); `aiokili server` prints a key."
)


def api_key_of(request: Request) -> str:
    """The key sent with the request, or ``""``."""
    header = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
    return header.split("X-API-Key:", 1)[-1].strip()


class Authenticator:
    """Key -> user, cached in memory once found (keys are never revoked locally)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, UserRow] = {}

    async def user(self, request: Request) -> UserRow | None:
        """The user whose key the request carries, or ``None``."""
        return await self.user_for_key(api_key_of(request))

    async def user_for_key(self, key: str) -> UserRow | None:
        if not key:
            return None
        user = self._known.get(key)
        if user is None:
            user = await in_thread(self._store.users.user_for_key, key)
            if user is not None:
                self._known[key] = user
        return user


def unauthorized() -> JSONResponse:
    """HTTP 401 with a GraphQL-shaped body (never echoing the key)."""
    return JSONResponse(
        {"data": None, **error_body(UNAUTHORIZED, "UNAUTHENTICATED")}, status_code=401
    )
