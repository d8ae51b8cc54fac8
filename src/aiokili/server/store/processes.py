"""The server processes serving one database, and the asynchronous imports a dead one left.

An asynchronous import runs in the process that took the request, its input in that
process's memory: if the process dies (a worker killed, a server stopped or crashed), the
import cannot go on anywhere, and its notification would say ``PENDING`` for ever. Each
process therefore says every :data:`HEARTBEAT_S` that it lives (``server_processes``), and
the imports of a process silent for :data:`DEAD_AFTER_S` are marked ``FAILURE`` with a
message saying to import again (what was imported is kept; external ids already imported
are skipped when imported again). On SQLite one process serves the file, so at start every
other process is known dead at once.
"""

from __future__ import annotations

import time

from .db import Database

HEARTBEAT_S = 5.0
DEAD_AFTER_S = 30.0
STOPPED = (
    "The server process running this import stopped before it finished: the assets imported "
    "so far are kept; import again (already imported external ids are skipped)."
)


def beat(db: Database, now: float | None = None) -> int:
    """Record that this process lives; mark the pending imports of dead processes (and of
    earlier versions, which kept no owner) as failed; return how many."""
    now = time.time() if now is None else now
    dead_before = now if db.dialect == "sqlite" else now - DEAD_AFTER_S
    with db.write(append_only=True) as c:
        c.execute(
            "INSERT INTO server_processes (token, alive_at) VALUES (?, ?) "
            "ON CONFLICT (token) DO UPDATE SET alive_at = excluded.alive_at",
            (db.token, now),
        )
        failed = c.execute(
            "UPDATE notifications SET status = 'FAILURE', message = ? WHERE status = 'PENDING' "
            "AND (owner IS NULL OR owner NOT IN (SELECT token FROM server_processes "
            "WHERE token = ? OR alive_at >= ?))",
            (STOPPED, db.token, dead_before),
        ).rowcount
        c.execute(
            "DELETE FROM server_processes WHERE token <> ? AND alive_at < ?",
            (db.token, dead_before),
        )
    return failed
