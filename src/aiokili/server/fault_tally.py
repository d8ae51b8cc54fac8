"""The counts of injected faults and the rate limit's buckets in PostgreSQL, shared by the
workers of one database (``aiokili server --workers N --faults ... --rate-limit ...``).

Every worker counts in the same rows, so the ``n``-th request of an operation gets the same
fault whichever worker takes it, a key's rate limit holds for all workers together, and
``GET /faults`` (on any worker) and the summary printed at exit count them all. The rows
are written on a connection of their own, in short transactions outside the store's one
writer, so a request's count never waits for a bulk write. The bucket's clock is
PostgreSQL's (the workers' clocks may differ).
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

from .faults import RateLimit, Tally

if TYPE_CHECKING:
    import psycopg

_NOW = "extract(epoch from clock_timestamp())::float8"


class DatabaseTally(Tally):
    """A :class:`~.faults.Tally` in the tables ``fault_counts`` and ``rate_buckets``."""

    blocking = True

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
        self._conn.execute("SET plan_cache_mode = force_custom_plan")
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every count and bucket (a new server run)."""
        with self._lock, self._conn.transaction():
            self._conn.execute("DELETE FROM fault_counts")
            self._conn.execute("DELETE FROM rate_buckets")

    def add(self, name: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "INSERT INTO fault_counts (name, n) VALUES (%s, 1) ON CONFLICT (name) "
                "DO UPDATE SET n = fault_counts.n + 1 RETURNING n",
                (name,),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT name, n FROM fault_counts").fetchall()
        return {str(name): int(n) for name, n in rows}

    def wait(self, limit: RateLimit, key: str) -> float:
        key = hashlib.sha256(key.encode()).hexdigest()  # an API key is never stored
        with self._lock, self._conn.transaction():
            self._conn.execute(
                f"INSERT INTO rate_buckets (key, tokens, at) VALUES (%s, %s, {_NOW}) "
                "ON CONFLICT (key) DO NOTHING",
                (key, limit.capacity),
            )
            row = self._conn.execute(  # the row stays locked until the transaction ends
                f"SELECT tokens, at, {_NOW} FROM rate_buckets WHERE key = %s FOR UPDATE", (key,)
            ).fetchone()
            assert row is not None
            tokens, since, now = (float(v) for v in row)
            left, wait = limit.take(tokens, since, now)
            self._conn.execute(
                "UPDATE rate_buckets SET tokens = %s, at = %s WHERE key = %s", (left, now, key)
            )
        return wait

    def close(self) -> None:
        self._conn.close()
