"""The database's connections: readers are reused, whichever threads read."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from aiokili.server.store.db import Database


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
    db = Database(str(path))
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
