"""The database under the repositories: one serialised writer, one reader per worker thread;
SQLite (WAL mode) here, PostgreSQL in ``postgres.py``.

Repositories call :meth:`Database.read` / :meth:`Database.write` from worker threads;
resolvers reach them through :func:`in_thread` (reads) and :meth:`Database.run_write`
(writes, one at a time), so the event loop never waits on SQLite. ``":memory:"`` becomes a
temporary file removed on close; a file database is checkpointed on close (its ``-wal``
file emptied).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from ...errors import KiliInputError
from ..errors import ServerError
from .access import reaches
from .conn import Conn

T = TypeVar("T")

CHUNK = 500  # ids per ``IN (...)`` list
NO_LIMIT = 2**62  # ``LIMIT ?`` of a listing without one (PostgreSQL refuses -1)


def now() -> str:
    """Current UTC time in Kili's DateTime format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """A fresh opaque id (cuid-like: a letter then 24 hex digits)."""
    return "c" + uuid.uuid4().hex[:24]


def marks(n: int) -> str:
    """``?,?,?`` for ``n`` parameters (``NULL`` for none, so ``IN (NULL)`` matches nothing)."""
    return ",".join("?" * n) or "NULL"


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` cut in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def sqlite_path(db: str) -> str | None:
    """The SQLite file ``db`` names: a path, ``":memory:"`` or a ``sqlite:///PATH`` URL
    (``sqlite:////abs/path``, ``sqlite://`` for memory); None for a PostgreSQL URL
    (``postgresql://user@host:port/name``). Any other URL raises
    :class:`~aiokili.errors.KiliInputError` naming its scheme only (a URL may hold a
    password), before any file is made."""
    url = _URL.fullmatch(db)
    if url is None:
        return db
    scheme, rest = url.group(1).lower(), url.group(2)
    if scheme == "sqlite":
        path = rest.removeprefix("/")
        return path if path not in ("", ":memory:") else ":memory:"
    if scheme in POSTGRES_SCHEMES:
        return None
    raise KiliInputError(
        f"db: the local server stores its data in SQLite or PostgreSQL, and got a {scheme}:// "
        "URL. Pass a file path (e.g. --db kili.sqlite3 or db='kili.sqlite3'), sqlite:///PATH, "
        "':memory:', or postgresql://USER@HOST:PORT/DATABASE."
    )


class Database:
    """The connections to one database: one writer (one transaction at a time), readers
    lent to the threads reading (see the module docstring). Subclasses open them."""

    dialect = ""
    path: str | None = None
    """The database file (SQLite), kept out of plugins' reach; None for a server database."""
    url = ""
    """The database server's URL (PostgreSQL; empty for SQLite)."""

    def __init__(self, files_dir: Path, max_readers: int | None = None) -> None:
        self.files_dir = files_dir
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._local = threading.local()  # the reader a thread holds, and how deeply
        self._readers: list[Any] = []  # every reader, to close them
        self._idle: list[Any] = []  # readers no thread holds
        self._readers_lock = threading.Lock()
        self._reader_slots = (
            threading.BoundedSemaphore(max_readers) if max_readers is not None else None
        )
        # per event loop (the server's, the heavy lane's): a limiter belongs to one loop
        self._limiters: dict[tuple[str, object], anyio.CapacityLimiter] = {}
        self.generation = 0  # bumped by writes that change existing rows (see paging.py)
        self.token = uuid.uuid4().hex  # this process, among those serving the database

    def _new_reader(self) -> Conn:
        raise NotImplementedError

    def _writer(self) -> Conn:
        raise NotImplementedError

    def _reusable(self, conn: Any) -> bool:
        return True

    def lead(self, key: int) -> bool:
        """Whether this process holds ``key`` (one process per database runs what it
        guards); SQLite: always (one process serves a file)."""
        return True

    def _changing(self, c: Conn) -> None:
        """In a write that changes existing rows (not ``append_only``), before it commits."""

    def changed(self) -> bool:
        """Whether a process may have changed existing rows since the last call (this
        process's own writes count too; ``append_only`` ones do not). SQLite: False (one
        process serves a file)."""
        return False

    def _begin(self, c: Conn) -> None:
        c.execute("BEGIN IMMEDIATE")

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A reader connection (autocommit: each statement sees the latest commit), held by
        this thread until the outermost ``read`` ends (nested reads share it), then given
        to the next reading thread: there are never more readers than threads reading at
        once, however many worker threads come and go."""
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is not None:  # nested in this thread's read
            yield conn
            return
        if self._reader_slots is not None:
            self._reader_slots.acquire()
        try:
            with self._readers_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._new_reader()
                with self._readers_lock:
                    self._readers.append(conn)
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None
                with self._readers_lock:
                    if self._reusable(conn):
                        self._idle.append(conn)
                    else:  # e.g. its server restarted: the next read opens another
                        self._readers.remove(conn)
        finally:
            if self._reader_slots is not None:
                self._reader_slots.release()

    @contextmanager
    def write(self, *, append_only: bool = False) -> Iterator[Conn]:
        """One transaction on the writer; ``append_only`` writes keep paging caches valid."""
        with self._lock:
            writer = self._writer()
            self._begin(writer)
            try:
                yield writer
                if not append_only:
                    self._changing(writer)
            except BaseException:
                writer.execute("ROLLBACK")
                raise
            writer.execute("COMMIT")
            if not append_only:
                self.generation += 1

    async def run_write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a writing function in a worker thread, one at a time (none waits on the lock)."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self._limiter("write")
        )

    async def run_ordered(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short reading function in a worker thread, one at a time in the order of
        the calls (the permission checks: requests reach the writer in the order they came)."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args), limiter=self._limiter("ordered")
        )

    def _limiter(self, kind: str) -> anyio.CapacityLimiter:
        """The one-at-a-time limiter of ``kind`` for the running event loop."""
        key = (kind, anyio.lowlevel.current_token())
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = anyio.CapacityLimiter(1)
        return limiter

    def _close_readers(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._idle.clear()

    def close(self) -> None:
        """Close every connection."""
        raise NotImplementedError


class SQLiteDatabase(Database):
    """One SQLite file in WAL mode (see the module docstring)."""

    dialect = "sqlite"

    def __init__(self, path: str = ":memory:") -> None:
        """``path``: a file, ``":memory:"`` or a ``sqlite:///PATH`` URL (:func:`sqlite_path`)."""
        file = sqlite_path(path)
        if file is None:
            raise KiliInputError("SQLiteDatabase takes a file path, not a PostgreSQL URL.")
        self._tmp: str | None = None
        if file == ":memory:":
            self._tmp = tempfile.mkdtemp(prefix="aiokili-server-")
            file = str(Path(self._tmp) / "kili.sqlite3")
            files_dir = Path(self._tmp) / "files"
        else:
            files_dir = Path(file + ".files")
        self.path = file
        super().__init__(files_dir)
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _new_reader(self) -> Conn:
        conn = self._connect()
        conn.execute("PRAGMA query_only=ON")
        return conn

    def _writer(self) -> Conn:
        return self._conn

    def close(self) -> None:
        """Checkpoint the WAL and close every connection; remove the temporary files of a
        ``":memory:"`` database."""
        self._close_readers()
        with self._lock:
            try:  # fold the WAL into the database file, and empty it
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # e.g. another process writing: it checkpoints later
                pass
            self._conn.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


READ_THREADS = 40  # as many as anyio's default worker threads
_readers: ThreadPoolExecutor | None = None
_readers_started = threading.Lock()


def _reader_threads() -> ThreadPoolExecutor:
    global _readers
    with _readers_started:
        if _readers is None:
            _readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="aiokili-read")
        return _readers


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a reading function in a worker thread (at most ``READ_THREADS`` at once), in a
    copy of the caller's context (the bound caller, ``access.py``).

    As ``anyio.to_thread.run_sync`` does, a cancelled caller waits for the function to
    return before the cancellation goes on; the hand-off costs a third of anyio's (about
    25 instead of 65 us of CPU, a small request's largest cost after HTTP parsing).
    """
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    future = asyncio.get_running_loop().run_in_executor(_reader_threads(), call)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                raise  # the function returned: its caller is cancelled, as usual
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result


def require_project(c: Conn, project_id: str | None) -> None:
    """``NOT_FOUND`` naming ``project_id`` unless the caller reaches that project: it exists,
    in the caller's organization, and the caller is a member or an organization admin
    (``access.py``; None: no check)."""
    if project_id is None:
        return
    if not reaches(c, project_id):
        raise ServerError.not_found("Project", project_id)


def read_project(db: Database, project_id: str) -> None:
    """:func:`require_project` in a read transaction of its own."""
    with db.read() as c:
        require_project(c, project_id)
