"""How far the plugin service has delivered, kept in the database (the ``settings`` row
``plugin_progress``), so that the next service resumes there: after a restart, or when
another worker of the same database takes the service over (``leader.py``).

Events are of two kinds, each numbered by its own sequence: new labels (``labels.seq``)
and outbox events (``events.seq``). For each kind, every event at or below ``cursor`` has
been delivered; events above it already delivered (while an earlier one still ran) are in
``done``, so that none runs twice. An event whose deliveries had not all finished when the
service stopped is delivered again by the next one: a run cut short never completed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from ..store.conn import Conn
from ..store.db import Database

KINDS = ("labels", "events")
_NAME = "plugin_progress"


class Progress:
    """The service's position (see the module docstring): changed on the service's event
    loop, stored from worker threads (under a lock)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.read: dict[str, int] = {}  # the last event read, per kind
        self.done: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self._running: dict[str, Counter[int]] = {kind: Counter() for kind in KINDS}
        self._lock = threading.Lock()
        self._retired = False

    @property
    def loaded(self) -> bool:
        return bool(self.read)

    def load(self, tops: dict[str, int]) -> None:
        """Resume from the stored position, or start at ``tops`` (the newest events now:
        what happened before the first start is not delivered) and store it."""
        with self.db.write(append_only=True) as c:
            row = c.execute("SELECT value FROM settings WHERE name = ?", (_NAME,)).fetchone()
            if row is None:
                c.execute("INSERT INTO settings VALUES (?, ?)", (_NAME, self._text(tops, {})))
                stored: dict[str, Any] = {kind: {"cursor": tops[kind]} for kind in KINDS}
            else:
                stored = json.loads(row[0])
        for kind in KINDS:
            self.read[kind] = int(stored[kind]["cursor"])
            self.done[kind] = {int(s) for s in stored[kind].get("done", [])}

    def skip(self, kind: str, seq: int) -> bool:
        """Whether the event was delivered already (by this service or an earlier one)."""
        with self._lock:
            return seq in self.done[kind]

    def started(self, kind: str, seq: int) -> None:
        """One delivery of the event began."""
        with self._lock:
            self._running[kind][seq] += 1

    def finished(self, kind: str, seq: int) -> None:
        """One delivery of the event ended (delivered, or failed and logged): stored by
        the next :meth:`store`."""
        with self._lock:
            running = self._running[kind]
            running[seq] -= 1
            if running[seq] <= 0:
                del running[seq]
                self.done[kind].add(seq)

    def cursor(self, kind: str) -> int:
        """Every event of ``kind`` at or below it is delivered."""
        with self._lock:
            running = self._running[kind]
            return min(running) - 1 if running else self.read[kind]

    def retire(self) -> None:
        """Store nothing from now on (this process no longer runs the service)."""
        with self._lock:
            self._retired = True

    def store(self, c: Conn) -> None:
        """Store the position now (in the caller's write transaction: with what the
        delivery that ended wrote, so that it is never done twice)."""
        with self._lock:
            if self._retired:
                return
            cursors = {
                kind: min(self._running[kind]) - 1 if self._running[kind] else self.read[kind]
                for kind in KINDS
            }
            for kind in KINDS:
                self.done[kind] = {s for s in self.done[kind] if s > cursors[kind]}
            text = self._text(cursors, self.done)
        c.execute("UPDATE settings SET value = ? WHERE name = ?", (text, _NAME))

    def save(self) -> None:
        """:meth:`store` in a transaction of its own (in a worker thread)."""
        with self.db.write(append_only=True) as c:
            self.store(c)

    @staticmethod
    def _text(cursors: dict[str, int], done: dict[str, set[int]]) -> str:
        return json.dumps(
            {k: {"cursor": cursors[k], "done": sorted(done.get(k, ()))} for k in KINDS}
        )
