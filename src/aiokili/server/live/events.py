"""The server's event outbox: what happened to assets, for the plugin service to dispatch.

Written in the same transaction as the change it records, so an event is never lost nor
seen before its change is visible; read by sequence number. Labels are not recorded here:
the plugin service reads new labels straight from the ``labels`` table by ``seq`` (a bulk
import of 100,000 labels writes no extra rows).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..store.conn import Conn
from ..store.db import now

SENT_BACK = "asset.sentBackToQueue"


def record(c: Conn, kind: str, asset_ids: Sequence[str]) -> None:
    """Record ``kind`` for each asset (its project is read from the asset)."""
    at = now()
    c.executemany(
        "INSERT INTO events (kind, project_id, asset_id, created_at) "
        "SELECT ?, project_id, id, ? FROM assets WHERE id = ?",
        [(kind, at, asset_id) for asset_id in asset_ids],
    )


def since(c: Conn, seq: int, top: int, limit: int) -> list[tuple[int, str, str, str, str]]:
    """The first ``limit`` events with ``seq < n <= top``:
    ``(seq, kind, project_id, asset_id, created_at)``."""
    return c.execute(
        "SELECT seq, kind, project_id, asset_id, created_at FROM events WHERE seq > ? AND "
        "seq <= ? ORDER BY seq LIMIT ?",
        (seq, top, limit),
    ).fetchall()


def prune(c: Conn, seq: int) -> None:
    """Forget the events up to ``seq`` (the plugin service, their one reader, is past them)."""
    c.execute("DELETE FROM events WHERE seq <= ?", (seq,))


def last(c: Conn) -> int:
    return int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
