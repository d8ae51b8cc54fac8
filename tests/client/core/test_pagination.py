"""Page prefetch: pipelining and bounds (with a fake fetch). How many of the pages asked
ahead are in flight is the client's adaptive concurrency (``test_concurrency.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest

from aiokili._core.pagination import iterate_pages, page_plan

pytestmark = pytest.mark.anyio


async def test_pipelining_refills_a_request_slot_as_soon_as_any_page_arrives() -> None:
    """The first page is slow; the others keep the window's requests in flight."""
    in_flight = peak = started = 0
    first_done = anyio.Event()
    six_started = anyio.Event()

    async def fetch(skip: int, first: int) -> Sequence[int]:
        nonlocal in_flight, peak, started
        in_flight += 1
        started += 1
        if started == 6:
            six_started.set()
        peak = max(peak, in_flight)
        try:
            if skip == 0:
                await first_done.wait()
            else:
                await anyio.lowlevel.checkpoint()
            return list(range(skip, skip + first))
        finally:
            in_flight -= 1

    plan = page_plan(40, 0, 2)  # 20 pages
    async with anyio.create_task_group() as tg:
        pages = iterate_pages(fetch, plan, prefetch=3, task_group=tg)

        async def release() -> None:
            await six_started.wait()  # page 0 still waiting; later pages arrived, replaced
            first_done.set()

        tg.start_soon(release)
        items = [i async for page in pages for i in page]
    assert items == list(range(40))
    assert peak <= 3  # never more requests in flight than the window


async def test_pages_held_stay_bounded_when_the_head_page_is_slow() -> None:
    started: list[int] = []
    head = anyio.Event()

    async def fetch(skip: int, first: int) -> Sequence[int]:
        started.append(skip)
        if skip == 0:
            await head.wait()
        return [skip]

    plan = page_plan(100, 0, 1)
    async with anyio.create_task_group() as tg:
        pages = iterate_pages(fetch, plan, prefetch=2, task_group=tg)
        got: list[int] = []

        async def consume() -> None:
            async for page in pages:
                got.extend(page)

        tg.start_soon(consume)
        for _ in range(200):
            await anyio.lowlevel.checkpoint()
        assert len(started) == 4  # 2 * prefetch pages held while page 0 is awaited
        head.set()
    assert got == list(range(100))
