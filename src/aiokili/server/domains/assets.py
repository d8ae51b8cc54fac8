"""Assets: listing, import (sync and async), upload URLs, notifications."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from .. import steps
from ..context import context, selected
from ..db import Database, chunks, in_thread, marks, now
from ..errors import ServerError
from ..filters import Sql, asset_mark, asset_sql, check_list
from ..paging import PageCache, read_page
from .common import constants, page, require_project, required_id

if TYPE_CHECKING:
    from .labels import LabelRow
    from .projects import ProjectRow

DDL = """
CREATE TABLE IF NOT EXISTS assets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, project_id TEXT, external_id TEXT,
  content TEXT, json_content TEXT, json_metadata TEXT, status TEXT, is_honeypot INTEGER,
  created_at TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS assets_project ON assets (project_id, seq);
DROP INDEX IF EXISTS assets_external;
CREATE UNIQUE INDEX IF NOT EXISTS assets_external_id ON assets (project_id, external_id);
CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, status TEXT, created_at TEXT);
"""
# The marks computed from labels are in label_marks / asset_marks (marks.py); an asset's own
# consensus_mark / honeypot_mark column (set through updatePropertiesInAssets) wins over the
# computed one. Assignees are in asset_assignees (workflow.py).
WORKFLOW_COLUMNS = {  # added to ``assets`` (ALTER TABLE), so older database files gain them
    "skipped": "INTEGER DEFAULT 0", "priority": "INTEGER DEFAULT 0", "consensus_mark": "REAL",
    "honeypot_mark": "REAL", "inference_mark": "REAL", "step_id": "TEXT", "step_status": "TEXT",
    "step_group_name": "TEXT",
}  # fmt: skip
_COLUMNS = ("a.id, a.project_id, a.external_id, a.content, a.json_content, a.json_metadata, "
            "a.status, a.is_honeypot, a.created_at, a.updated_at, a.skipped, a.priority, "
            f"{asset_mark('a', 'consensus')}, {asset_mark('a', 'honeypot')}, a.inference_mark, "
            "a.step_id, (SELECT s.name FROM project_steps s WHERE s.id = a.step_id), "
            "a.step_status, a.step_group_name")  # fmt: skip
T = TypeVar("T")
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


def _row(r: Sequence[Any]) -> AssetRow:
    return AssetRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9],
                    bool(r[10]), r[11] or 0, r[12], r[13], r[14], r[15], r[16], r[17], r[18])  # fmt: skip


def add_workflow_columns(db: Database) -> None:
    """Give ``assets`` the columns of :data:`WORKFLOW_COLUMNS` it lacks (older files)."""
    with db.write() as c:
        have = {r[1] for r in c.execute("PRAGMA table_info(assets)")}
        for name, kind in WORKFLOW_COLUMNS.items():
            if name not in have:
                c.execute(f"ALTER TABLE assets ADD COLUMN {name} {kind}")


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pages = PageCache(lambda: db.generation)
        add_workflow_columns(db)

    def page(self, where: Mapping[str, Any], skip: int, first: int | None) -> list[AssetRow]:
        q = self._where(where)
        with self.db.read() as c, _missing_storage():
            rows = read_page(c, self.pages, f"SELECT {_COLUMNS}, a.seq FROM assets a", q,
                             "a.seq", skip, first)  # fmt: skip
        return [_row(r) for r in rows]

    def count(self, where: Mapping[str, Any]) -> int:
        q = self._where(where)
        with self.db.read() as c, _missing_storage():
            return int(c.execute(f"SELECT COUNT(*) FROM assets a WHERE {q.sql}", q.args)
                       .fetchone()[0])  # fmt: skip

    def _where(self, where: Mapping[str, Any]) -> Sql:
        q = asset_sql(dict(where))
        project_id = (where.get("project") or {}).get("id")
        if project_id is not None:
            _require_project(self.db, project_id)
        return q

    def by_ids(self, ids: Sequence[str]) -> dict[str, AssetRow]:
        out: dict[str, AssetRow] = {}
        with self.db.read() as c:
            for part in chunks(list(set(ids))):
                sql = f"SELECT {_COLUMNS} FROM assets a WHERE a.id IN ({marks(len(part))})"
                out.update((r[0], _row(r)) for r in c.execute(sql, list(part)))
        return out

    def existing_external_ids(self, project_id: str, external_ids: Sequence[str]) -> list[str]:
        _require_project(self.db, project_id)
        found: set[str] = set()
        with self.db.read() as c:
            for part in chunks(external_ids):
                sql = (f"SELECT external_id FROM assets WHERE project_id = ? AND external_id IN "
                       f"({marks(len(part))})")  # fmt: skip
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
                sql = (f"SELECT external_id FROM assets WHERE project_id = ? AND external_id IN "
                       f"({marks(len(part))})")  # fmt: skip
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
                raise ServerError(f"idArray: asset id(s) already exist: {', '.join(sorted(used)[:5])}"
                                  ". Use new ids; nothing was imported.")  # fmt: skip
            step_id, step_name, step_status = steps.initial(c, project_id)
            c.executemany(
                "INSERT INTO assets (id, project_id, external_id, content, json_content, "
                "json_metadata, status, is_honeypot, created_at, updated_at, step_id, "
                "step_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(a.id, project_id, a.external_id, a.content, a.json_content, a.json_metadata,
                  steps.TRANSITIONS["import"][0], int(a.is_honeypot), a.created_at,
                  a.updated_at, step_id, step_status) for a in new],
            )  # fmt: skip
            new = [replace(a, step_id=step_id, step_name=step_name, step_status=step_status)
                   for a in new]  # fmt: skip
        return new

    def add_notification(self, status: str) -> dict[str, Any]:
        """A new notification (an asynchronous import's progress) with ``status``."""
        notification = {"id": uuid.uuid4().hex, "status": status, "createdAt": now(), "url": None}
        with self.db.write(append_only=True) as c:
            c.execute("INSERT INTO notifications VALUES (?,?,?)",
                      (notification["id"], status, notification["createdAt"]))  # fmt: skip
        return notification

    def set_notification(self, notification_id: str, status: str) -> None:
        with self.db.write(append_only=True) as c:  # no listing pages notifications
            c.execute("UPDATE notifications SET status = ? WHERE id = ?", (status, notification_id))

    def notifications(self, notification_id: str | None) -> list[dict[str, Any]]:
        sql, args = "SELECT id, status, created_at FROM notifications", []
        if notification_id is not None:
            sql, args = sql + " WHERE id = ?", [notification_id]
        with self.db.read() as c:
            return [{"id": r[0], "status": r[1], "createdAt": r[2], "url": None}
                    for r in c.execute(sql + " ORDER BY created_at", args)]  # fmt: skip


@contextmanager
def _missing_storage() -> Iterator[None]:
    """A filter on data this server does not store (e.g. no issues table) answers
    NOT_IMPLEMENTED naming it, not an internal error."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "no such" not in str(exc):
            raise
        raise ServerError.not_implemented(f"A filter on data this server lacks ({exc})") from None


def _require_project(db: Database, project_id: str) -> None:
    with db.read() as c:
        require_project(c, project_id)


query = QueryType()
mutation = MutationType()
asset_type = ObjectType("Asset")
constants(asset_type, {
    "resolution": None, "currentStep": None, "ocrMetadata": None,
    "pageResolutions": [], "geospatialExportMetadata": None,
})  # fmt: skip


@query.field("assets")
async def resolve_assets(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[AssetRow]:
    ctx, wanted = context(info), selected(info)
    store = ctx.store

    def read() -> tuple[list[AssetRow], dict[str, list[LabelRow]], dict[str, ProjectRow]]:
        rows = store.assets.page(where, *page(kw))
        ids = [r.id for r in rows]
        labels = store.labels.of_assets(ids) if wanted & _LABEL_FIELDS else {}
        projects = (
            store.projects.by_ids([r.project_id for r in rows]) if "project" in wanted else {}
        )
        return rows, labels, projects

    rows, labels, projects = await in_thread(read)
    ctx.labels_of_asset.prime(labels)  # the per-asset resolvers then answer synchronously
    ctx.projects.prime(projects)
    return rows


@query.field("countAssets")
async def resolve_count_assets(_: Any, info: Info, where: dict[str, Any]) -> int:
    return await in_thread(context(info).store.assets.count, where)


@query.field("countAssetAnnotations")
def resolve_count_asset_annotations(_: Any, info: Info, where: dict[str, Any]) -> int:
    return 0


@query.field("filterExistingAssets")
async def resolve_filter_existing(
    _: Any, info: Info, projectID: str, externalIDs: list[str]
) -> list[str]:
    check_list(externalIDs, "externalIDs")
    return await in_thread(context(info).store.assets.existing_external_ids, projectID, externalIDs)


@query.field("createUploadBucketSignedUrls")
def resolve_signed_urls(_: Any, info: Info, filePaths: list[str] | None = None) -> list[str]:
    ctx = context(info)
    check_list(filePaths or [], "filePaths")
    return [ctx.signer.upload_url(ctx.base_url, path) for path in filePaths or []]


@asset_type.field("content")
def resolve_content(asset: AssetRow, info: Info) -> str | None:
    ctx = context(info)
    return ctx.signer.download_url(ctx.base_url, asset.content)


@asset_type.field("jsonContent")
def resolve_json_content(asset: AssetRow, info: Info) -> str | None:
    ctx = context(info)
    if not (asset.json_content or "").startswith("http"):  # inline JSON (e.g. layers)
        return asset.json_content
    return ctx.signer.download_url(ctx.base_url, asset.json_content)


_LABEL_FIELDS = {"labels", "latestLabel", "latestLabels"}


def _with_labels(asset: AssetRow, info: Info, fn: Callable[[list[LabelRow]], T]) -> Any:
    """``fn(labels of asset)``, synchronously when the page primed them."""
    found = context(info).labels_of_asset.get(asset.id)
    if isinstance(found, asyncio.Future):
        future = found

        async def later() -> T:
            return fn(await future or [])

        return later()
    return fn(found or [])


def _latest(labels: list[LabelRow]) -> LabelRow | None:
    latest = [lb for lb in labels if lb.label_type in LATEST_TYPES]
    return latest[-1] if latest else None


@asset_type.field("labels")
def resolve_asset_labels(asset: AssetRow, info: Info) -> Any:
    return _with_labels(asset, info, list)


@asset_type.field("latestLabel")
def resolve_latest_label(asset: AssetRow, info: Info) -> Any:
    return _with_labels(asset, info, _latest)


@asset_type.field("latestLabels")
def resolve_latest_labels(asset: AssetRow, info: Info) -> Any:
    return _with_labels(asset, info, lambda labels: [x] if (x := _latest(labels)) else [])


@asset_type.field("project")
def resolve_asset_project(asset: AssetRow, info: Info) -> Any:
    return context(info).projects.get(asset.project_id)


def _array(data: Mapping[str, Any], key: str, n: int, default: Any) -> list[Any]:
    values = data.get(key)
    if values is None:
        return [default] * n
    if len(values) != n:
        raise ServerError(f"{key} has {len(values)} entries but there are {n} assets: "
                          "give one entry per asset in every array.")  # fmt: skip
    return [default if v is None else v for v in values]


def _new_assets(data: Mapping[str, Any]) -> list[AssetRow]:
    n = len(data.get("contentArray") or data.get("jsonContentArray") or [])
    contents = _array(data, "contentArray", n, "")
    ids = [i or uuid.uuid4().hex for i in _array(data, "idArray", n, None)]
    external = [e or uuid.uuid4().hex for e in _array(data, "externalIDArray", n, None)]
    metadata = _array(data, "jsonMetadataArray", n, "{}")
    json_contents = _array(data, "jsonContentArray", n, "")
    honeypots = _array(data, "isHoneypotArray", n, False)
    if len(set(ids)) != n:
        raise ServerError("idArray has duplicates: each asset needs its own id.")
    for i, text in enumerate(metadata):
        try:
            json.loads(text)
        except (TypeError, ValueError):
            raise ServerError(f"jsonMetadataArray[{i}] is not valid JSON: {text[:80]!r}.") from None
    at = now()
    return [AssetRow(ids[i], "", external[i], contents[i], json_contents[i], metadata[i], "TODO",
                     bool(honeypots[i]), at, at) for i in range(n)]  # fmt: skip


@mutation.field("appendManyAssets")
async def resolve_append_many_assets(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> list[AssetRow]:
    ctx = context(info)
    assets = _new_assets(data)
    project_id = required_id(where)
    return await ctx.store.db.run_write(ctx.store.assets.append, project_id, assets)


_IMPORTS: set[asyncio.Task[str]] = set()  # asynchronous imports in progress


def _layers_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """``multiLayerContentArray`` (lists of ``{url, name, ...}``) as each asset's content
    (its first layer's URL) and jsonContent (the layer list as JSON)."""
    layers = data.get("multiLayerContentArray")
    if layers is None:
        return dict(data)
    out = dict(data)
    if not all(isinstance(item, list) and item and all(isinstance(x, dict) and x.get("url")
                                                        for x in item) for item in layers):  # fmt: skip
        raise ServerError("multiLayerContentArray: each asset needs a non-empty list of layers, "
                          'each with a "url".')  # fmt: skip
    out["contentArray"] = [item[0]["url"] for item in layers]
    out["jsonContentArray"] = data.get("jsonContentArray") or [json.dumps(i) for i in layers]
    return out


@mutation.field("appendManyAssetsAsynchronously")
async def resolve_append_many_assets_async(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> dict[str, Any]:
    """Check the input now, import in the background; the notification says when it is done
    (``PENDING``, then ``SUCCESS`` or ``FAILURE``)."""
    ctx = context(info)
    project_id = required_id(where)
    assets = _new_assets(_layers_content(data))
    await in_thread(_require_project, ctx.store.db, project_id)
    repo, db = ctx.store.assets, ctx.store.db
    notification = await db.run_write(repo.add_notification, "PENDING")

    async def run() -> str:
        try:
            await db.run_write(repo.append, project_id, assets)
            status = "SUCCESS"
        except Exception:  # the notification reports it; nobody awaits this task
            status = "FAILURE"
        await db.run_write(repo.set_notification, notification["id"], status)
        return status

    try:
        task = asyncio.get_running_loop().create_task(run())
    except RuntimeError:  # not on asyncio (e.g. the app served under trio): import now
        return {**notification, "status": await run()}
    _IMPORTS.add(task)
    task.add_done_callback(_IMPORTS.discard)
    return notification


@query.field("notifications")
async def resolve_notifications(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[dict[str, Any]]:
    skip, first = page(kw)
    found = await in_thread(context(info).store.assets.notifications, where.get("id"))
    return found[skip : None if first is None else skip + first]


@query.field("countNotifications")
async def resolve_count_notifications(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(await resolve_notifications(_, info, where))


bindables = [query, mutation, asset_type]
