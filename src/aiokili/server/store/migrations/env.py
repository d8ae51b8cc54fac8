"""Alembic's environment for the local server's schema: run on the connection that
:func:`aiokili.server.store.migrations.upgrade` hands over (``config.attributes``), in the
transaction it began. The server applies the revisions itself when it opens a database:
the ``alembic`` command is for writing new ones (``alembic revision``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "The local server applies its schema revisions when it opens a database: start it "
        "(aiokili server --db FILE) instead of running them with the alembic command."
    )
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
