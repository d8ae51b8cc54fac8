"""Group commit (server/group_commit.py): requests arriving together share one write, each
learns its own outcome, and a caller that leaves takes its item back without stalling the
others."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import anyio
import pytest

from aiokili.server.group_commit import GroupCommit

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the server's loop (its thread hand-off is asyncio's executor)


class Writes:
    """An ``apply`` recording its calls; ``slow`` holds each call until released."""

    def __init__(self, fail: Sequence[int] = (), crash: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fail, self.crash = set(fail), crash
        self.release = threading.Event()
        self.release.set()

    def __call__(self, items: Sequence[int]) -> list[BaseException | None]:
        self.release.wait(10)
        self.calls.append(list(items))
        if self.crash:
            raise OSError("disk full")
        return [OSError(f"item {i}") if i in self.fail else None for i in items]


async def test_concurrent_writes_share_calls_and_each_item_is_written_once() -> None:
    writes = Writes()
    commit = GroupCommit(writes, most=16)
    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(commit, i)
    written = [i for call in writes.calls for i in call]
    assert sorted(written) == list(range(100))
    assert len(writes.calls) < 100 and max(map(len, writes.calls)) <= 16


async def test_each_caller_gets_its_own_outcome() -> None:
    commit = GroupCommit(Writes(fail=[3, 7]))
    outcomes: dict[int, str] = {}

    async def one(i: int) -> None:
        try:
            await commit(i)
            outcomes[i] = "ok"
        except OSError as exc:
            outcomes[i] = str(exc)

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(one, i)
    assert outcomes == {i: f"item {i}" if i in (3, 7) else "ok" for i in range(10)}


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    writes = Writes(crash=True)
    commit = GroupCommit(writes)
    with pytest.raises(OSError, match="disk full"):
        await commit(1)
    writes.crash = False
    await commit(2)
    assert writes.calls == [[1], [2]]


async def test_a_caller_leaving_while_queued_is_not_written_and_the_rest_go_on() -> None:
    writes = Writes()
    writes.release.clear()  # the first batch holds the writer while the others queue
    commit = GroupCommit(writes)

    async def leaves() -> None:  # queued first after the leader: it would lead next
        with anyio.move_on_after(0.2) as gone:
            await commit(4)
        assert gone.cancelled_caught
        writes.release.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(commit, 0)  # leads, held in the thread
        await anyio.sleep(0.05)
        tg.start_soon(leaves)
        await anyio.sleep(0.05)
        for i in (1, 2, 3):
            tg.start_soon(commit, i)
    assert writes.calls[0] == [0]
    assert sorted(i for call in writes.calls for i in call) == [0, 1, 2, 3]
