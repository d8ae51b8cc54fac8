"""Offset pagination with concurrent, adaptive page prefetch and bounded memory.

Kili lists are offset-paged (``skip``/``first``) after a ``count`` query with the same
``where``. Once the count is known, every page offset is known, so pages are fetched
concurrently ahead of the consumer while being yielded in order.

*Pipelining.* The window is the number of page requests asked ahead. Each page that
arrives starts the next request at once, whichever page the consumer is waiting for, so
a page answered out of order never leaves a request slot unused. Pages that arrived
ahead of the consumer wait for it; with those, at most ``2 * prefetch`` pages are held
in memory (and at most ``prefetch`` requests are asked), whatever the listing's size.

*Adapting.* Up to ``prefetch`` pages are asked ahead; how many of them are actually in
flight is the client's adaptive concurrency (``_core.concurrency``), shared with every
other request of the client: more while added requests do not queue, fewer when the
latency rises or the API refuses for load.

Fetches run in the client's task group (opened by ``async with AsyncKili(...)``), so no
task group spans a ``yield`` of the generator; without one, pages are fetched one by one.
"""

from __future__ import annotations

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

    async def run(self, fetch: PageFetcher[T], arrived: Callable[[], None]) -> None:
        try:
            with self.scope:
                self.items = await fetch(self.skip, self.first)
        except Exception as exc:  # handed to the consumer, never to the task group
            self.error = exc
        finally:
            self.done.set()
            arrived()


def page_plan(total: int, skip: int, page_size: int) -> list[tuple[int, int]]:
    """The ``(skip, first)`` of every page needed to read ``total`` items from ``skip``."""
    return [
        (skip + offset, min(page_size, total - offset)) for offset in range(0, total, page_size)
    ]


def iterate_pages(
    fetch: PageFetcher[T],
    plan: Sequence[tuple[int, int]],
    *,
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
    return _prefetched(fetch, plan, prefetch, task_group)


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
    prefetch: int,
    task_group: TaskGroup,
) -> AsyncGenerator[Sequence[T], None]:
    """The pages, up to ``prefetch`` asked ahead, at most ``2 * prefetch`` held."""
    todo = deque(plan)
    pending: deque[_Slot[T]] = deque()  # in plan order: in flight, or arrived and unread
    window = max(1, prefetch)
    in_flight = 0
    closed = False

    def fill() -> None:
        nonlocal in_flight
        while todo and in_flight < window and len(pending) < 2 * prefetch and not closed:
            skip, first = todo.popleft()
            slot: _Slot[T] = _Slot(skip, first)
            pending.append(slot)
            in_flight += 1
            task_group.start_soon(slot.run, fetch, arrived)

    def arrived() -> None:  # a request slot is free: start the next page now
        nonlocal in_flight
        in_flight -= 1
        fill()

    try:
        fill()
        while pending:
            slot = pending[0]
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
        closed = True
        for slot in pending:
            slot.scope.cancel()
