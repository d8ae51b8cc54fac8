"""A transport to the real local server that loses answers on demand.

The server applies the request; then the client sees the connection drop, as when a
proxy or the network fails after the mutation was processed. Used to check that bulk
calls reconcile before resending (nothing created twice).
"""

from __future__ import annotations

import json

import httpx


class LoseAnswers(httpx.AsyncBaseTransport):
    """Forward every request; drop the answer of the ``nth`` ones named ``operation``."""

    def __init__(self, operation: str, nth: set[int]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.operation, self.nth = operation, nth
        self.seen = 0
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = json.loads(request.content) if request.method == "POST" else {}
        if isinstance(body, dict) and body.get("operationName") == self.operation:
            self.seen += 1
            if self.seen in self.nth:
                await response.aread()  # the server did the work
                await response.aclose()
                self.lost += 1
                raise httpx.ReadError("connection reset by peer", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
