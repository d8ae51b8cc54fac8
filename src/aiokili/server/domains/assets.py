"""GraphQL resolvers of assets: listings (with their labels and project read alongside),
imports (at once, or in the background with a notification), signed upload and content URLs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from .. import json_input, tiling
from ..background import background_of
from ..context import context, selected
from ..errors import ServerError, logger
from ..store.assets import LATEST_TYPES, AssetRow
from ..store.db import in_thread, now, read_project
from ..store.filters import check_list
from .common import constants, page, required_id

if TYPE_CHECKING:
    from ..store.labels import LabelRow
    from ..store.projects import ProjectRow
    from ..store.users import UserRow
    from ..store.workflow_state import AssetProperties

T = TypeVar("T")

query = QueryType()
mutation = MutationType()
asset_type = ObjectType("Asset")
constants(
    asset_type,
    {
        "resolution": None,
        "currentStep": None,
        "ocrMetadata": None,
        "pageResolutions": [],
        "geospatialExportMetadata": None,
    },
)


@query.field("assets")
async def resolve_assets(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[AssetRow]:
    ctx, wanted = context(info), selected(info)
    store = ctx.store
    label_wanted = selected(info, *_LABEL_FIELDS) if wanted & _LABEL_FIELDS else set()
    organization = ctx.user.organization_id

    def read() -> tuple[list[AssetRow], _Alongside]:
        rows = store.assets.page(where, *page(kw))
        ids = [r.id for r in rows]
        labels = store.labels.of_assets(ids) if wanted & _LABEL_FIELDS else {}
        projects = (
            store.projects.by_ids([r.project_id for r in rows]) if "project" in wanted else {}
        )
        # the labels' authors (a few users for many labels), as the users loader reads them
        authors = {lb.author_id for found in labels.values() for lb in found}
        found = store.users.by_ids(sorted(authors)) if authors else {}
        users = {
            k: u if (u := found.get(k)) and u.organization_id == organization else None
            for k in authors
        }
        properties: dict[str, AssetProperties | None] = {}
        if wanted & _PROPERTY_FIELDS:
            properties = dict.fromkeys(ids)
            properties.update(store.workflow.properties(ids))
        sent_back: dict[str, bool | None] = {}
        if "currentStep" in wanted:  # a legacy asset in progress: sent back or not
            sent_back = {r.id: None for r in rows if r.status == "ONGOING" and not r.step_status}
            sent_back.update(store.workflow.sent_back_assets(list(sent_back)))
        labels_sent_back: dict[str, bool | None] = {}
        if "isSentBackToQueue" in label_wanted:
            labels_sent_back = {lb.id: None for found in labels.values() for lb in found}
            labels_sent_back.update(store.workflow.sent_back_labels(list(labels_sent_back)))
        return rows, _Alongside(labels, projects, users, properties, sent_back, labels_sent_back)

    rows, alongside = await in_thread(read)
    # the per-asset resolvers then answer synchronously
    ctx.labels_of_asset.prime_many(alongside.labels)
    ctx.projects.prime_many(alongside.projects)
    ctx.users.prime_many(alongside.users)
    ctx.asset_properties.prime_many(alongside.properties)
    ctx.sent_back_assets.prime_many(alongside.sent_back)
    ctx.sent_back_labels.prime_many(alongside.labels_sent_back)
    return rows


_PROPERTY_FIELDS = {"isUsedForConsensus", "resolution", "pageResolutions"}


@dataclass(frozen=True)
class _Alongside:
    """What a page of assets reads for the fields selected (by asset, project, user id)."""

    labels: dict[str, list[LabelRow]]
    projects: dict[str, ProjectRow]
    users: dict[str, UserRow | None]
    properties: dict[str, AssetProperties | None]
    sent_back: dict[str, bool | None]
    labels_sent_back: dict[str, bool | None]


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
    owner = ctx.user.organization_id
    return [ctx.signer.upload_url(ctx.base_url, path, owner) for path in filePaths or []]


@asset_type.field("content")
def resolve_content(asset: AssetRow, info: Info) -> str | None:
    ctx = context(info)
    return ctx.signer.download_url(ctx.base_url, asset.content, *_owners(ctx))


@asset_type.field("jsonContent")
def resolve_json_content(asset: AssetRow, info: Info) -> str | None:
    ctx = context(info)
    if not (asset.json_content or "").startswith("http"):  # inline JSON (e.g. layers)
        return asset.json_content
    return ctx.signer.download_url(ctx.base_url, asset.json_content, *_owners(ctx))


def _owners(ctx: Any) -> tuple[str, Callable[[str], str | None]]:
    """The caller's organization, and how to read an upload's (``Signer.download_url``)."""

    def owner_of(key: str) -> str | None:
        found = ctx.store.files.get(key)
        return None if found is None else found.organization_id

    return ctx.user.organization_id, owner_of


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
        raise ServerError(
            f"{key} has {len(values)} entries but there are {n} assets: "
            "give one entry per asset in every array."
        )
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
        json_input.loads(text, f"jsonMetadataArray[{i}]")
    at = now()
    return [
        AssetRow(
            id=ids[i],
            project_id="",
            external_id=external[i],
            content=contents[i],
            json_content=json_contents[i],
            json_metadata=metadata[i],
            status="TODO",
            is_honeypot=bool(honeypots[i]),
            created_at=at,
            updated_at=at,
        )
        for i in range(n)
    ]


@mutation.field("appendManyAssets")
async def resolve_append_many_assets(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> list[AssetRow]:
    ctx = context(info)
    assets = _new_assets(data)
    project_id = required_id(where)
    return await ctx.store.db.run_write(ctx.store.assets.append, project_id, assets)


def _layers_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """``multiLayerContentArray`` (lists of ``{url, name, ...}``) as each asset's content
    (its first layer's URL) and jsonContent (the layer list as JSON)."""
    layers = data.get("multiLayerContentArray")
    if layers is None:
        return dict(data)
    out = dict(data)
    if not all(
        isinstance(item, list) and item and all(isinstance(x, dict) and x.get("url") for x in item)
        for item in layers
    ):
        raise ServerError(
            "multiLayerContentArray: each asset needs a non-empty list of layers, "
            'each with a "url".'
        )
    out["contentArray"] = [item[0]["url"] for item in layers]
    out["jsonContentArray"] = data.get("jsonContentArray") or [json.dumps(i) for i in layers]
    return out


@mutation.field("appendManyAssetsAsynchronously")
async def resolve_append_many_assets_async(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> dict[str, Any]:
    """Check the input now, import in the background (the lifespan's task group); the
    notification says when it is done (``PENDING``, then ``SUCCESS``, or ``FAILURE`` with
    the reason in its ``message``). Large images are tiled first (``server/tiling.py``)."""
    ctx = context(info)
    project_id = required_id(where)
    assets = _new_assets(_layers_content(data))
    await in_thread(read_project, ctx.store.db, project_id)
    large = await in_thread(tiling.candidates, ctx.store, data, assets, ctx.settings)
    repo, db = ctx.store.assets, ctx.store.db
    notification = await db.run_write(repo.add_notification, "PENDING")

    async def run() -> dict[str, Any]:
        done: dict[str, Any] = {"status": "SUCCESS", "message": None}
        try:
            imported = list(assets)
            for found in large:  # the tiles exist before the assets do
                asset = imported[found.index]
                document = await in_thread(
                    tiling.tile_asset, ctx.store, found, asset.id, ctx.base_url, ctx.settings
                )
                url = ctx.signer.url(ctx.base_url, document, "GET")
                imported[found.index] = replace(asset, json_content=url)
            await db.run_write(repo.append, project_id, imported)
        except ServerError as exc:  # refused input: the client is told why
            done = {"status": "FAILURE", "message": str(exc)}
        except Exception:
            done = {"status": "FAILURE", "message": "Internal error: see the server's log."}
            logger.exception("asynchronous import %s failed", notification["id"])
        await db.run_write(repo.set_notification, notification["id"], *done.values())
        return {**notification, **done}

    work = background_of(ctx.store)
    if work is None:  # no lifespan runs (an app served without one): import now
        return await run()
    work.start(f"asynchronous import {notification['id']}", run)
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
