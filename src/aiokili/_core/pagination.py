"""Offset pagination with concurrent, adaptive page prefetch and bounded memory.

Kili lists are offset-paged (``skip``/``first``) after a ``count`` query with the same
``where``. Once the count is known, every page offset is known, so pages are fetched
concurrently ahead of the consumer while being yielded in order.

*Pipelining.* The window is the number of page requests in flight. Each page that
arrives starts the next request at once, whichever page the consumer is waiting for, so
a page answered out of order never leaves a request slot unused. Pages that arrived
ahead of the consumer wait for it; with those, at most ``2 * prefetch`` pages are held
in memory (and at most ``prefetch`` requests are in flight), whatever the listing's size.

*Adapting.* The window starts at ``initial`` and widens, up to ``prefetch``, only when
the consumer had to wait for a page while the process sat idle: the loop had nothing to
do but wait for the network or the server, so more requests in flight would have filled
that time. A wait spent running other work of the process (reading and parsing the
pages in flight, the caller's own tasks) says the client is the bottleneck: more
requests in flight would only add connections, and each connection costs the client a
scan per request in the connection pool. The window never goes past what keeps the pipe
full: the fastest round trip of a page over the time between two pages arriving, plus
one, so a busy server answering one page at a time gets no more than it can use, while
a 50 ms API reaches its window in two or three round trips.

Fetches run in the client's task group (opened by ``async with AsyncKili(...)``), so no
task group spans a ``yield`` of the generator; without one, pages are fetched one by one.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

T = TypeVar("T")
PageFetcher = Callable[[int, int], Awaitable[Sequence[T]]]
"""``fetch(skip, first)`` returns one page of items."""


class _Slot(Generic[T]):
    """One page: its result or error once done, and a scope to cancel its request."""

    def __init__(self, skip: int, first: int) -> None:
        self.skip = skip
        self.first = first
        self.done = anyio.Event()
        self.scope = anyio.CancelScope()
        self.items: Sequence[T] = ()
        self.error: BaseException | None = None

    async def run(self, fetch: PageFetcher[T], clock: _Clock, arrived: Callable[[], None]) -> None:
        started = anyio.current_time()
        try:
            with self.scope:
                self.items = await fetch(self.skip, self.first)
        except Exception as exc:  # handed to the consumer, never to the task group
            self.error = exc
        finally:
            clock.arrived(started)
            self.done.set()
            arrived()


class _Clock:
    """Fastest page round trip, smoothed time between two pages arriving, and the
    window policy built on them."""

    IDLE_SHARE = 0.5
    """A wait counts as idle when the process used the CPU for less than half of it."""

    def __init__(self) -> None:
        self.fastest = math.inf
        self.gap = math.inf
        self.last: float | None = None

    def arrived(self, started: float) -> None:
        now = anyio.current_time()
        self.fastest = min(self.fastest, now - started)
        if self.last is not None:
            gap = now - self.last
            self.gap = gap if math.isinf(self.gap) else 0.7 * self.gap + 0.3 * gap
        self.last = now

    def useful_window(self) -> float:
        """Pages in flight that keep the pipe full: round trip / arrival gap, plus one."""
        if math.isinf(self.gap) or self.gap <= 0:
            return math.inf
        return self.fastest / self.gap + 1

    def wider(self, window: int, prefetch: int, waited: float, busy: float) -> int:
        """The window after the consumer waited ``waited`` seconds for a page, during
        which the process used ``busy`` seconds of CPU (see the module's docstring)."""
        if window >= prefetch or waited <= 0 or busy >= self.IDLE_SHARE * waited:
            return window
        useful = self.useful_window()
        if math.isinf(useful):  # a single page has arrived: no rate known yet
            return window + 1
        if useful < window + 0.5:  # pages arrive no faster with more of them in flight
            return window
        # Arrivals are paced by the window (round trip / gap = window): latency-bound.
        return min(prefetch, 2 * window)


def page_plan(total: int, skip: int, page_size: int) -> list[tuple[int, int]]:
    """The ``(skip, first)`` of every page needed to read ``total`` items from ``skip``."""
    return [
        (skip + offset, min(page_size, total - offset)) for offset in range(0, total, page_size)
    ]


def iterate_pages(
    fetch: PageFetcher[T],
    plan: Sequence[tuple[int, int]],
    *,
    initial: int,
    prefetch: int,
    task_group: TaskGroup | None,
) -> AsyncGenerator[Sequence[T], None]:
    """Yield every page of ``plan`` in order, fetching ahead concurrently in ``task_group``
    (one after the other without one).

    Stops after a short page (the data changed under the listing). An error of any page
    is raised when the consumer reaches that page; pages still in flight are cancelled
    when the generator is closed.
    """
    if task_group is None:
        return _one_by_one(fetch, plan)
    return _prefetched(fetch, plan, initial, prefetch, task_group)


async def _one_by_one(
    fetch: PageFetcher[T], plan: Sequence[tuple[int, int]]
) -> AsyncGenerator[Sequence[T], None]:
    for skip, first in plan:
        items = await fetch(skip, first)
        yield items
        if len(items) < first:
            return


async def _prefetched(
    fetch: PageFetcher[T],
    plan: Sequence[tuple[int, int]],
    initial: int,
    prefetch: int,
    task_group: TaskGroup,
) -> AsyncGenerator[Sequence[T], None]:
    """The pages, up to ``window`` requests in flight (from ``initial``, widened up to
    ``prefetch`` while the consumer waits idle), at most ``2 * prefetch`` pages held."""
    todo = deque(plan)
    pending: deque[_Slot[T]] = deque()  # in plan order: in flight, or arrived and unread
    window = max(1, min(initial, prefetch))
    in_flight = 0
    closed = False
    clock = _Clock()

    def fill() -> None:
        nonlocal in_flight
        while todo and in_flight < window and len(pending) < 2 * prefetch and not closed:
            skip, first = todo.popleft()
            slot: _Slot[T] = _Slot(skip, first)
            pending.append(slot)
            in_flight += 1
            task_group.start_soon(slot.run, fetch, clock, arrived)

    def arrived() -> None:  # a request slot is free: start the next page now
        nonlocal in_flight
        in_flight -= 1
        fill()

    try:
        fill()
        while pending:
            slot = pending[0]
            if not slot.done.is_set():  # the consumer waits: was the process idle meanwhile?
                wall, cpu = anyio.current_time(), time.process_time()
                await slot.done.wait()
                waited, busy = anyio.current_time() - wall, time.process_time() - cpu
                window = clock.wider(window, prefetch, waited, busy)
            pending.popleft()
            if slot.error is not None:
                raise slot.error
            fill()
            items, slot.items = slot.items, ()
            yield items
            if len(items) < slot.first:
                return
    finally:
        closed = True
        for slot in pending:
            slot.scope.cancel()
