"""The server processes serving a database, so that the asynchronous imports of one that
died are known: ``server_processes`` (each process's token and when it last said it lives)
and ``notifications.owner`` (the token of the process running the import).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")  # as revision 0001's


def upgrade() -> None:
    op.create_table(
        "server_processes",
        sa.Column("token", TEXT, primary_key=True),
        sa.Column("alive_at", sa.Float, nullable=False),  # seconds since the epoch
        if_not_exists=True,
    )
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("notifications")}
    if "owner" not in columns:  # as revision 0001, on a file that already has it: nothing
        with op.batch_alter_table("notifications") as table:  # SQLite: ADD COLUMN
            table.add_column(sa.Column("owner", TEXT))


def downgrade() -> None:
    raise NotImplementedError("the local server's schema only moves forward")
