"""The label feed: ``Subscription.labelCreatedOrUpdated``, fed by one poller per server.

Where the changes come from, without touching the label write paths:

* created labels are read from the ``labels`` table by ``seq`` (as the plugin service
  does: a bulk import of 100,000 labels writes no extra rows);
* updated labels are recorded by a trigger on ``labels.updated_at``, which keeps each
  label's last update in ``label_changes`` (one row per label, moved to a new ``seq`` by
  each update), read by ``seq``: several updates of a label between two polls are one
  event, with its latest values. The trigger also appends a row to ``label_updates``, only
  to draw that ``seq`` from its never-reused sequence: nothing reads those rows, and a feed
  deletes them once it has seen their ``seq`` in ``label_changes``.

The feed's position is a **cursor** ``"<labels seq>.<label_changes seq>"``: a label is
changed *after* a cursor when it was created after it, or updated after it. A
subscription starts at the cursor read once it is attached to the feed, and delivers only
the labels changed after it: nothing written before it started, however recently.

Several servers (workers) may share one database: each polls with its own cursors, and
deletes nothing another one reads (``label_changes`` rows go only with their label).

:class:`LabelFeed` (started by the app's lifespan) polls both every ``poll_s`` and hands
each changed label row to the subscribers of its project (in a poll, the created labels
first, then the updated ones), through a bounded buffer per subscriber: a subscriber that
falls ``BUFFER`` events behind gets a ``SUBSCRIBER_LAGGING`` error and is dropped (it
re-subscribes with ``updatedAtGte`` to catch up).

``labelCreatedOrUpdated(projectID, updatedAtGte, after)``, two additive arguments (Kili's
own API has neither), replay first (oldest first), then live events follow with no gap
(the subscriber is attached to the feed before the replay is read):

* ``updatedAtGte``: the project's labels updated at or after that instant;
* ``after``: a cursor: the labels changed after it (with ``updatedAtGte``: those of them
  updated at or after that instant).

A graphql-transport-ws connection's ``connection_ack`` carries the cursor of that moment
(``payload.labelFeedCursor``). aiokili subscribes with it as ``after``, and resumes a lost
connection with that same ``after`` plus ``updatedAtGte`` (the ``updatedAt`` of the last
label it got, minus a margin), dropping the labels it already has (same ``id`` and
``updatedAt``): every label changed after the subscription started, once, and none before.
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
from ..store.conn import Conn
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


Cursor = tuple[int, int]
"""A position of the feed: the last ``labels`` seq and the last ``label_changes`` seq."""
Event = tuple[LabelRow, int, int]
"""A changed label, its ``labels`` seq if created in this poll (else 0), and the seq of its
last update in this poll (else 0)."""


def cursor(c: Conn) -> Cursor:
    """The feed's position now: every label created or updated so far is at or before it."""
    labels, changes = c.execute(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM labels), "
        "(SELECT COALESCE(MAX(seq), 0) FROM label_changes)"
    ).fetchone()
    # The newest rows that exist (both MAX read from an index): writes are serialised, so
    # none commits below them later. Deleting the labels that held the top lowers a MAX
    # below a position already handed out, and that cursor is still exact: every existing
    # row is at or below the lower MAX (it is the MAX of them all; a row only ever moves up,
    # to a new seq), and every later one comes above the old top (seqs are never reused:
    # SQLite AUTOINCREMENT, a PostgreSQL sequence). So no row lies between the two, and
    # "after the lower MAX" and "after the old top" name the same changes.
    return int(labels), int(changes)


def format_cursor(position: Cursor) -> str:
    return f"{position[0]}.{position[1]}"


def parse_cursor(text: str) -> Cursor:
    """``"<labels seq>.<label_changes seq>"`` (what ``connection_ack`` gave) as a cursor."""
    try:
        labels, updates = (int(part) for part in text.split("."))
    except ValueError:
        raise ServerError(
            f"after must be a label feed cursor (<labels seq>.<updates seq>, as "
            f"connection_ack's payload.labelFeedCursor gives), got {text[:40]!r}."
        ) from None
    return labels, updates


def changed_since(event: Event, position: Cursor) -> bool:
    """Whether the event changed its label after ``position``."""
    _, created, updated = event
    return created > position[0] or updated > position[1]


class _Subscriber:
    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        self.send: MemoryObjectSendStream[Event]
        self.receive: MemoryObjectReceiveStream[Event]
        self.send, self.receive = anyio.create_memory_object_stream[Event](BUFFER)
        self.lagging = False


class LabelFeed:
    """Polls the store for created and updated labels; fans them out per project."""

    def __init__(self, store: Store, poll_s: float = 0.05) -> None:
        self.store, self.poll_s = store, poll_s
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._label_cursor: int | None = None
        self._update_cursor: int | None = None
        self._pruned = 0  # label_updates deleted up to this seq (by this feed)
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
        changes, seen = await in_thread(self._read)
        for change in changes:
            for subscriber in list(self._subscribers.get(change[0].project_id, ())):
                try:
                    subscriber.send.send_nowait(change)
                except anyio.WouldBlock:  # too far behind: drop it (it resumes by itself)
                    subscriber.lagging = True
                    self._detach(subscriber)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self._detach(subscriber)
        if seen > self._pruned:
            await self.store.db.run_write(self._prune, seen)

    def _read(self) -> tuple[list[Event], int]:
        """Labels created or updated since the last call (none read if nobody listens), and
        the ``label_changes`` top seen. Cost: two MAX reads from indexes; with subscribers,
        two index range reads of at most ``BATCH`` rows (the updated labels found by id)."""
        with self.store.db.read() as c:
            top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            top_change = c.execute("SELECT COALESCE(MAX(seq), 0) FROM label_changes").fetchone()[0]
            # asked after the tops are read: one attached later starts after them (its cursor)
            wanted = bool(self._subscribers)
            if self._label_cursor is None or self._update_cursor is None or not wanted:
                # a top lowered by a deletion is as good as the higher cursor (see cursor())
                self._label_cursor = max(top, self._label_cursor or 0)
                self._update_cursor = max(top_change, self._update_cursor or 0)
                return [], top_change
            created = c.execute(
                f"SELECT {COLUMNS.sql}, l.seq FROM {FROM} WHERE l.seq > ? AND l.seq <= ? "
                "ORDER BY l.seq LIMIT ?",
                (self._label_cursor, top, BATCH),
            ).fetchall()
            # each label once, at its last update: one updated again since the last poll has
            # moved above the cursor, and comes with its latest values
            updated = c.execute(
                f"SELECT {COLUMNS.sql}, ch.seq FROM {FROM} JOIN (SELECT label_id, seq "
                "FROM label_changes WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?) ch "
                "ON ch.label_id = l.id ORDER BY ch.seq",
                (self._update_cursor, top_change, BATCH),
            ).fetchall()
        self._label_cursor = created[-1][-1] if len(created) == BATCH else top
        if len(updated) == BATCH:
            self._update_cursor = updated[-1][-1]
        else:
            self._update_cursor = max(top_change, self._update_cursor)
        last_update = {r[0]: r[-1] for r in updated}
        new: list[Event] = [
            (COLUMNS.row(r), r[-1], last_update.get(r[0], 0)) for r in created
        ]  # created then updated in the same poll: one event
        new_ids = {event[0].id for event in new}
        return new + [
            (COLUMNS.row(r), 0, r[-1]) for r in updated if r[0] not in new_ids
        ], top_change

    def _prune(self, seq: int) -> None:
        """Delete the ``label_updates`` rows up to ``seq``: they only numbered the updates
        (no feed reads them), so no other server sharing the database needs them."""
        with self.store.db.write(append_only=True) as c:
            c.execute("DELETE FROM label_updates WHERE seq <= ?", (seq,))
        self._pruned = seq

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


def replay(
    store: Store, project_id: str, since: str, changed_after: Cursor | None, page: tuple[str, int]
) -> list[Any]:
    """A page of the project's labels updated at or after ``since`` (and changed after the
    cursor ``changed_after``, if given), oldest first, after the keyset ``page`` =
    (updated_at, seq); each row ends with its seq."""
    changed, args = "", [project_id, since, page[0], page[0], page[1]]
    if changed_after is not None:
        changed = (
            " AND (l.seq > ? OR l.id IN (SELECT ch.label_id FROM label_changes ch "
            "WHERE ch.seq > ?))"
        )
        args += list(changed_after)
    with store.db.read() as c:
        return c.execute(
            f"SELECT {COLUMNS.sql}, l.seq FROM {FROM} WHERE l.project_id = ? AND l.updated_at >= ? "
            f"AND (l.updated_at > ? OR (l.updated_at = ? AND l.seq > ?)){changed} "
            "ORDER BY l.updated_at, l.seq LIMIT ?",
            [*args, REPLAY_PAGE],
        ).fetchall()


def feed_cursor(store: Store) -> str:
    """The feed's position now, as a cursor string (``connection_ack``'s payload)."""
    with store.db.read() as c:
        return format_cursor(cursor(c))


def _cursor_of(store: Store) -> Cursor:
    with store.db.read() as c:
        return cursor(c)


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
    _: Any,
    info: GraphQLResolveInfo,
    projectID: str,
    updatedAtGte: str | None = None,
    after: str | None = None,
) -> AsyncGenerator[LabelRow, None]:
    store = context(info).store
    feed = LabelFeed.of(store)
    changed_after = parse_cursor(after) if after else None
    await in_thread(store.projects.require, projectID)  # the guard found it: still there?
    author = await in_thread(_own_labels_only, store, projectID)
    with feed.subscribe(projectID) as subscriber:  # attached first: no gap after the replay
        started = await in_thread(_cursor_of, store)  # live: only what changes after this
        if updatedAtGte or changed_after is not None:
            page: tuple[str, int] = ("", 0)
            while rows := await in_thread(
                replay, store, projectID, updatedAtGte or "", changed_after, page
            ):
                for raw in rows:
                    row = COLUMNS.row(raw)
                    if author in (None, row.author_id):
                        yield row
                page = (row.updated_at, rows[-1][-1])
        async for event in subscriber.receive:
            if changed_since(event, started) and author in (None, event[0].author_id):
                yield event[0]
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
