"""GraphQL resolvers of users, organizations and API keys: ``viewer``, ``users``,
``organizations``, ``apiKeys`` and their counts."""

from __future__ import annotations

from typing import Any

from ariadne import ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..store.db import in_thread
from ..store.users import ApiKeyRow, OrganizationRow, UserRow
from .common import constants, page

query = QueryType()
user_type = ObjectType("User")
organization_type = ObjectType("Organization")
api_key_type = ObjectType("ApiKey")
constants(user_type, {"activated": True, "organizationRole": "ADMIN"})
constants(organization_type, {"license": {"uploadLocalData": True}})
constants(api_key_type, {"expiryDate": "2099-12-31T00:00:00.000Z", "revoked": False})


@query.field("viewer")
def resolve_viewer(_: Any, info: Info) -> UserRow:
    return context(info).user


@query.field("users")
async def resolve_users(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[UserRow]:
    ctx = context(info)
    return await in_thread(ctx.store.users.search, ctx.user.organization_id, where, *page(kw))


@query.field("countUsers")
async def resolve_count_users(_: Any, info: Info, where: dict[str, Any]) -> int:
    ctx = context(info)
    return await in_thread(ctx.store.users.count, ctx.user.organization_id, where)


@query.field("organizations")
async def resolve_organizations(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[OrganizationRow]:
    ctx = context(info)
    org = ctx.user.organization_id
    return await in_thread(ctx.store.users.search_organizations, org, where, *page(kw))


@query.field("countOrganizations")
async def resolve_count_organizations(_: Any, info: Info, where: dict[str, Any]) -> int:
    ctx = context(info)
    org = ctx.user.organization_id
    return await in_thread(ctx.store.users.count_organizations, org, where)


@user_type.field("updatedAt")
def resolve_user_updated_at(user: UserRow, _: Info) -> str:
    return user.created_at


@user_type.field("organization")
async def resolve_user_organization(user: UserRow, info: Info) -> OrganizationRow | None:
    store = context(info).store
    return (await in_thread(store.users.organizations, [user.organization_id])).get(
        user.organization_id
    )


@query.field("apiKeys")
async def resolve_api_keys(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[ApiKeyRow]:
    ctx = context(info)
    skip, first = page(kw)
    user_id = (where.get("user") or {}).get("id")
    keys = await in_thread(ctx.store.users.api_keys, where.get("key"), user_id)
    keys = [k for k in keys if where.get("id") in (None, k.id)]
    return keys[skip : None if first is None else skip + first]


@query.field("countApiKeys")
async def resolve_count_api_keys(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(await resolve_api_keys(_, info, where))


@api_key_type.field("user")
async def resolve_api_key_user(key: ApiKeyRow, info: Info) -> UserRow | None:
    return await context(info).users.load(key.user_id)


bindables = [query, user_type, organization_type, api_key_type]
