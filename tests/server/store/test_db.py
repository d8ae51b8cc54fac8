"""The database's connections: readers are reused, whichever threads read; reads run in
worker threads as the caller's task would."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from aiokili.server.errors import ServerError
from aiokili.server.store import access
from aiokili.server.store.access import Access
from aiokili.server.store.db import Database, SQLiteDatabase, in_thread


def _open_files(path: Path) -> int:
    """File descriptors of this process open on ``path``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:  # closed meanwhile
            pass
    return count


def _burst(db: Database, threads: int) -> None:
    """``threads`` new threads reading at once (as a burst of requests does on new worker
    threads, once the previous ones have been retired)."""
    together = threading.Barrier(threads)

    def read() -> None:
        with db.read() as c:
            c.execute("SELECT 1").fetchone()
            together.wait(timeout=30)  # every thread holds a reader at the same time

    started = [threading.Thread(target=read) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


def test_reader_connections_do_not_grow_over_bursts(tmp_path: Path) -> None:
    path = tmp_path / "kili.sqlite3"
    db = SQLiteDatabase(str(path))
    try:
        baseline = _open_files(path)
        counts = []
        for _ in range(3):
            _burst(db, 20)
            counts.append(_open_files(path) - baseline)
        assert counts == [20, 20, 20]  # before: 20, 40, 60 (one per thread ever seen)
        with db.read() as outer, db.read() as inner:  # nested reads in one thread: one reader
            assert outer is inner
    finally:
        db.close()
    assert _open_files(path) == 0


def test_a_read_in_a_thread_sees_the_caller_bound_by_its_task() -> None:
    async def main() -> Access | None:
        access.bind(Access("u1", "org1", org_admin=False))
        return await in_thread(access.current)

    assert asyncio.run(main()) == Access("u1", "org1", org_admin=False)
    assert access.current() is None  # the binding stayed in that task's context


def test_a_cancelled_read_is_cancelled_once_the_function_has_returned() -> None:
    """As anyio's threads do: the caller's cancellation waits for the read (the reader
    connection is given back before the server may close it)."""
    release, returned = threading.Event(), threading.Event()

    def read() -> str:
        release.wait(timeout=30)
        returned.set()
        return "rows"

    async def main() -> tuple[bool, bool]:
        task = asyncio.create_task(in_thread(read))
        await asyncio.sleep(0)  # the read has been handed to its thread
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=0.2)
        pending_while_reading = not done
        task.cancel()  # a second cancellation does not abandon the read either
        await asyncio.sleep(0)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pending_while_reading, returned.is_set()

    assert asyncio.run(main()) == (True, True)


def test_a_failing_read_raises_its_error_in_the_caller() -> None:
    def read() -> None:
        raise ServerError("no such row")

    async def main() -> None:
        await in_thread(read)

    with pytest.raises(ServerError, match="no such row"):
        asyncio.run(main())
