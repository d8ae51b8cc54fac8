"""Deletions that cascade as on the platform, in one place.

A label takes with it its category counts, marks, send-back flag, issues and the last
update the label feed recorded. An asset takes its labels (and theirs), issues, assignees,
properties, marks and honeypot answer. Uploaded files are the asset domain's to delete once the transaction has
committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .conn import Conn

LABEL_TABLES = (
    "label_categories",
    "label_marks",
    "sent_back_labels",
    "issues",
    "label_steps",
    "label_changes",
)  # label_id
ASSET_TABLES = (
    "issues",
    "asset_assignees",
    "asset_properties",
    "sent_back_assets",
    "asset_marks",
    "honeypots",
)  # asset_id


def delete_labels(c: Conn, where: str, rows: Sequence[Sequence[Any]]) -> None:
    """Delete ``labels WHERE <where>`` (run once per parameter row) and what hangs off them."""
    ids = f"SELECT id FROM labels WHERE {where}"
    for table in LABEL_TABLES:
        c.executemany(f"DELETE FROM {table} WHERE label_id IN ({ids})", rows)
    c.executemany(f"DELETE FROM labels WHERE {where}", rows)


def delete_assets(c: Conn, where: str, rows: Sequence[Sequence[Any]]) -> None:
    """Delete ``assets WHERE <where>`` (once per parameter row) and what hangs off them."""
    ids = f"SELECT id FROM assets WHERE {where}"
    delete_labels(c, f"asset_id IN ({ids})", rows)
    for table in ASSET_TABLES:
        c.executemany(f"DELETE FROM {table} WHERE asset_id IN ({ids})", rows)
    c.executemany(f"DELETE FROM assets WHERE {where}", rows)
