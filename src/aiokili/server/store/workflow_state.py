"""The workflow's rows beside assets and labels: an asset's consensus use and resolutions
(``asset_properties``), and what a send-back flagged (``sent_back_assets``,
``sent_back_labels``).

Read from the database every time, in batches (the per-request loaders of ``context.py``;
a write, inside its transaction): several server processes may serve one database, so no
copy is kept in memory. A write sets only the columns it is given, over the stored row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .columns import upsert_sql
from .conn import Conn
from .db import Database, chunks, marks


@dataclass(frozen=True)
class AssetProperties:
    """An ``asset_properties`` row; an asset without one has the defaults."""

    is_used_for_consensus: bool = False
    resolution: dict[str, Any] | None = None
    page_resolutions: list[dict[str, Any]] | None = None


_COLUMNS = ("is_used_for_consensus", "resolution", "page_resolutions")
_JSON = frozenset({"resolution", "page_resolutions"})


def properties(c: Conn, asset_ids: Sequence[str]) -> dict[str, AssetProperties]:
    """The stored properties of the assets (those without a row are left out)."""
    out: dict[str, AssetProperties] = {}
    for part in chunks(list(asset_ids)):
        sql = (
            f"SELECT asset_id, {', '.join(_COLUMNS)} FROM asset_properties "
            f"WHERE asset_id IN ({marks(len(part))})"
        )
        for r in c.execute(sql, list(part)):
            out[r[0]] = AssetProperties(bool(r[1]), _loads(r[2]), _loads(r[3]))
    return out


def write_properties(c: Conn, asset_id: str, given: Mapping[str, Any]) -> None:
    """Set the given ``asset_properties`` columns of the asset; the others stay as stored."""
    names = [n for n in _COLUMNS if n in given]
    if not names:
        return
    values = [json.dumps(given[n]) if n in _JSON else given[n] for n in names]
    c.execute(
        upsert_sql("asset_properties", ("asset_id", *names), ("asset_id",)), [asset_id, *values]
    )


def _flagged(c: Conn, table: str, column: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(list(ids)):
        sql = f"SELECT {column} FROM {table} WHERE {column} IN ({marks(len(part))})"
        found.update(r[0] for r in c.execute(sql, list(part)))
    return found


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class WorkflowStateRepository:
    """Batched reads of the rows above, for the per-request loaders (absent: ``None``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def properties(self, asset_ids: Sequence[str]) -> dict[str, AssetProperties]:
        with self.db.read() as c:
            return properties(c, asset_ids)

    def sent_back_assets(self, asset_ids: Sequence[str]) -> dict[str, bool]:
        """``True`` for the assets a send-back put back in the queue."""
        with self.db.read() as c:
            return dict.fromkeys(_flagged(c, "sent_back_assets", "asset_id", asset_ids), True)

    def sent_back_labels(self, label_ids: Sequence[str]) -> dict[str, bool]:
        """``True`` for the labels a send-back flagged."""
        with self.db.read() as c:
            return dict.fromkeys(_flagged(c, "sent_back_labels", "label_id", label_ids), True)
