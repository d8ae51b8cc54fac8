"""The ``assets`` table: listing and counting by filter, look-ups by id or external id,
imports (new external ids only), and the ``notifications`` of background imports."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ServerError
from . import access, steps
from .columns import Columns, insert_sql
from .conn import Conn
from .db import Database, chunks, marks, now, read_project, require_project
from .filters import Sql, asset_mark, asset_sql
from .paging import PageCache, read_ordered_page, read_page

# The marks computed from labels are in label_marks / asset_marks (marks.py); an asset's own
# consensus_mark / honeypot_mark column (set through updatePropertiesInAssets) wins over the
# computed one. Assignees are in asset_assignees (workflow.py).
_INSERTED = (  # the fields of a new AssetRow written by append (the others are defaults)
    "id",
    "project_id",
    "external_id",
    "content",
    "json_content",
    "json_metadata",
    "status",
    "is_honeypot",
    "created_at",
    "updated_at",
    "step_id",
    "step_status",
)
LATEST_TYPES = ("DEFAULT", "REVIEW")  # what latestLabel(s) consider: not predictions


@dataclass(frozen=True)
class AssetRow:
    id: str
    project_id: str
    external_id: str
    content: str
    json_content: str
    json_metadata: str
    status: str
    is_honeypot: bool
    created_at: str
    updated_at: str
    skipped: bool = False
    priority: int = 0
    consensus_mark: float | None = None
    honeypot_mark: float | None = None
    inference_mark: float | None = None
    step_id: str | None = None  # where the asset is in its project's steps (steps.py)
    step_name: str | None = None
    step_status: str | None = None
    step_group_name: str | None = None


COLUMNS = Columns(
    AssetRow,
    {
        "id": "a.id",
        "project_id": "a.project_id",
        "external_id": "a.external_id",
        "content": "a.content",
        "json_content": "a.json_content",
        "json_metadata": "a.json_metadata",
        "status": "a.status",
        "is_honeypot": "a.is_honeypot",
        "created_at": "a.created_at",
        "updated_at": "a.updated_at",
        "skipped": "a.skipped",
        "priority": "coalesce(a.priority, 0)",
        "consensus_mark": asset_mark("a", "consensus"),
        "honeypot_mark": asset_mark("a", "honeypot"),
        "inference_mark": "a.inference_mark",
        "step_id": "a.step_id",
        "step_name": "(SELECT s.name FROM project_steps s WHERE s.id = a.step_id)",
        "step_status": "a.step_status",
        "step_group_name": "a.step_group_name",
    },
    convert={"is_honeypot": bool, "skipped": bool},
)


QUEUE_ORDER = ("-coalesce(a.priority, 0)", "a.seq")
"""A labeler's queue: the highest priority first, equal priorities in import order."""


def _queue(c: Conn, where: Mapping[str, Any]) -> bool:
    """Whether the caller lists a project's assets as a LABELER of it (their queue)."""
    caller, project_id = access.current(), (where.get("project") or {}).get("id")
    return bool(caller and project_id and access.role_in(c, project_id, caller) == "LABELER")


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pages = PageCache(lambda: db.generation)

    def page(self, where: Mapping[str, Any], skip: int, first: int | None) -> list[AssetRow]:
        """A page of the assets under ``where``, in import order; a LABELER's listing of a
        project is their queue: highest priority first, then import order (``admin.py``)."""
        q = self._where(where)
        with self.db.read() as c:
            if _queue(c, where):
                select = f"SELECT {COLUMNS.sql}, {', '.join(QUEUE_ORDER)} FROM assets a"
                rows = read_ordered_page(c, self.pages, select, q, QUEUE_ORDER, skip, first)
            else:
                select = f"SELECT {COLUMNS.sql}, a.seq FROM assets a"
                rows = read_page(c, self.pages, select, q, "a.seq", skip, first)
        return [COLUMNS.row(r) for r in rows]

    def count(self, where: Mapping[str, Any]) -> int:
        q = self._where(where)
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM assets a WHERE {q.sql}", q.args).fetchone()[0]
            )

    def _where(self, where: Mapping[str, Any]) -> Sql:
        q = asset_sql(dict(where))
        project_id = (where.get("project") or {}).get("id")
        if project_id is not None:
            read_project(self.db, project_id)
        else:
            access.scope(q, "a.project_id")
        return q

    def by_ids(self, ids: Sequence[str]) -> dict[str, AssetRow]:
        out: dict[str, AssetRow] = {}
        with self.db.read() as c:
            for part in chunks(list(set(ids))):
                sql = f"SELECT {COLUMNS.sql} FROM assets a WHERE a.id IN ({marks(len(part))})"
                out.update((r[0], COLUMNS.row(r)) for r in c.execute(sql, list(part)))
        return out

    def existing_external_ids(self, project_id: str, external_ids: Sequence[str]) -> list[str]:
        read_project(self.db, project_id)
        found: set[str] = set()
        with self.db.read() as c:
            for part in chunks(external_ids):
                sql = (
                    f"SELECT external_id FROM assets WHERE project_id = ? AND external_id IN "
                    f"({marks(len(part))})"
                )
                found.update(r[0] for r in c.execute(sql, [project_id, *part]))
        return [e for e in external_ids if e in found]

    def append(self, project_id: str, assets: Sequence[AssetRow]) -> list[AssetRow]:
        """Insert the assets whose external id is new in the project; return those.

        An asset id that is already taken refuses the whole call (nothing is written).
        """
        with self.db.write(append_only=True) as c:
            require_project(c, project_id)
            taken: set[str] = set()
            for part in chunks([a.external_id for a in assets]):
                sql = (
                    f"SELECT external_id FROM assets WHERE project_id = ? AND external_id IN "
                    f"({marks(len(part))})"
                )
                taken.update(r[0] for r in c.execute(sql, [project_id, *part]))
            new: list[AssetRow] = []
            for asset in assets:
                if asset.external_id not in taken:
                    taken.add(asset.external_id)
                    new.append(replace(asset, project_id=project_id))
            used: list[str] = []
            for part in chunks([a.id for a in new]):
                sql = f"SELECT id FROM assets WHERE id IN ({marks(len(part))})"
                used += [r[0] for r in c.execute(sql, list(part))]
            if used:
                raise ServerError(
                    f"idArray: asset id(s) already exist: {', '.join(sorted(used)[:5])}"
                    ". Use new ids; nothing was imported."
                )
            step_id, step_name, step_status = steps.initial(c, project_id)
            new = [
                replace(
                    a,
                    status=steps.TRANSITIONS["import"][0],
                    step_id=step_id,
                    step_name=step_name,
                    step_status=step_status,
                )
                for a in new
            ]
            c.executemany(insert_sql("assets", _INSERTED), [vars(a) for a in new])
        return new

    def add_notification(self, status: str) -> dict[str, Any]:
        """A new notification (an asynchronous import's progress) with ``status``."""
        notification = {
            "id": uuid.uuid4().hex, "status": status, "createdAt": now(), "url": None,
            "message": None,
        }  # fmt: skip
        caller = access.current()
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT INTO notifications (id, status, created_at, organization_id, owner) "
                "VALUES (?,?,?,?,?)",
                (
                    notification["id"],
                    status,
                    notification["createdAt"],
                    caller and caller.organization_id,
                    self.db.token,  # its import runs in this process (processes.py)
                ),
            )
        return notification

    def set_notification(
        self, notification_id: str, status: str, message: str | None = None
    ) -> None:
        """Set the notification's status, and why (a failure's reason) if given."""
        with self.db.write(append_only=True) as c:  # no listing pages notifications
            c.execute(
                "UPDATE notifications SET status = ?, message = ? WHERE id = ?",
                (status, message, notification_id),
            )

    def notifications(self, notification_id: str | None) -> list[dict[str, Any]]:
        sql, args = "SELECT id, status, created_at, message FROM notifications WHERE 1 = 1", []
        if notification_id is not None:
            sql, args = sql + " AND id = ?", [notification_id]
        caller = access.current()
        if caller is not None:  # the caller's organization's imports
            sql, args = sql + " AND organization_id IS ?", [*args, caller.organization_id]
        with self.db.read() as c:
            return [
                {"id": r[0], "status": r[1], "createdAt": r[2], "url": None, "message": r[3]}
                for r in c.execute(sql + " ORDER BY created_at", args)
            ]
