"""Offset pagination with concurrent, adaptive page prefetch and bounded memory.

Kili lists are offset-paged (``skip``/``first``) after a ``count`` query with the same
``where``. Once the count is known, every page offset is known, so pages are fetched
concurrently ahead of the consumer while being yielded in order. The window starts at
``initial`` pages and grows by one, up to ``prefetch``, each time the consumer has to
wait for a page, but only while more pages in flight can help: up to the fastest round
trip of a page divided by the time between two pages arriving, plus one. High latency
gets many pages in flight; a busy server or a slow loop gets no more than it can use
(each extra connection costs the client too). At most ``prefetch + 1`` pages are
held in memory, whatever the size of the listing.

Fetches run in the client's task group (opened by ``async with AsyncKili(...)``), so no
task group spans a ``yield`` of the generator; without one, pages are fetched one by one.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

T = TypeVar("T")
PageFetcher = Callable[[int, int], Awaitable[Sequence[T]]]
"""``fetch(skip, first)`` returns one page of items."""


class _Slot(Generic[T]):
    """One page in flight: its result or error, and a scope to cancel it."""

    def __init__(self, skip: int, first: int) -> None:
        self.skip = skip
        self.first = first
        self.done = anyio.Event()
        self.scope = anyio.CancelScope()
        self.items: Sequence[T] = ()
        self.error: BaseException | None = None

    async def run(self, fetch: PageFetcher[T], clock: _Clock) -> None:
        started = anyio.current_time()
        try:
            with self.scope:
                self.items = await fetch(self.skip, self.first)
        except Exception as exc:  # handed to the consumer, never to the task group
            self.error = exc
        finally:
            clock.arrived(started)
            self.done.set()


class _Clock:
    """Fastest page round trip and the smoothed time between two pages arriving."""

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


def page_plan(total: int, skip: int, page_size: int) -> list[tuple[int, int]]:
    """The ``(skip, first)`` of every page needed to read ``total`` items from ``skip``."""
    return [
        (skip + offset, min(page_size, total - offset)) for offset in range(0, total, page_size)
    ]


async def iterate_pages(
    fetch: PageFetcher[T],
    plan: Sequence[tuple[int, int]],
    *,
    initial: int,
    prefetch: int,
    task_group: TaskGroup | None,
) -> AsyncIterator[Sequence[T]]:
    """Yield every page of ``plan`` in order, fetching ahead concurrently.

    Stops after a short page (the data changed under the listing). An error of any page
    is raised when the consumer reaches that page; pages still in flight are cancelled
    when the generator is closed.
    """
    if task_group is None:
        for skip, first in plan:
            items = await fetch(skip, first)
            yield items
            if len(items) < first:
                return
        return

    todo = deque(plan)
    pending: deque[_Slot[T]] = deque()
    window = max(1, min(initial, prefetch))
    clock = _Clock()

    def fill() -> None:
        while todo and len(pending) < window:
            skip, first = todo.popleft()
            slot: _Slot[T] = _Slot(skip, first)
            pending.append(slot)
            task_group.start_soon(slot.run, fetch, clock)

    try:
        fill()
        while pending:
            slot = pending[0]
            if not slot.done.is_set():  # the loop waits: fetch further ahead, if that helps
                if window < prefetch and window < clock.useful_window():
                    window += 1
                    fill()
                await slot.done.wait()
            pending.popleft()
            if slot.error is not None:
                raise slot.error
            fill()
            items, slot.items = slot.items, ()
            yield items
            if len(items) < slot.first:
                return
    finally:
        for slot in pending:
            slot.scope.cancel()
