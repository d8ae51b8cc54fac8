"""Alembic's environment for the local server's schema: run on the connection that
:func:`aiokili.server.store.migrations.upgrade` (or the ``alembic`` command, through
:func:`~aiokili.server.store.migrations.config`) hands over, in one transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

connection: Connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
