"""Injected faults and the rate limit counted in the database: every worker of one database
(``aiokili server --workers N``) counts in the same rows (``server/fault_tally.py``).

``fault_counts`` holds named counts (the requests of each operation, which numbers them
for the faults' draw; the faults injected; the requests refused), ``rate_buckets`` each
API key's token bucket (its tokens, and when they were counted, in PostgreSQL's clock).
A server of one process keeps them in memory: on SQLite the tables stay empty.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")  # as revision 0001's
INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "fault_counts",
        sa.Column("name", TEXT, primary_key=True),
        sa.Column("n", INT, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", TEXT, primary_key=True),  # the API key's SHA-256: never the key
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),  # seconds since the epoch
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("the local server's schema only moves forward")
