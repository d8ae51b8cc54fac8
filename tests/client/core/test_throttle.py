"""Client-wide back-off on 429: everyone pauses, requests are paced below the rate the API
accepted (unless it said ``Retry-After: 0``), then recover; bulk concurrency adapts to how
the API answers, under the client's cap.

A server cannot be made to rate limit on the 3rd request on demand, so respx plays it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import anyio
import httpx
import pytest
import respx
from support import answer_interface_lookups

import aiokili

URL = "https://kili.example/api/label/v2/graphql"
PAUSE = 0.3
pytestmark = pytest.mark.anyio


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


class RateLimitedServer:
    """Answers appendManyLabels after 20 ms; the 3rd request gets 429 + Retry-After."""

    def __init__(self, pause: str = str(PAUSE), limited: int = 3) -> None:
        self.pause, self.limited = pause, limited
        self.in_flight = 0
        self.starts: list[tuple[float, int]] = []  # (time, requests in flight then)
        self.limited_at: float | None = None
        self.calls = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        number = self.calls
        self.in_flight += 1
        self.starts.append((anyio.current_time(), self.in_flight))
        try:
            await anyio.sleep(0.02)
            if number == self.limited:
                self.limited_at = anyio.current_time()
                return httpx.Response(429, text="slow down", headers={"Retry-After": self.pause})
            labels = json.loads(request.content)["variables"]["data"]["labelsData"]
            ids = [{"id": f"l{number}-{i}"} for i in range(len(labels))]
            return httpx.Response(200, json={"data": {"data": ids}})
        finally:
            self.in_flight -= 1


async def _append_labels(
    api: respx.MockRouter, server: RateLimitedServer, count: int
) -> tuple[list[str], float]:
    """``count`` labels appended through ``server`` with ``concurrency=4``; their ids, and
    the client's pace right after (requests per second; inf: not paced)."""
    answer_interface_lookups(api, URL)
    api.post(URL).mock(side_effect=server)
    answer = {"JOB": {"categories": [{"name": "A"}]}}
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL, concurrency=4) as kili:
        ids = await kili.append_labels(
            asset_id_array=[f"a{i}" for i in range(count)], json_response_array=[answer] * count
        )
        return ids, kili._core.runtime.concurrency.limit.pace(anyio.current_time())


async def test_a_429_pauses_the_client_then_it_recovers(
    api: respx.MockRouter,
) -> None:
    server = RateLimitedServer()
    ids, _ = await _append_labels(api, server, 4000)
    assert len(ids) == 4000 and len(set(ids)) == 4000  # every label once, in order
    assert server.calls == 40 + 1  # 40 chunks of 100, one resent
    assert server.limited_at is not None
    resume = server.limited_at + PAUSE
    during = [t for t, _ in server.starts if server.limited_at < t < resume - 0.01]
    assert during == [], "no request may start while the client is paused"
    after = [n for t, n in server.starts if t >= resume - 0.01]
    assert max(after) == 4, "the window is the configured concurrency again"
    assert max(n for _, n in server.starts) == 4


@pytest.mark.parametrize(("retry_after", "paced"), [("0", False), ("0.1", True)])
async def test_a_429_paces_requests_unless_it_says_retry_now(
    api: respx.MockRouter, retry_after: str, paced: bool
) -> None:
    server = RateLimitedServer(pause=retry_after, limited=12)  # after 11 answers: a rate
    ids, pace = await _append_labels(api, server, 2000)
    assert len(set(ids)) == 2000 and server.limited_at is not None
    assert (pace < 1_000) is paced, pace


async def test_an_unknown_outcome_is_reconciled_before_anything_is_resent() -> None:
    """The 2nd chunk is applied, then its answer is lost: only the unapplied items go again."""
    from aiokili._core.bulk import run_bulk

    applied: list[int] = []
    calls: list[list[int]] = []

    async def send(chunk: Sequence[int]) -> list[str]:
        calls.append(list(chunk))
        if chunk[0] == 10 and len(calls) <= 3:
            applied.extend(chunk[:5])  # half applied, then the connection dropped
            error = aiokili.APIConnectionError("Connection to the API failed: ReadError")
            error.outcome_unknown = True
            raise error
        applied.extend(chunk)
        return [f"id{i}" for i in chunk]

    async def reconcile(chunk: Sequence[int]) -> list[str | None]:
        return [f"id{i}" if i in applied else None for i in chunk]

    items = list(range(30))
    results = await run_bulk(
        "op", items, send, keys=[None] * 30, indexes=items, chunk_size=10, concurrency=1,
        reconcile=reconcile,
    )  # fmt: skip
    assert results == [f"id{i}" for i in items]
    assert sorted(applied) == items, "every item applied exactly once"
    assert calls[2] == list(range(15, 20)), "only the items the API had not applied are resent"


class LatencyServer:
    """Answers appendManyLabels after ``base`` s plus ``per_request`` s per request in
    flight (a server that queues), recording how many were in flight."""

    def __init__(self, base: float, per_request: float) -> None:
        self.base, self.per_request = base, per_request
        self.in_flight = 0
        self.peak = 0
        self.calls = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(self.base + self.per_request * self.in_flight)
            labels = json.loads(request.content)["variables"]["data"]["labelsData"]
            ids = [{"id": f"l{self.calls}-{i}"} for i in range(len(labels))]
            return httpx.Response(200, json={"data": {"data": ids}})
        finally:
            self.in_flight -= 1


def virtual_time() -> tuple[str, dict[str, object]]:
    """trio with a clock that jumps to the next wake-up whenever every task waits: the
    simulated server's latencies are exact, whatever else the machine is doing."""
    from trio.testing import MockClock

    return ("trio", {"clock": MockClock(autojump_threshold=0)})


@pytest.mark.parametrize("anyio_backend", [virtual_time()])
@pytest.mark.parametrize(
    ("base", "per_request", "count", "lowest", "highest"),
    [
        (0.2, 0.0, 20000, 24, 128),  # far away, never queueing: widen far past 4, to the cap
        (0.0, 0.01, 6000, 1, 8),  # nearby and queueing: stay narrow
    ],
)
async def test_bulk_concurrency_adapts_to_how_the_api_answers(
    api: respx.MockRouter, base: float, per_request: float, count: int, lowest: int, highest: int
) -> None:
    server = LatencyServer(base, per_request)
    answer_interface_lookups(api, URL)
    api.post(URL).mock(side_effect=server)
    answer = {"JOB": {"categories": [{"name": "A"}]}}
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:  # default cap 128
        ids = await kili.append_labels(
            asset_id_array=[f"a{i}" for i in range(count)], json_response_array=[answer] * count
        )
    assert len(ids) == count
    assert lowest <= server.peak <= highest


async def test_the_cap_holds_for_every_call_of_the_client_together(
    api: respx.MockRouter,
) -> None:
    """Two bulk calls at once, one through a ``with_options`` copy: the slots are shared, so
    the server never sees more than the cap in flight, though each call alone could use it."""
    server = LatencyServer(0.1, 0.0)
    answer_interface_lookups(api, URL)
    api.post(URL).mock(side_effect=server)
    answer = {"JOB": {"categories": [{"name": "A"}]}}
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL, concurrency=12) as kili:
        other = kili.with_options(timeout=30)

        async def append(client: aiokili.AsyncKili) -> None:
            ids = await client.append_labels(
                asset_id_array=[f"a{i}" for i in range(3000)], json_response_array=[answer] * 3000
            )
            assert len(ids) == 3000

        async with anyio.create_task_group() as tg:
            tg.start_soon(append, kili)
            tg.start_soon(append, other)
    assert server.peak == 12
