"""``aiokili server`` behind a rate limit per API key, as a cloud API gateway would enforce
it: a token bucket of ``--per-minute`` requests per minute (bursts up to one second's
worth); a request over it gets HTTP 429 with ``Retry-After`` (whole seconds, at least 1)
and never reaches the server. Every HTTP request counts (GraphQL calls and uploads).

Run: ``python benchmarks/_ratelimited.py --db FILE --api-key KEY --per-minute 600``; prints
the GraphQL endpoint like ``aiokili server``. ``GET /__stats__`` answers the time (server
clock, seconds) of every accepted request and of every refused one.

A stand-in until the server has a rate limit of its own (issue 16's fault injection).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from aiokili.server import LocalServer

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


class RateLimit:
    """A token bucket per ``Authorization`` header in front of an ASGI app."""

    def __init__(self, app: ASGI, per_minute: float) -> None:
        self.app = app
        self.rate = per_minute / 60
        self.capacity = max(1.0, self.rate)
        self.buckets: dict[bytes, tuple[float, float]] = {}  # key -> (tokens, at)
        self.accepted: list[float] = []
        self.refused: list[float] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/__stats__":
            body = json.dumps({"accepted": self.accepted, "refused": self.refused}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return None
        key = dict(scope["headers"]).get(b"authorization", b"")
        now = time.monotonic()
        tokens, at = self.buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            self.refused.append(now)
            wait = max(1, math.ceil((1 - tokens) / self.rate))
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"retry-after", str(wait).encode()),
                                    (b"content-type", b"text/plain")]})  # fmt: skip
            await send({"type": "http.response.body", "body": b"rate limit exceeded"})
            return None
        self.buckets[key] = (tokens - 1, now)
        self.accepted.append(now)
        return await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--per-minute", type=float, default=600)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    server = LocalServer(db=args.db, api_key=args.api_key, latency_ms=args.latency_ms)
    config: uvicorn.Config = server._server.config  # the app, wrapped before it is loaded
    config.app = RateLimit(config.app, args.per_minute)
    with server:
        print(f"GraphQL endpoint: {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
