"""The adaptive concurrency against the real local server: it grows where the latency
calls for it, and under a rate limit it backs off to a pace the server accepts, losing and
duplicating nothing. Counts only, nothing timed (speed is in ``benchmarks/``).

The rate limit is a token bucket in front of the server's app (an ASGI middleware of this
test): the server has no rate limit of its own.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import pytest

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio
INTERFACE = {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "content": {"input": "radio",
             "categories": {"A": {"name": "A"}}}, "required": 1}}}  # fmt: skip
ALLOWED = re.compile(r"requests in flight allowed: (\d+)")


class RateLimit:
    """At most ``per_second`` requests per second (bursts of as many), else 429 with
    ``Retry-After: 1``; counts what it accepted and refused."""

    def __init__(self, app: Callable[..., Awaitable[None]], per_second: float) -> None:
        self.app, self.rate = app, per_second
        self.tokens, self.at = per_second, time.monotonic()
        self.accepted = self.refused = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                self.refused += 1
                wait = max(1, math.ceil((1 - self.tokens) / self.rate))
                headers = [(b"retry-after", str(wait).encode())]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": b"slow down"})
                return
            self.tokens -= 1
            self.accepted += 1
        await self.app(scope, receive, send)


def rate_limited(per_second: float) -> Iterator[tuple[LocalServer, RateLimit]]:
    server = LocalServer()
    config = server._server.config  # wrapped before uvicorn loads it
    limit = RateLimit(config.app, per_second)
    config.app = limit
    with server:
        yield server, limit


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    with LocalServer(latency_ms=100) as server:
        yield server


async def import_urls(kili: aiokili.AsyncKili, count: int) -> tuple[str, list[str]]:
    project = await kili.create_project(title="c", input_type="IMAGE", json_interface=INTERFACE)
    result = await kili.append_many_to_dataset(
        project.id,
        content_array=[f"https://img.example/{i}.jpg" for i in range(count)],
        external_id_array=[f"e{i}" for i in range(count)],
    )
    return project.id, result["asset_ids"]


async def test_far_from_the_server_more_requests_go_in_flight(
    slow_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiokili.http")
    async with aiokili.AsyncKili(api_key=slow_server.api_key, api_endpoint=slow_server.url) as kili:
        project_id, ids = await import_urls(kili, 4000)
        stored = await kili.assets(project_id, fields=["externalId"])
    assert sorted(a.external_id for a in stored) == sorted(f"e{i}" for i in range(4000))
    assert len(set(ids)) == 4000
    allowed = [int(m.group(1)) for r in caplog.records if (m := ALLOWED.search(r.getMessage()))]
    assert max(allowed) >= 12  # from 4: 40 chunks of 100 at 100 ms were worth more at once


async def test_a_cap_of_one_keeps_one_request_in_flight(
    slow_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiokili.http")
    async with aiokili.AsyncKili(
        api_key=slow_server.api_key, api_endpoint=slow_server.url, concurrency=1
    ) as kili:
        _, ids = await import_urls(kili, 500)
    assert len(set(ids)) == 500
    allowed = [int(m.group(1)) for r in caplog.records if (m := ALLOWED.search(r.getMessage()))]
    assert max(allowed, default=4) <= 5  # never used, so never widened much past the start


async def test_under_a_rate_limit_the_client_paces_itself_and_loses_nothing() -> None:
    """20 requests/s against a client that could send hundreds: after the first refusals
    it keeps below the limit (few 429 in all), and every asset is there once."""
    for server, limit in rate_limited(20):
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            project_id, ids = await import_urls(kili, 12_000)
            stored = await kili.with_options(page_size=1000).assets(
                project_id, fields=["externalId"]
            )
        assert len(set(ids)) == 12_000
        assert sorted(a.external_id for a in stored) == sorted(f"e{i}" for i in range(12_000))
        assert limit.refused >= 1, "the test must hit the limit"
        assert limit.refused / (limit.accepted + limit.refused) < 0.08
