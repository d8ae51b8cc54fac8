"""GraphQL resolvers of tags (an organization's labels for its projects): listing,
creation, renaming, deletion, checking on a project."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..errors import ServerError
from ..store.db import in_thread
from ..store.tags import TagRow

query = QueryType()
mutation = MutationType()
tag_type = ObjectType("Tag")


DEFAULT_COLOR = "#1F6FEB"
"""The color of a tag created without one (the platform picks a default it does not
document: this is the local server's)."""


def _color(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_COLOR
    return str(value).strip()


def _label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServerError("data.label is required: give the tag a non-empty label.")
    return value.strip()


@query.field("listTagsByOrg")
async def resolve_tags_by_org(_: Any, info: Info) -> list[TagRow]:
    ctx = context(info)
    return await in_thread(ctx.store.tags.of_organization, ctx.user.organization_id)


@query.field("listTagsByProject")
async def resolve_tags_by_project(_: Any, info: Info, projectId: str) -> list[TagRow]:
    ctx = context(info)
    await in_thread(ctx.store.projects.require, projectId)
    return await in_thread(ctx.store.tags.of_project, projectId)


@mutation.field("createTag")
async def resolve_create_tag(_: Any, info: Info, data: dict[str, Any]) -> TagRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.tags.create,
        _label(data.get("label")),
        _color(data.get("color")),
        ctx.user.organization_id,
    )


@mutation.field("updateTag")
async def resolve_update_tag(_: Any, info: Info, tagId: str, data: dict[str, Any]) -> Any:
    ctx = context(info)
    changed, tag = await ctx.store.db.run_write(
        ctx.store.tags.rename, tagId, _label(data.get("label")), ctx.user.organization_id
    )
    return {"affectedRows": changed, "updatedTag": tag}


@mutation.field("deleteTag")
async def resolve_delete_tag(_: Any, info: Info, tagId: str) -> bool:
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.tags.delete, tagId, ctx.user.organization_id)


@mutation.field("checkTag")
async def resolve_check_tag(_: Any, info: Info, data: dict[str, Any]) -> TagRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.tags.check,
        data["tagId"],
        data["projectId"],
        ctx.user.organization_id,
        checked=True,
    )


@mutation.field("uncheckTag")
async def resolve_uncheck_tag(_: Any, info: Info, projectId: str, tagId: str) -> TagRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.tags.check, tagId, projectId, ctx.user.organization_id, checked=False
    )


bindables = [query, mutation, tag_type]
