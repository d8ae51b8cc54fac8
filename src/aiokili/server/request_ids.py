"""``X-Request-Id`` on every HTTP answer, so that a client's error can name the request
(and the server's log line about it)."""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
SCOPE_KEY = "aiokili.request_id"


def new_request_id() -> str:
    """A fresh id: ``req_`` and 16 hex digits."""
    return f"req_{secrets.token_hex(8)}"


class RequestIds:
    """ASGI middleware: gives each HTTP request an id (in ``scope[SCOPE_KEY]``) and sends
    it back as ``X-Request-Id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = new_request_id()
        scope[SCOPE_KEY] = request_id
        header = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)
