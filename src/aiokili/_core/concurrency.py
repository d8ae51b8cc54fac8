"""Adaptive concurrency: how many requests one client has in flight, found rather than fixed.

One :class:`Concurrency` is shared by every request of a client and of its ``with_options``
copies (listing pages, bulk chunks, uploads, single calls): each attempt the retry policy
sends holds one of its slots. :class:`Limit` decides how many slots there are, from what
the answers say, and nothing else (no process CPU time, no fixed window per call):

* **Latency** (TCP Vegas, as Netflix's concurrency limiters do). For each kind of request
  (a GraphQL operation, an upload) the fastest answer seen is its round trip without
  queueing. An answer taking ``rtt`` says about ``limit * (1 - 1.5 * fastest / rtt)``
  requests wait somewhere: in the server, in the network, or in this process for the CPU
  (up to 1.5 times the fastest is noise, e.g. of a busy machine, not a queue). Fewer
  than ``alpha`` waiting: more slots, provided at least half were in use (a loop sending
  one request at a time learns nothing about more); more than ``beta``: fewer.
  ``alpha`` and ``beta`` (3 and 6) grow with log10(limit). Until the first sign of
  queueing the limit grows by one per answer (it doubles per round trip: slow start);
  after, by about ``log10(limit)`` per round trip, and it shrinks by twice that.
* **Overload** (multiplicative decrease). HTTP 503, 504 and timeouts halve the limit,
  once per round of requests: answers to requests sent before the last decrease do not
  count, neither up nor down.
* **Rate.** A rate limit ("600 requests per minute") is not a concurrency limit: near the
  server one request at a time can exceed it. After a 429 (or a 503 with ``Retry-After``)
  requests are also paced, at 90% of the rate the answers came back at over the last 5 s
  (when at least 8 did), and the pace rises by 2.5% per second after: a limit is
  approached from below, with about one refused request per hundred. The pace is lowered
  at most once per 5 s: 429s that are not about the rate (a few percent of answers, at
  random) cannot drive it down round after round, it rises faster (13% per 5 s) than they
  lower it (10%). One exception: the first pace is measured on a burst (a token bucket's
  reserve, spent before the first 429), so it can be several times the limit. A 429 to a
  request sent after a cut, when the server accepted under 80% of the pace since, cuts it
  again to what the server accepted since the cut (a limit exhausted then and now let in
  exactly what it refilled in between). A 429 saying ``Retry-After: 0`` (try again now)
  is retried without a pace: the server says there is nothing to wait for.
* **Pause.** A 429 or 503 with ``Retry-After`` pauses every request of the client for
  that long; then the pace lets the held requests go one by one (a request paced before
  the pause began takes its turn anew), not as a herd the limit refuses at once.

*Which work first.* Units of work (uploads) go earliest bulk chunk first: each chunk
started under :func:`in_order` gets the next number, and its uploads are let in before
those of chunks started after it (then first come first served). A bulk call's chunks thus
finish one after the other, each sent (e.g. ``appendManyAssets``) while the next ones
upload, instead of all finishing together at the end, their mutations queued behind.

``concurrency=`` (a client option) caps the slots a client's calls may use; the limit
starts at ``INITIAL_CONCURRENCY``. Logged under ``aiokili.http`` at DEBUG: each new limit
(when it crosses a whole number), each pace, each request held by a pause.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import anyio

from . import constants as C

log = logging.getLogger("aiokili.http")

_numbers = itertools.count()
_order: ContextVar[int | None] = ContextVar("aiokili_work_order", default=None)


@contextmanager
def in_order() -> Iterator[None]:
    """Number the work started inside (in this task and the tasks it starts): its units of
    work go before those of work numbered later (see the module's doc)."""
    token = _order.set(next(_numbers))
    try:
        yield
    finally:
        _order.reset(token)


@dataclass
class _Kind:
    """What the answers of one kind of request said so far."""

    fastest: float = math.inf
    answers: int = 0


class Limit:
    """The decisions (pure arithmetic over the times it is given, so a simulated server can
    drive it): how many requests may be in flight, and at what pace they may start."""

    ALPHA = 3.0
    BETA = 6.0
    DOWN = 2.0
    TOLERANCE = 1.5
    DECREASE = 0.5
    PACE_FACTOR = 0.9
    PACE_GROWTH = 1.025
    """The pace's rise per second without a 429."""
    RATE_WINDOW = 5.0
    """Seconds of answers the rate is measured over (at most the last 64 answers); also
    the shortest time between two cuts of the pace."""
    RATE_ANSWERS = 8
    """Fewer answers than this in that window measure no rate: no pace, the pause only."""
    RECUT_BELOW = 0.8
    """Sooner than ``RATE_WINDOW`` after a cut, a 429 to a request sent since cuts the pace
    again only if fewer than this share of the pace's requests were accepted: the pace
    is still well above the limit (a burst measured it), not refused at random."""

    def __init__(
        self, initial: int = C.INITIAL_CONCURRENCY, ceiling: int = C.MAX_CONCURRENCY
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.value = float(max(1, min(initial, self.ceiling)))
        self._paced = math.inf  # requests per second the last cut allowed (inf: no pace)
        self._paced_at = -math.inf  # when it was cut
        self._accepted = 0  # answers (not refused) since the last cut
        self.starting = True
        """Slow start: one more slot per answer until the first sign of queueing."""
        self.epoch = 0
        """Bumped by each decrease; a request remembers the epoch it was sent in."""
        self._kinds: dict[str, _Kind] = {}
        self._answers: deque[float] = deque(maxlen=64)

    @property
    def slots(self) -> int:
        """Whole requests the limit allows in flight."""
        return max(1, math.floor(self.value))

    def answered(self, kind: str, rtt: float, now: float, in_flight: int, epoch: int) -> None:
        """An answer to a ``kind`` request sent in ``epoch`` with ``in_flight`` requests in
        flight (itself included) came back at ``now`` after ``rtt`` seconds."""
        seen = self._kinds.setdefault(kind, _Kind())
        seen.answers += 1
        seen.fastest = min(seen.fastest, rtt)
        self._answers.append(now)
        self._accepted += 1
        if epoch != self.epoch:
            return
        queued = self.value * max(0.0, 1 - self.TOLERANCE * seen.fastest / rtt) if rtt > 0 else 0.0
        scale = math.log10(max(10.0, self.value))
        if queued < self.ALPHA * scale:
            if 2 * in_flight >= self.value:  # used: worth more
                step = 1.0 if self.starting else scale / self.value
                self.value = min(float(self.ceiling), self.value + step)
        elif queued > self.BETA * scale:
            self.starting = False
            self.value = max(1.0, self.value - scale / self.value * self.DOWN)

    def dropped(self, epoch: int) -> bool:
        """A request sent in ``epoch`` timed out or was refused for load: halve the limit
        (once per epoch). Whether it did."""
        if epoch != self.epoch:
            return False
        self.epoch += 1
        self.starting = False
        self.value = max(1.0, self.value * self.DECREASE)
        return True

    def pace(self, now: float) -> float:
        """Requests per second allowed to start at ``now`` (``inf``: not paced)."""
        if math.isinf(self._paced):
            return math.inf
        return float(self._paced * self.PACE_GROWTH ** max(0.0, now - self._paced_at))

    def rate_limited(self, now: float, sent: float = -math.inf) -> None:
        """A request sent at ``sent`` was refused by a rate limit (429, 503 with
        ``Retry-After``) at ``now``: pace below the rate answers came at, at most once per
        ``RATE_WINDOW`` unless the pace is far above what the server took since
        (``RECUT_BELOW``). The limit stays: a rate is not a number in flight, and a
        concurrency halved on every 429 at random (injected faults) fell to a few requests
        in flight and stayed there."""
        elapsed = now - self._paced_at
        if elapsed < self.RATE_WINDOW:
            if sent < self._paced_at or self._accepted < self.RATE_ANSWERS // 2:
                return  # sent before the cut: refused by what the cut answered
            # A limit was exhausted at the cut and is again now: what it accepted in
            # between, over that time, is its rate (its tokens refilled meanwhile).
            measured = self._accepted / elapsed
            if measured >= self.RECUT_BELOW * self.pace(now):
                return
        else:
            recent = [t for t in self._answers if t >= now - self.RATE_WINDOW]
            if len(recent) < self.RATE_ANSWERS or recent[-1] <= recent[0]:
                return
            measured = (len(recent) - 1) / (recent[-1] - recent[0])
        self._paced = self.PACE_FACTOR * min(self.pace(now), measured)
        self._paced_at = now
        self._accepted = 0


class Ticket:
    """One request's slot: tells the limit how its attempt ended."""

    def __init__(self, gate: Concurrency, kind: str) -> None:
        self._gate, self.kind = gate, kind
        self.epoch = gate.limit.epoch
        self.in_flight = gate.in_flight
        self.started = anyio.current_time()

    def answered(self) -> None:
        """The attempt got an answer (any status but an overload)."""
        now = anyio.current_time()
        before = self._gate.limit.slots
        self._gate.limit.answered(self.kind, now - self.started, now, self.in_flight, self.epoch)
        self._gate.changed(before)

    def dropped(self) -> None:
        """The attempt timed out, or the server said it was overloaded (503, 504)."""
        before = self._gate.limit.slots
        self._gate.limit.dropped(self.epoch)
        self._gate.changed(before)

    def rate_limited(self, wait: float, *, pace: bool = True) -> None:
        """HTTP 429 (or 503 with ``Retry-After``): pause every request ``wait`` s, and slow
        down unless ``pace`` is false (``Retry-After: 0``)."""
        gate, now = self._gate, anyio.current_time()
        before, rate = gate.limit.slots, gate.limit.pace(now)
        if pace:
            gate.limit.rate_limited(now, self.started)
        gate.resume_at = max(gate.resume_at, now + wait)
        if gate.limit.pace(now) != rate:
            log.debug("requests paced at %.1f per second", gate.limit.pace(now))
        gate.changed(before)


@dataclass(order=True)
class _Waiter:
    """One request or unit of work waiting for room: let in lowest ``order`` first, then
    by ``arrival``."""

    order: int
    arrival: int
    cap: int = field(compare=False)
    event: anyio.Event = field(compare=False, default_factory=anyio.Event)


class Concurrency:
    """The slots, pace and pause shared by one client's requests (see the module's doc)."""

    def __init__(self, limit: Limit | None = None) -> None:
        self.limit = limit or Limit()
        self.in_flight = 0
        self.resume_at = 0.0
        self._waiting: list[_Waiter] = []  # heaps
        self._next_start = 0.0
        self._working = 0
        self._work_waiting: list[_Waiter] = []
        self._arrivals = itertools.count()

    def fanout(self, cap: int) -> int:
        """How many units of work (bulk chunks, uploads) to keep going at once under
        ``cap``: one more than the requests allowed in flight, so one always waits."""
        return max(1, min(cap, self.limit.slots + 1))

    @asynccontextmanager
    async def slot(self, kind: str, cap: int) -> AsyncIterator[Ticket]:
        """Hold one request slot (at most ``cap`` in flight for this caller) while sending:
        waits for a slot (first come first served), any pause, then the pace."""
        await self._take(self._waiting, cap, 0)
        try:
            while True:  # paused, then paced: requests held by a pause leave spaced out
                await self._pause()
                paused_until = self.resume_at
                await self._pace()
                if self.resume_at == paused_until:
                    break  # else a pause began while paced: wait it out, then pace anew
            yield Ticket(self, kind)
        finally:
            self.in_flight -= 1
            self._wake()

    @asynccontextmanager
    async def working(self, cap: int) -> AsyncIterator[None]:
        """Hold one unit of work (at most :meth:`fanout` at once across the client): bounds
        what is read ahead of the requests, e.g. files waiting for an upload slot. Work of
        the earliest :func:`in_order` number first, then first come first served; each
        waiter woken alone (hundreds may wait)."""
        order = _order.get()
        await self._take(self._work_waiting, cap, next(_numbers) if order is None else order)
        try:
            yield
        finally:
            self._working -= 1
            self._wake()

    def changed(self, before: int) -> None:
        """The limit may have moved: log it and wake who may now go."""
        if self.limit.slots != before:
            log.debug("requests in flight allowed: %d", self.limit.slots)
        self._wake()

    async def _take(self, queue: list[_Waiter], cap: int, order: int) -> None:
        """Wait in ``queue`` (slots or units of work) until :meth:`_wake` lets us in."""
        if self._room(queue, cap) and (not queue or queue[0].order > order):
            self._count(queue, 1)
            return
        waiter = _Waiter(order, next(self._arrivals), cap)
        heapq.heappush(queue, waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.event.is_set():  # let in as it was cancelled: hand it on
                self._count(queue, -1)
                self._wake()
            else:
                queue.remove(waiter)
                heapq.heapify(queue)
            raise

    def _room(self, queue: list[_Waiter], cap: int) -> bool:
        if queue is self._waiting:
            return self.in_flight < min(cap, self.limit.slots)
        return self._working < self.fanout(cap)

    def _count(self, queue: list[_Waiter], delta: int) -> None:
        if queue is self._waiting:
            self.in_flight += delta
        else:
            self._working += delta

    def _wake(self) -> None:
        """Let waiters in while there is room, in their order."""
        for queue in (self._waiting, self._work_waiting):
            while queue and self._room(queue, queue[0].cap):
                waiter = heapq.heappop(queue)
                self._count(queue, 1)
                waiter.event.set()

    async def _pace(self) -> None:
        now = anyio.current_time()
        rate = self.limit.pace(now)
        if math.isinf(rate):
            return
        start = max(now, self._next_start)
        self._next_start = start + 1 / rate
        if start > now:
            await anyio.sleep(start - now)

    async def _pause(self) -> None:
        logged = False
        while True:  # the pause may be extended while we sleep
            delay = self.resume_at - anyio.current_time()
            if delay <= 0:
                return
            if not logged:
                log.debug("a request waits %.1f s: the API asked the client to slow down", delay)
                logged = True
            await anyio.sleep(delay)


def unit_of_work(gate: Concurrency | None, cap: int) -> Callable[[], int]:
    """The fan-out of a bulk call: :meth:`Concurrency.fanout` (``cap`` without a gate)."""
    if gate is None:
        return lambda: cap
    return lambda: gate.fanout(cap)
