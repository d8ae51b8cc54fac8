"""The adaptive concurrency's decisions (``_core.concurrency.Limit``), driven by a simulated
server in simulated time: deterministic, nothing timed. Then its slots (``Concurrency``).

The simulated client always has work waiting (a bulk call, a listing); it sends while the
limit, the pace and any pause allow, as the real gate does. The simulated server adds a
network latency, runs ``workers`` requests at a time for ``service`` seconds each (the
others queue), and may refuse requests over a token-bucket rate limit with HTTP 429.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import pytest

from aiokili._core.concurrency import Concurrency, Limit, in_order

pytestmark = pytest.mark.anyio


@dataclass
class Server:
    latency: float  # seconds each way together (the round trip's network part)
    service: float = 0.001  # seconds of work per request
    workers: int = 1_000_000  # requests processed at once; the others queue
    rate: float = math.inf  # requests accepted per second (token bucket), else 429
    burst: float = 10.0
    retry_after: float = 1.0
    refuse_share: float = 0.0  # refused with 429 at random, whatever the rate
    busy_until: list[float] = field(default_factory=list)
    draws: random.Random = field(default_factory=lambda: random.Random(16))
    tokens: float = 0.0
    refilled: float = 0.0

    def answer(self, sent: float) -> tuple[float, bool]:
        """When the answer to a request sent at ``sent`` is back, and whether it was refused."""
        arrive = sent + self.latency / 2
        if self.refuse_share and self.draws.random() < self.refuse_share:
            return arrive + self.latency / 2, True
        if not math.isinf(self.rate):
            self.tokens = min(self.burst, self.tokens + (arrive - self.refilled) * self.rate)
            self.refilled = arrive
            if self.tokens < 1:
                return arrive + self.latency / 2, True
            self.tokens -= 1
        if len(self.busy_until) < self.workers:
            start = arrive
        else:
            start = max(arrive, heapq.heappop(self.busy_until))
        heapq.heappush(self.busy_until, start + self.service)
        return start + self.service + self.latency / 2, False


@dataclass
class Run:
    answered: int = 0
    refused: int = 0
    peak: int = 0
    limits: list[float] = field(default_factory=list)  # the limit after each answer
    accepted_at: list[float] = field(default_factory=list)


def simulate(server: Server, limit: Limit, *, seconds: float, cap: int = 64) -> Run:
    """A backlogged client against ``server`` for ``seconds`` of simulated time."""
    run = Run()
    now, next_start, resume_at = 0.0, 0.0, 0.0
    flying: list[tuple[float, int, float, int, int, bool]] = []  # (answer at, number, sent at,
    number = 0  # epoch, in flight then, refused)
    while now < seconds:
        while len(flying) < min(cap, limit.slots) and now >= max(next_start, resume_at):
            if not math.isinf(limit.pace(now)):
                next_start = now + 1 / limit.pace(now)
            number += 1
            back, refused = server.answer(now)
            heapq.heappush(flying, (back, number, now, limit.epoch, len(flying) + 1, refused))
            run.peak = max(run.peak, len(flying))
        wake = [flying[0][0]] if flying else []
        if len(flying) < min(cap, limit.slots):
            wake.append(max(next_start, resume_at))
        if not flying or flying[0][0] > min(wake):
            now = min(wake)
            continue
        back, _, sent, epoch, in_flight, refused = heapq.heappop(flying)
        now = back
        if refused:
            run.refused += 1
            limit.rate_limited(now, sent)
            resume_at = max(resume_at, now + server.retry_after)
        else:
            run.answered += 1
            run.accepted_at.append(now)
            limit.answered("op", back - sent, now, in_flight, epoch)
        run.limits.append(limit.value)
    return run


def rate_between(run: Run, start: float, end: float) -> float:
    return sum(start <= t < end for t in run.accepted_at) / (end - start)


def test_far_from_the_server_the_limit_grows_to_the_cap_within_a_few_round_trips() -> None:
    limit = Limit(initial=4, ceiling=64)
    run = simulate(Server(latency=0.050), limit, seconds=0.5)
    assert limit.slots == 64
    assert run.peak == 64
    first_at_cap = next(i for i, v in enumerate(run.limits) if v >= 64)
    assert first_at_cap < 4 + 8 + 16 + 32 + 64  # about doubling per round trip


def test_a_server_that_queues_keeps_the_limit_near_what_it_can_run() -> None:
    """4 workers, 5 ms each, next door: more than a few in flight only queue."""
    limit = Limit(initial=4, ceiling=64)
    run = simulate(Server(latency=0.0002, service=0.005, workers=4), limit, seconds=5)
    assert 4 <= min(run.limits[-500:]) and max(run.limits[-500:]) <= 16
    assert rate_between(run, 1, 5) >= 0.95 * 4 / 0.005  # the server kept busy


def test_at_50_ms_the_client_fills_a_busy_server_without_flooding_it() -> None:
    """The server's capacity is 500 requests/s: at 50 ms that needs ~29 in flight."""
    limit = Limit(initial=4, ceiling=64)
    run = simulate(Server(latency=0.050, service=0.008, workers=4), limit, seconds=10)
    assert rate_between(run, 2, 10) >= 0.9 * 4 / 0.008
    assert max(run.limits[-1000:]) < 64  # the queue stopped the growth below the cap


def test_the_limit_grows_only_while_it_is_used() -> None:
    limit = Limit(initial=4, ceiling=64)
    for i in range(1000):  # one request at a time, every answer as fast as the fastest
        limit.answered("op", 0.05, i * 0.05, in_flight=1, epoch=limit.epoch)
    assert limit.slots == 4


def test_rising_latency_lowers_the_limit() -> None:
    limit = Limit(initial=32, ceiling=64)
    limit.answered("op", 0.010, 0.0, in_flight=32, epoch=0)
    for i in range(10):  # a round trip's worth of answers three times slower: ~21 queued
        limit.answered("op", 0.030, 0.1 + i * 0.001, in_flight=32, epoch=0)
    assert 26 <= limit.slots <= 32  # about one fewer per round trip, not a collapse
    for i in range(300):  # it goes on: down to where answers no longer queue
        limit.answered("op", 0.030, 0.2 + i * 0.001, in_flight=32, epoch=0)
    assert limit.slots < 16


def test_each_kind_of_request_is_judged_against_its_own_fastest_answer() -> None:
    limit = Limit(initial=8, ceiling=64)
    for i in range(200):  # quick look-ups and slow bulk writes, neither queueing
        limit.answered("lookup", 0.002, i * 0.01, in_flight=64, epoch=0)
        limit.answered("write", 0.200, i * 0.01, in_flight=64, epoch=0)
    assert limit.slots == 64


def test_a_drop_halves_the_limit_once_per_round_of_requests() -> None:
    limit = Limit(initial=40, ceiling=64)
    sent_before = limit.epoch
    assert limit.dropped(sent_before)
    assert limit.slots == 20
    assert not limit.dropped(sent_before)  # the others of that round: already counted
    limit.answered("op", 0.001, 1.0, in_flight=20, epoch=sent_before)  # stale: ignored
    assert limit.slots == 20
    assert limit.dropped(limit.epoch)
    assert limit.slots == 10
    for _ in range(10):
        limit.dropped(limit.epoch)
    assert limit.slots == 1  # never below one


def test_under_a_rate_limit_throughput_converges_with_few_429() -> None:
    """600 requests per minute (token bucket of 10), a server 10 ms away that could take
    thousands: the client settles just under the limit, fewer than 5% of answers 429."""
    limit = Limit(initial=4, ceiling=64)
    server = Server(latency=0.010, rate=10.0, burst=10.0, retry_after=1.0)
    run = simulate(server, limit, seconds=300)
    assert run.refused / (run.answered + run.refused) < 0.05
    settled = rate_between(run, 60, 300)
    assert 0.8 * 10 <= settled <= 10.0 + 0.1


def test_a_rate_limit_far_away_is_also_met() -> None:
    limit = Limit(initial=4, ceiling=64)
    server = Server(latency=0.100, rate=50.0, burst=50.0, retry_after=1.0)
    run = simulate(server, limit, seconds=120)
    assert run.refused / (run.answered + run.refused) < 0.05
    assert rate_between(run, 30, 120) >= 0.8 * 50


def test_429s_at_random_do_not_drive_the_pace_down_round_after_round() -> None:
    """2% of answers are 429 (``Retry-After: 0``) whatever the rate, as under injected
    faults: each used to lower the pace by 10% while it rose 0.1% per answer, so the pace
    fell round after round (to 2 requests/s within 80 s of an import of 100,000 assets)."""
    free = simulate(Server(latency=0.010, service=0.005, workers=4), Limit(), seconds=120)
    server = Server(latency=0.010, service=0.005, workers=4, refuse_share=0.02, retry_after=0)
    limit = Limit()
    run = simulate(server, limit, seconds=120)
    assert run.refused > 100
    assert rate_between(run, 60, 120) >= 0.7 * rate_between(free, 60, 120)
    assert limit.pace(120) >= 0.7 * rate_between(free, 60, 120)


def test_a_pace_measured_on_a_burst_is_cut_again_once_the_limit_refuses_it() -> None:
    """The first 429 comes after a burst (a token bucket's reserve), so the first pace is
    several times the limit. When requests sent under that pace are refused again, what
    the server accepted since the cut (its tokens refilled meanwhile) sets the pace."""
    limit = Limit(initial=4, ceiling=64)
    for i in range(30):  # 30 answers in 0.45 s: a bucket's reserve spent at once
        limit.answered("op", 0.01, 0.3 + i * 0.015, 4, limit.epoch)
    limit.rate_limited(0.8, sent=0.79)
    first = limit.pace(0.8)
    assert 55 < first < 65
    limit.rate_limited(0.81, sent=0.78)  # in flight at the cut: says nothing new
    assert limit.pace(0.81) == pytest.approx(first, rel=0.001)
    for i in range(20):  # after the 1 s pause: 20 accepted at the pace
        limit.answered("op", 0.01, 1.8 + i / first, 4, limit.epoch)
    limit.rate_limited(2.2, sent=2.19)  # the bucket is empty again
    assert limit.pace(2.2) == pytest.approx(0.9 * 20 / 1.4, rel=0.01)


def test_a_429_at_random_under_a_pace_the_server_keeps_up_with_does_not_cut_it() -> None:
    limit = Limit(initial=4, ceiling=64)
    for i in range(64):
        limit.answered("op", 0.01, i * 0.01, 4, limit.epoch)
    limit.rate_limited(0.64, sent=0.63)
    pace = limit.pace(0.64)
    for i in range(100):  # the server takes all the pace allows
        limit.answered("op", 0.01, 0.64 + (i + 1) / pace, 4, limit.epoch)
    now = 0.64 + 101 / pace
    limit.rate_limited(now, sent=now - 0.01)
    assert limit.pace(now) == pytest.approx(pace * Limit.PACE_GROWTH ** (now - 0.64))


async def test_requests_held_by_a_pause_leave_spaced_out_by_the_pace() -> None:
    """Requests already paced when a 429 pauses the client do not all leave together when
    the pause ends (a herd the limit refuses at once): each waits its turn anew. Sleeps
    never end early, so the gaps below cannot shrink on a slow machine."""
    limit = Limit(initial=16, ceiling=64)
    limit._paced, limit._paced_at = 50.0, math.inf  # 50 requests/s, not rising
    gate = Concurrency(limit)
    started: list[float] = []

    async def request() -> None:
        async with gate.slot("op", 64):
            started.append(anyio.current_time())

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(request)
        await anyio.sleep(0.03)  # two have left; six wait their turn of the pace
        gate.resume_at = anyio.current_time() + 0.1  # a 429: everyone pauses 0.1 s
    later = started[2:]
    assert len(later) == 6
    assert all(b - a >= 0.9 / 50 for a, b in itertools.pairwise(later))


async def test_slots_are_given_first_come_first_served_under_each_callers_cap() -> None:
    gate = Concurrency(Limit(initial=2, ceiling=64))
    order: list[str] = []
    release = anyio.Event()

    async def request(name: str, cap: int) -> None:
        async with gate.slot("op", cap):
            order.append(name)
            await release.wait()

    async with anyio.create_task_group() as tg:
        for name in "abcd":
            tg.start_soon(request, name, 64)
            await anyio.lowlevel.checkpoint()
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert order == ["a", "b"] and gate.in_flight == 2  # the limit: 2
        release.set()
    assert order == ["a", "b", "c", "d"] and gate.in_flight == 0

    order.clear()
    capped = Concurrency(Limit(initial=8, ceiling=64))
    release = anyio.Event()
    gate = capped
    async with anyio.create_task_group() as tg:
        for name in "xyz":
            tg.start_soon(request, name, 1)  # a client made with concurrency=1
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert order == ["x"]
        release.set()
    assert order == ["x", "y", "z"]


async def test_a_cancelled_waiter_gives_its_slot_on() -> None:
    gate = Concurrency(Limit(initial=1, ceiling=64))
    got: list[str] = []
    release = anyio.Event()

    async def request(name: str) -> None:
        async with gate.slot("op", 64):
            got.append(name)
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(request, "first")
        await anyio.lowlevel.checkpoint()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await request("cancelled")  # waits for the slot, cancelled meanwhile
        tg.start_soon(request, "last")
        await anyio.lowlevel.checkpoint()
        release.set()
    assert got == ["first", "last"] and gate.in_flight == 0


async def test_units_of_work_follow_the_limit_one_more_than_its_slots() -> None:
    """What waits for a slot (e.g. files read for an upload) is bounded by the limit + 1."""
    gate = Concurrency(Limit(initial=2, ceiling=64))
    started: list[int] = []
    release = anyio.Event()

    async def work(number: int) -> None:
        async with gate.working(64):
            started.append(number)
            await release.wait()

    async with anyio.create_task_group() as tg:
        for number in range(10):
            tg.start_soon(work, number)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert started == [0, 1, 2]  # 2 slots + 1
        gate.limit.value = 4.0  # the limit grew: more may start, in order
        gate.changed(2)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert started == [0, 1, 2, 3, 4]
        release.set()
    assert started == list(range(10))


async def test_units_of_work_of_earlier_work_go_first() -> None:
    """Work numbered first (a bulk chunk started first) is let in before later work that
    waited longer; work of one number waits first come first served."""
    gate = Concurrency(Limit(initial=1, ceiling=64))  # 2 units of work at once
    started: list[str] = []
    done = {name: anyio.Event() for name in ("b1", "b2", "b3", "a1", "a2")}

    async def work(name: str) -> None:
        async with gate.working(64):
            started.append(name)
            await done[name].wait()

    async def settle() -> None:
        for _ in range(10):
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        with in_order():  # chunk A is numbered first...
            async with anyio.create_task_group() as chunk_a:
                with in_order():  # ...chunk B second, but B's work comes first
                    for name in ("b1", "b2", "b3"):
                        tg.start_soon(work, name)
                    await settle()
                assert started == ["b1", "b2"]  # b3 waits
                for name in ("a1", "a2"):
                    chunk_a.start_soon(work, name)
                await settle()
                done["b1"].set()
                await settle()
                assert started == ["b1", "b2", "a1"]  # A's before b3, which waited longer
                done["b2"].set()
                await settle()
                assert started == ["b1", "b2", "a1", "a2"]
                done["a1"].set()
                await settle()
                assert started == ["b1", "b2", "a1", "a2", "b3"]
                done["a2"].set()
                done["b3"].set()
    assert gate.in_flight == 0
