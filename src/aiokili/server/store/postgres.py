"""The PostgreSQL database under the repositories (``aiokili server --db postgresql://...``).

Repositories write one SQL for both stores, SQLite's with ``?`` parameters; the few
SQLite functions they use (``instr``, ``json_type``, ``json_extract``, ``json_each``,
``json_group_array``) exist in PostgreSQL under the same names and with the same results,
made by the schema's first revision. This module only changes what PostgreSQL spells
differently:

* ``?`` becomes ``%s`` (and a literal ``%`` is doubled), ``x IS ?`` becomes
  ``x IS NOT DISTINCT FROM %s``;
* Python booleans are stored as 0 and 1, as SQLite stores them;
* a write transaction first takes one advisory lock, so writes are serialised across every
  process serving the database, as SQLite serialises them: the repositories' read-then-write
  checks hold with several workers. Reads run in parallel, on at most ``max_readers``
  connections per process.

Needs ``psycopg`` (``pip install 'aiokili[postgres]'``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import KiliInputError
from ..errors import ServerError
from .conn import Conn, Cursor, Parameters
from .db import Database

if TYPE_CHECKING:
    from collections.abc import Iterable

    import psycopg

WRITE_LOCK = 0x616B_696C_6977  # pg_advisory_xact_lock key of the one writer ("akiliw")
MAX_READERS = 8
"""Reader connections per process (PostgreSQL allows 100 connections by default)."""

_IS_PARAM = re.compile(r"\bIS (NOT )?%s")


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """The repositories' SQLite SQL as psycopg takes it (see the module docstring)."""
    out = _TOKENS.sub(_token, sql)
    return _IS_PARAM.sub(
        lambda m: "IS DISTINCT FROM %s" if m.group(1) else "IS NOT DISTINCT FROM %s", out
    )


# a quoted literal (kept, its % doubled: psycopg reads % everywhere), a ? or :name parameter,
# a lone %
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


def _token(m: re.Match[str]) -> str:
    text = m.group(0)
    if text.startswith("'"):
        return text.replace("%", "%%")
    if text == "?":
        return "%s"
    if text == "%":
        return "%%"
    return f"%({m.group(1)})s"


def redacted(url: str) -> str:
    """``url`` without its passwords, for messages: ``postgresql://user@host:port/name``
    (``user:secret@``, and ``password=`` / ``sslpassword=`` in the query, removed)."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1@", url)
    return re.sub(r"([?&](?:ssl)?password=)[^&]*", r"\1***", url, flags=re.IGNORECASE)


def database_name(url: str) -> str:
    """The database ``url`` names (``postgresql://host/NAME?...`` -> ``NAME``)."""
    path = re.sub(r"^[^:]+://[^/]*", "", url).split("?", 1)[0].strip("/")
    return path or "postgres"


def connect_url(url: str) -> str:
    """``url`` as libpq takes it (``postgresql+psycopg://`` and ``postgres://`` accepted)."""
    return re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "postgresql://", url, count=1)


def _psycopg() -> Any:
    """The psycopg module; a clear error when it is not installed."""
    try:
        import psycopg
    except ImportError:
        raise KiliInputError(
            "db: a postgresql:// database needs psycopg: pip install 'aiokili[postgres]'."
        ) from None
    return psycopg


def _refuse_nul(exc: Exception) -> None:
    """A text PostgreSQL cannot store (psycopg refused it), as a user error."""
    if "NUL (0x00)" in str(exc):
        raise ServerError(
            "A text holds the character U+0000 (NUL), which a PostgreSQL store cannot keep "
            "(the platform's database neither): remove it and send the request again."
        ) from None


class _Connection:
    """A psycopg connection seen as :class:`~.conn.Conn` (autocommit: transactions are
    begun and ended by :class:`PostgresDatabase`)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Parameters = (), /) -> Cursor:
        cursor = self.raw.cursor()
        try:
            cursor.execute(translate(sql), parameters)
        except Exception as exc:
            _refuse_nul(exc)
            raise
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> Cursor:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(translate(sql), list(parameters))
        except Exception as exc:
            _refuse_nul(exc)
            raise
        return cursor

    def close(self) -> None:
        self.raw.close()


class PostgresDatabase(Database):
    """A PostgreSQL database: ``url`` is ``postgresql://USER[:PASSWORD]@HOST:PORT/NAME``;
    uploads go to ``files_dir`` (shared by every process serving the database)."""

    dialect = "postgresql"

    def __init__(self, url: str, files_dir: Path, max_readers: int = MAX_READERS) -> None:
        self.url = connect_url(url)
        self._psycopg = _psycopg()
        writer = self._connect()  # first: a database that cannot be reached makes no folder
        super().__init__(files_dir, max_readers)
        self._conn: _Connection | None = writer
        self._snapshot = ""
        self._leader: _Connection | None = None  # holds the locks of lead()

    def __repr__(self) -> str:
        return f"PostgresDatabase({redacted(self.url)!r})"

    def _connect(self, *, read_only: bool = False) -> _Connection:
        from psycopg.adapt import Dumper

        class _BoolAsInt(Dumper):
            oid = self._psycopg.adapters.types["int8"].oid

            def dump(self, obj: bool) -> bytes:
                return b"1" if obj else b"0"

        try:
            raw = self._psycopg.connect(self.url, autocommit=True)
        except self._psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KiliInputError(
                f"db: cannot connect to {redacted(self.url)}: {first}. Check that the server "
                "runs and that the database exists (createdb NAME)."
            ) from None
        raw.adapters.register_dumper(bool, _BoolAsInt)
        # statements are prepared after a few runs (psycopg); a prepared statement's generic
        # plan ignores its values: for ``id IN (500 values)`` it scanned the whole table
        # (30,000 imports: 43 s instead of 4). Plan each run with its values.
        raw.execute("SET plan_cache_mode = force_custom_plan")
        if read_only:
            raw.execute("SET default_transaction_read_only = on")
        return _Connection(raw)

    def _new_reader(self) -> Conn:
        return self._connect(read_only=True)

    def _reusable(self, conn: Any) -> bool:
        return not conn.raw.broken

    def _writer(self) -> Conn:
        if self._conn is None or self._conn.raw.broken:  # e.g. the server restarted
            self._conn = self._connect()
        return self._conn

    def lead(self, key: int) -> bool:
        """Whether this process holds the advisory lock ``key``, trying to take it: held on
        a connection of its own while this process lives; PostgreSQL frees it when the
        process dies, and another one takes it. A held lock is checked (its connection may
        have been lost, e.g. PostgreSQL restarted: then another process may hold it now)."""
        with self._lock:
            if self._leader is not None:
                try:
                    self._leader.execute("SELECT 1").fetchone()
                except self._psycopg.Error:
                    self._leader.close()
                    self._leader = None
            if self._leader is None:
                (held,) = (
                    self._writer().execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()
                )
                if held:
                    self._leader = self._conn  # keeps the lock while the process lives
                    self._conn = self._connect()  # and another connection writes
            return self._leader is not None

    def _changing(self, c: Conn) -> None:
        c.execute(
            "INSERT INTO settings (name, value) VALUES ('generation', '1') ON CONFLICT (name) "
            "DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)"
        )

    def changed(self) -> bool:
        """Whether a write changing existing rows committed, in any process, since the last
        call: each counts one more in the ``settings`` row ``generation`` (``append_only``
        writes, e.g. imports, logs, heartbeats, do not; caches of rows stay valid)."""
        with self.read() as c:
            row = c.execute("SELECT value FROM settings WHERE name = 'generation'").fetchone()
        generation = "0" if row is None else str(row[0])
        if generation == self._snapshot:
            return False
        self._snapshot = generation
        return True

    def _begin(self, c: Conn) -> None:
        c.execute("BEGIN")
        c.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))

    def close(self) -> None:
        """Close every connection (the database and the files stay)."""
        self._close_readers()
        with self._lock:
            for conn in (self._conn, self._leader):
                if conn is not None:
                    conn.close()
            self._conn = self._leader = None
