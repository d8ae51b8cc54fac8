"""GraphQL resolvers of asset administration: ``assignAssets``, ``setAssetsPriority``,
``skipAsset`` / ``unskipAsset`` and ``setAssetConsensus``. What each does, and the locks
assignees put on labelling, are in ``store/admin.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ariadne import MutationType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..errors import ServerError
from ..store.admin import AdminRepository
from ..store.db import in_thread

if TYPE_CHECKING:
    from ..store.assets import AssetRow

mutation = MutationType()


def _repo(info: Info) -> AdminRepository:
    return AdminRepository(context(info).store.db)


@mutation.field("assignAssets")
async def resolve_assign(
    _: Any, info: Info, where: dict[str, Any], userIds: list[str]
) -> dict[str, Any]:
    return await context(info).store.db.run_write(_repo(info).assign, where, userIds)


@mutation.field("setAssetsPriority")
async def resolve_priority(
    _: Any, info: Info, where: dict[str, Any], priority: int
) -> dict[str, Any]:
    return await context(info).store.db.run_write(_repo(info).set_priority, where, priority)


@mutation.field("skipAsset")
async def resolve_skip(_: Any, info: Info, reason: str, where: dict[str, Any]) -> AssetRow:
    store = context(info).store
    asset_id = await store.db.run_write(_repo(info).skip, where, reason)
    row = (await in_thread(store.assets.by_ids, [asset_id])).get(asset_id)
    if row is None:  # deleted meanwhile
        raise ServerError.not_found("Asset", asset_id)
    return row


@mutation.field("unskipAsset")
async def resolve_unskip(_: Any, info: Info, projectId: str, assetId: str) -> bool:
    return await context(info).store.db.run_write(_repo(info).unskip, projectId, assetId)


@mutation.field("setAssetConsensus")
async def resolve_consensus(
    _: Any,
    info: Info,
    projectId: str,
    isConsensus: bool,
    assetId: str | None = None,
    externalId: str | None = None,
) -> bool:
    return await context(info).store.db.run_write(
        _repo(info).set_consensus, projectId, assetId, externalId, isConsensus
    )


bindables = [mutation]
