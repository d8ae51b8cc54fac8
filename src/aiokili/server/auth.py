"""API-key authentication: ``Authorization: X-API-Key: <key>``.

Keys are stored hashed (``store/users.py``); the owner of a key is remembered by the key's
hash, except a plugin run's: read from the database on each request, so once the run ends
(in whichever process) or its key expires, it is refused. The user itself is read from the user repository, whose copy every change refreshes:
a deactivated user's keys are refused from the next request on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from .errors import error_body
from .store.db import in_thread
from .store.users import hash_key

if TYPE_CHECKING:
    from .store import Store
    from .store.users import UserRow

UNAUTHORIZED = (
    "Missing or invalid API key. Send the header 'Authorization: X-API-Key: <key>' "
    "(set KILI_API_KEY or pass api_key=); `aiokili server` prints a key."
)
DEACTIVATED = (
    "The user of this API key is deactivated: its keys are refused. An organization admin "
    "can activate it again (update_properties_in_user(email, activated=True))."
)


def api_key_of(request: HTTPConnection) -> str:
    """The key sent with the request, or ``""``."""
    header = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
    return header.split("X-API-Key:", 1)[-1].strip()


class Authenticator:
    """Key -> user (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._owners: dict[str, str] = {}  # key hash -> user id

    async def user(self, request: Request) -> UserRow | None:
        """The activated user whose key the request carries, or ``None``."""
        return await self.user_for_key(api_key_of(request))

    async def user_for_key(self, key: str) -> UserRow | None:
        """The activated owner of ``key``, or ``None``."""
        owner = await self.owner(key)
        return owner if owner is not None and owner.activated else None

    async def owner(self, key: str) -> UserRow | None:
        """The owner of ``key``, activated or not; ``None`` for an unknown key."""
        if not key:
            return None
        if self._store.shared and await in_thread(self._store.refresh):
            self._owners = {}  # a key may have been revoked by another process
        digest = hash_key(key)
        user_id = self._owners.get(digest)
        if user_id is None:
            found = await in_thread(self._store.users.key_owner, digest)
            if found is None:
                return None
            user_id, run = found
            if not run:  # a plugin run's key is read each time: revoked or expired, refused
                self._owners[digest] = user_id
        user = self._store.users.cached(user_id)
        if user is None:
            user = (await in_thread(self._store.users.by_ids, [user_id])).get(user_id)
        return user


def refusal(owner: UserRow | None) -> str:
    """Why a request with the key of ``owner`` (None: an unknown key) is refused."""
    return UNAUTHORIZED if owner is None else DEACTIVATED


def unauthorized(owner: UserRow | None = None) -> JSONResponse:
    """HTTP 401 with a GraphQL-shaped body (never echoing the key)."""
    return JSONResponse(
        {"data": None, **error_body(refusal(owner), "UNAUTHENTICATED")}, status_code=401
    )
