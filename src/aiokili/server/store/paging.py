"""Offset paging that stays linear: remembered page boundaries (skip -> last ``seq``).

SQLite's ``OFFSET k`` walks ``k`` rows, so reading N rows page by page costs N²/page.
Each listing (table + WHERE) remembers where its pages ended; a page at ``skip=s``
starts from the nearest known boundary ``b <= s`` with ``seq > seq_b ... OFFSET s - b``.
Rows are only ever appended with a growing ``seq``, so a boundary stays right until a
write changes existing rows: such writes bump ``Database.generation``, which empties
the cache.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from .conn import Conn
from .db import NO_LIMIT
from .filters import Sql

MAX_LISTINGS = 256
MAX_BOUNDARIES = 20_000  # per listing: 2M rows in pages of 100


class _Boundaries:
    def __init__(self) -> None:
        self.skips: list[int] = [0]
        # seq 0: before every row (seq starts at 1); a keyset listing keeps tuples of keys
        self.seqs: list[Any] = [0]

    def nearest(self, skip: int) -> tuple[int, Any]:
        i = bisect.bisect_right(self.skips, skip) - 1
        return self.skips[i], self.seqs[i]

    def add(self, skip: int, seq: Any) -> None:
        i = bisect.bisect_left(self.skips, skip)
        if i < len(self.skips) and self.skips[i] == skip:
            return
        if len(self.skips) >= MAX_BOUNDARIES:
            return
        self.skips.insert(i, skip)
        self.seqs.insert(i, seq)


class PageCache:
    """Page boundaries of recent listings, dropped when ``generation()`` changes."""

    def __init__(self, generation: Callable[[], int]) -> None:
        self._generation = generation
        self._seen = generation()
        self._listings: OrderedDict[Hashable, _Boundaries] = OrderedDict()
        self._lock = threading.Lock()

    def _listing(self, key: Hashable) -> _Boundaries:
        if self._generation() != self._seen:
            self._listings.clear()
            self._seen = self._generation()
        found = self._listings.get(key)
        if found is None:
            found = self._listings[key] = _Boundaries()
            if len(self._listings) > MAX_LISTINGS:
                self._listings.popitem(last=False)
        else:
            self._listings.move_to_end(key)
        return found

    def start(self, key: Hashable, skip: int) -> tuple[Any, int, int]:
        """``(seq_after, offset, generation)`` to read the page at ``skip``."""
        with self._lock:
            known_skip, seq = self._listing(key).nearest(skip)
            return seq, skip - known_skip, self._seen

    def record(self, key: Hashable, generation: int, end: int, last_seq: Any) -> None:
        """The row before position ``end`` of the listing has ``last_seq``."""
        with self._lock:
            if generation == self._seen == self._generation():
                self._listing(key).add(end, last_seq)


def read_page(
    conn: Conn,
    cache: PageCache,
    select: str,
    where: Sql,
    seq: str,
    skip: int,
    first: int | None,
) -> list[Any]:
    """Rows of ``select`` (whose last column is ``seq``) under ``where``, ordered by ``seq``."""
    key = (select, where.sql, tuple(where.args))
    after, offset, generation = cache.start(key, skip)
    sql = f"{select} WHERE {where.sql} AND {seq} > ? ORDER BY {seq} LIMIT ? OFFSET ?"
    rows = conn.execute(
        sql, [*where.args, after, NO_LIMIT if first is None else first, offset]
    ).fetchall()
    if rows:
        cache.record(key, generation, skip + len(rows), rows[-1][-1])
    return rows


def read_ordered_page(
    conn: Conn,
    cache: PageCache,
    select: str,
    where: Sql,
    keys: tuple[str, ...],
    skip: int,
    first: int | None,
) -> list[Any]:
    """Rows of ``select`` (whose last columns are the ``keys``, the last one unique) under
    ``where``, ordered by the keys: :func:`read_page` for another order than ``seq``."""
    key = (select, where.sql, tuple(where.args), keys)
    after, offset, generation = cache.start(key, skip)
    since, args = "", list(where.args)
    if after != 0:
        since = f" AND ({', '.join(keys)}) > ({', '.join('?' * len(keys))})"
        args += list(after)
    sql = f"{select} WHERE {where.sql}{since} ORDER BY {', '.join(keys)} LIMIT ? OFFSET ?"
    rows = conn.execute(sql, [*args, NO_LIMIT if first is None else first, offset]).fetchall()
    if rows:
        cache.record(key, generation, skip + len(rows), tuple(rows[-1][-len(keys) :]))
    return rows
