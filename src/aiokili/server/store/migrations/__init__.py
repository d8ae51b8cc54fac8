"""The local server's schema versions: Alembic revisions (``versions/``), applied at start.

:func:`upgrade` brings a database to :data:`HEAD` when a store opens it:

* a new database gets every revision;
* a file an earlier aiokili made (tables, no ``alembic_version``) is completed by the first
  revision (the columns and rows its tables lacked) and stamped, its rows kept;
* a database already at :data:`HEAD` costs one small read: Alembic is not even imported;
* a database stamped with a revision this aiokili does not know (made by a newer one) is
  refused with :class:`~aiokili.errors.DatabaseVersionError`, left unchanged.

Every revision runs in one transaction (SQLite's DDL is transactional): an interrupted
upgrade leaves the file as it was. A new database after the first in a process replays the
schema the first one got (its ``CREATE`` statements, as SQLite stored them) instead of
running Alembic again: a test server starts in about a millisecond more than before.

Add a revision with ``alembic revision --rev-id 0002 -m "what changes"`` from the
repository's root (``[tool.alembic]`` in ``pyproject.toml``), then bump :data:`HEAD`.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from ....errors import DatabaseVersionError

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0001"
"""The newest revision (``tests/server/store/test_migrations.py`` checks it is the head of
``versions/``): a database stamped with it needs nothing."""
FOLDER = Path(__file__).parent
_template: list[str] = []  # the schema of the first new database of this process
_template_lock = threading.Lock()


def config() -> Config:
    """Alembic's configuration for these revisions (no ``alembic.ini``): hand a SQLAlchemy
    connection in ``config.attributes["connection"]`` to run a command."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(FOLDER))
    return cfg


def stored_revision(c: sqlite3.Connection) -> str | None:
    """The revision a database is stamped with (None: no ``alembic_version`` table)."""
    if not _has_table(c, "alembic_version"):
        return None
    row = c.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def upgrade(path: str) -> None:
    """Bring the SQLite database at ``path`` to :data:`HEAD` (see the module docstring).

    Raises :class:`~aiokili.errors.DatabaseVersionError` for a database of a newer aiokili.
    """
    with closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("PRAGMA busy_timeout=30000")
        stored = stored_revision(c)
        if stored == HEAD:
            return
        new = stored is None and not _has_table(c)
        if new and _template and _replay(c):
            return
    _run_revisions(path, stored)
    if new and not _template:
        with closing(sqlite3.connect(path)) as c, _template_lock:
            _template[:] = [
                sql
                for (sql,) in c.execute(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                    "'sqlite_%' ORDER BY rowid"
                )
            ]


def _has_table(c: sqlite3.Connection, name: str | None = None) -> bool:
    """Whether the database has the table ``name`` (None: any table of ours)."""
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    args: tuple[str, ...] = ()
    if name is not None:
        query, args = query + " AND name = ?", (name,)
    return c.execute(query, args).fetchone() is not None


def _replay(c: sqlite3.Connection) -> bool:
    """Give the new database ``c`` the schema of :data:`_template`, stamped :data:`HEAD`, in
    one transaction; False if another process made tables first (then Alembic runs)."""
    c.execute("BEGIN IMMEDIATE")
    try:
        if _has_table(c):
            c.execute("ROLLBACK")
            return False
        for statement in _template:
            c.execute(statement)
        c.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD,))
    except BaseException:
        c.execute("ROLLBACK")
        raise
    c.execute("COMMIT")
    return True


def _run_revisions(path: str, stored: str | None) -> None:
    """Alembic's ``upgrade head`` on ``path``, in one ``BEGIN IMMEDIATE`` transaction."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = config()
    if stored is not None:
        known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
        if stored not in known:
            raise DatabaseVersionError(
                f"The database {path} has schema revision {stored!r}, which this aiokili "
                f"does not know (its newest is {HEAD!r}): a newer aiokili wrote it. Upgrade "
                "aiokili (pip install -U 'aiokili[server]') to open it; the file was left "
                "unchanged."
            )
    engine = sa.create_engine(sa.URL.create("sqlite", database=path), poolclass=sa.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi: sqlite3.Connection, record: object) -> None:
        dbapi.isolation_level = None  # the transaction is ours (below), DDL included
        dbapi.execute("PRAGMA busy_timeout=30000")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
