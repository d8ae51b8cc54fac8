"""GraphQL resolvers of project versions: listing, counting, setting a version's content,
and the local-only ``createProjectVersion`` (see ``store/versions.py``)."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..errors import ServerError
from ..store.db import in_thread
from ..store.versions import VersionRow
from .common import page

query = QueryType()
mutation = MutationType()


def _project_id(where: dict[str, Any]) -> str:
    if not where.get("projectId"):
        raise ServerError("where.projectId is required: give the project id.")
    return str(where["projectId"])


@query.field("projectVersions")
async def resolve_versions(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[VersionRow]:
    ctx = context(info)
    return await in_thread(ctx.store.versions.page, _project_id(where), *page(kw))


@query.field("countProjectVersions")
async def resolve_count_versions(_: Any, info: Info, where: dict[str, Any]) -> int:
    return await in_thread(context(info).store.versions.count, _project_id(where))


@mutation.field("updatePropertiesInProjectVersion")
async def resolve_update_version(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> VersionRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.versions.set_content, where["id"], data.get("content")
    )


@mutation.field("createProjectVersion")
async def resolve_create_version(_: Any, info: Info, data: dict[str, Any]) -> VersionRow:
    ctx = context(info)
    name = data.get("name")
    if name is not None and not name.strip():
        raise ServerError("data.name cannot be empty: give a name, or none for v<n>.")
    return await ctx.store.db.run_write(
        ctx.store.versions.create, data["projectId"], name, data.get("content")
    )


bindables = [query, mutation]
