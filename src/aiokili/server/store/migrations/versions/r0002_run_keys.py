"""Plugin runs' keys in the database: every process serving it accepts them.

A run's key was kept in the memory of the process that started the run, so another process
serving the same database refused it. The table ``run_keys`` keeps its SHA-256 (never the
key), its user and when it expires (seconds since the epoch): a key whose run never ended
(its process died) is refused from then on, and its row removed later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")  # as revision 0001's


def upgrade() -> None:
    op.create_table(
        "run_keys",
        sa.Column("key_hash", TEXT, primary_key=True),  # SHA-256 of the key: never the key
        sa.Column("id", TEXT, unique=True),
        sa.Column("user_id", TEXT),
        sa.Column("created_at", TEXT),
        sa.Column("expires_at", sa.Float),  # seconds since the epoch
        if_not_exists=True,
    )
    op.create_index("run_keys_user", "run_keys", ["user_id"], if_not_exists=True)


def downgrade() -> None:
    raise NotImplementedError("the local server's schema only moves forward")
