"""The label feed: ``Subscription.labelCreatedOrUpdated``, fed by one poller per server.

Where the changes come from, without touching the label write paths:

* created labels are read from the ``labels`` table by ``seq`` (as the plugin service
  does: a bulk import of 100,000 labels writes no extra rows);
* updated labels are recorded by a SQLite trigger on ``labels.updated_at`` in
  ``label_updates`` (one row per update, whatever writes it), read by ``seq`` and pruned
  once read.

:class:`LabelFeed` (started by the app's lifespan) polls both every ``poll_s`` and hands
each changed label row to the subscribers of its project (a new subscriber may also get
labels written up to one idle poll before it came), through a bounded buffer per
subscriber: a subscriber that falls ``BUFFER`` events behind gets a ``SUBSCRIBER_LAGGING``
error and is dropped (it re-subscribes with ``updatedAtGte`` to catch up).

``labelCreatedOrUpdated(projectID, updatedAtGte)``: with ``updatedAtGte`` (an additive
argument; Kili's own API has none), the labels of the project updated at or after that
instant are replayed first (oldest first), then live events follow with no gap: the
subscriber is attached to the feed before the replay is read. A client resuming after a
lost connection passes the ``updatedAt`` of the last label it got, and drops the labels it
already has (same ``id`` and ``updatedAt``).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from ariadne import SubscriptionType
from graphql import GraphQLResolveInfo

from ..context import context
from ..errors import ServerError, logger
from ..store import access
from ..store.db import in_thread
from ..store.labels import COLUMNS, FROM, LabelRow

if TYPE_CHECKING:
    from ..store import Store

BATCH = 500  # changes read per poll
BUFFER = 1024  # events one subscriber may fall behind before it is dropped
REPLAY_PAGE = 500
IDLE_POLL_S = 0.5  # with no subscriber: only keeps the cursors (and label_updates) short
LAGGING = "SUBSCRIBER_LAGGING"

_feeds: weakref.WeakKeyDictionary[Any, LabelFeed] = weakref.WeakKeyDictionary()


class _Subscriber:
    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        self.send: MemoryObjectSendStream[LabelRow]
        self.receive: MemoryObjectReceiveStream[LabelRow]
        self.send, self.receive = anyio.create_memory_object_stream[LabelRow](BUFFER)
        self.lagging = False


class LabelFeed:
    """Polls the store for created and updated labels; fans them out per project."""

    def __init__(self, store: Store, poll_s: float = 0.05) -> None:
        self.store, self.poll_s = store, poll_s
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._label_cursor: int | None = None
        self._update_cursor: int | None = None
        self._wake = anyio.Event()
        _feeds[store.db] = self

    @staticmethod
    def of(store: Store) -> LabelFeed:
        """The running feed of ``store`` (its server's lifespan started it)."""
        feed = _feeds.get(store.db)
        if feed is None:
            raise ServerError("Subscriptions are not available on this server.", "NOT_IMPLEMENTED")
        return feed

    async def run(self) -> None:
        """Poll until cancelled (the lifespan's task): every ``poll_s`` while someone
        listens, every ``IDLE_POLL_S`` otherwise (just keeping up), woken by a subscriber."""
        while True:
            try:
                await self.tick()
            except Exception:  # never let one bad row stop the feed
                logger.exception("label feed: a poll failed")
            if self._subscribers:
                await anyio.sleep(self.poll_s)
            else:
                self._wake = anyio.Event()
                with anyio.move_on_after(IDLE_POLL_S):
                    await self._wake.wait()

    async def tick(self) -> None:
        rows, consumed = await in_thread(self._read, wanted=bool(self._subscribers))
        for row in rows:
            for subscriber in list(self._subscribers.get(row.project_id, ())):
                try:
                    subscriber.send.send_nowait(row)
                except anyio.WouldBlock:  # too far behind: drop it (it resumes by itself)
                    subscriber.lagging = True
                    self._detach(subscriber)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self._detach(subscriber)
        if consumed:
            await self.store.db.run_write(self._prune, consumed)

    def _read(self, *, wanted: bool) -> tuple[list[LabelRow], int]:
        """Labels created or updated since the last call (none read if nobody listens), and
        the last ``label_updates`` row consumed (0: none)."""
        with self.store.db.read() as c:
            top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            top_update = c.execute("SELECT COALESCE(MAX(seq), 0) FROM label_updates").fetchone()[0]
            if self._label_cursor is None or self._update_cursor is None or not wanted:
                consumed = top_update if top_update != self._update_cursor else 0
                self._label_cursor, self._update_cursor = top, top_update
                return [], consumed
            created = c.execute(
                f"SELECT {COLUMNS.sql}, l.seq FROM {FROM} WHERE l.seq > ? AND l.seq <= ? "
                "ORDER BY l.seq LIMIT ?",
                (self._label_cursor, top, BATCH),
            ).fetchall()
            updated = c.execute(
                "SELECT seq, label_id FROM label_updates WHERE seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                (self._update_cursor, top_update, BATCH),
            ).fetchall()
            ids = list(dict.fromkeys(label_id for _, label_id in updated))
            rows = {}
            if ids:
                marks = ",".join("?" * len(ids))
                found = c.execute(f"SELECT {COLUMNS.sql} FROM {FROM} WHERE l.id IN ({marks})", ids)
                rows = {r[0]: COLUMNS.row(r) for r in found}
        self._label_cursor = created[-1][-1] if len(created) == BATCH else top
        consumed = updated[-1][0] if updated else 0
        self._update_cursor = consumed or self._update_cursor
        new = [COLUMNS.row(r) for r in created]
        new_ids = {r.id for r in new}  # created then updated in the same poll: sent once
        return new + [rows[i] for i in ids if i in rows and i not in new_ids], consumed

    def _prune(self, seq: int) -> None:
        with self.store.db.write(append_only=True) as c:
            c.execute("DELETE FROM label_updates WHERE seq <= ?", (seq,))

    @contextmanager
    def subscribe(self, project_id: str) -> Iterator[_Subscriber]:
        """Attach a subscriber to the project's events until the block ends."""
        subscriber = _Subscriber(project_id)
        self._subscribers.setdefault(project_id, set()).add(subscriber)
        self._wake.set()
        try:
            yield subscriber
        finally:
            self._detach(subscriber)
            subscriber.receive.close()

    def _detach(self, subscriber: _Subscriber) -> None:
        group = self._subscribers.get(subscriber.project_id)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self._subscribers[subscriber.project_id]
        subscriber.send.close()


def replay(store: Store, project_id: str, since: str, after: tuple[str, int]) -> list[Any]:
    """A page of the project's labels updated at or after ``since``, oldest first, after the
    keyset ``after`` = (updated_at, seq); each row ends with its seq."""
    with store.db.read() as c:
        return c.execute(
            f"SELECT {COLUMNS.sql}, l.seq FROM {FROM} WHERE l.project_id = ? AND l.updated_at >= ? "
            "AND (l.updated_at > ? OR (l.updated_at = ? AND l.seq > ?)) "
            "ORDER BY l.updated_at, l.seq LIMIT ?",
            (project_id, since, after[0], after[0], after[1], REPLAY_PAGE),
        ).fetchall()


def _own_labels_only(store: Store, project_id: str) -> str | None:
    """The caller's id if it is a LABELER of the project (it reads its own labels only)."""
    caller = access.current()
    if caller is None:
        return None
    with store.db.read() as c:
        return caller.user_id if access.role_in(c, project_id, caller) == "LABELER" else None


subscription = SubscriptionType()


@subscription.source("labelCreatedOrUpdated")
async def label_events(
    _: Any, info: GraphQLResolveInfo, projectID: str, updatedAtGte: str | None = None
) -> AsyncGenerator[LabelRow, None]:
    store = context(info).store
    feed = LabelFeed.of(store)
    await in_thread(store.projects.require, projectID)  # the guard found it: still there?
    author = await in_thread(_own_labels_only, store, projectID)
    with feed.subscribe(projectID) as subscriber:  # attached first: no gap after the replay
        if updatedAtGte:
            after = ("", 0)
            while page := await in_thread(replay, store, projectID, updatedAtGte, after):
                for raw in page:
                    row = COLUMNS.row(raw)
                    if author in (None, row.author_id):
                        yield row
                after = (row.updated_at, page[-1][-1])
        async for row in subscriber.receive:
            if author in (None, row.author_id):
                yield row
        if subscriber.lagging:
            raise ServerError(
                f"This subscription fell more than {BUFFER} events behind and was stopped. "
                "Subscribe again with updatedAtGte set to the updatedAt of the last label "
                "received to resume.",
                LAGGING,
            )


@subscription.field("labelCreatedOrUpdated")
def resolve_label_event(row: LabelRow, info: GraphQLResolveInfo, **_: Any) -> LabelRow:
    ctx = context(info)
    for loader in ("users", "assets"):  # fresh per event: a long subscription caches nothing
        ctx.__dict__.pop(loader, None)
    return row


bindables = [subscription]
