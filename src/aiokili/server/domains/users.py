"""GraphQL resolvers of users, organizations and API keys: ``viewer`` / ``me``, ``users``,
``organizations``, ``organizationMetrics``, ``apiKeys`` and their counts; ``createUser``,
``updatePropertiesInUser``, ``updatePassword``, ``createOrganization``.

Who may call what is the guard's (``permissions.py``); every listing here is limited to the
caller's organization. API keys are stored hashed: ``ApiKey.key`` is always null.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import Context, context
from ..errors import ServerError
from ..store.db import in_thread
from ..store.users import (
    ORGANIZATION_ROLES,
    ApiKeyRow,
    OrganizationRow,
    UserRow,
    check_password,
)
from .common import constants, page

query = QueryType()
mutation = MutationType()
user_type = ObjectType("User")
organization_type = ObjectType("Organization")
api_key_type = ObjectType("ApiKey")
constants(organization_type, {"license": {"uploadLocalData": True}})
constants(api_key_type, {"expiryDate": "2099-12-31T00:00:00.000Z", "key": None})


@query.field("viewer")
@query.field("me")
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


def _instant(value: Any, name: str) -> str:
    """A DateTime argument as stored (``YYYY-MM-DDTHH:MM:SS.mmmZ``, UTC)."""
    text = str(value).strip().replace("Z", "+00:00")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ServerError(
            f"where.{name} must be a date-time like 2024-01-31T00:00:00Z, got {value!r}."
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@query.field("organizationMetrics")
async def resolve_organization_metrics(_: Any, info: Info, where: dict[str, Any]) -> Any:
    """What the organization's members labelled between ``startDate`` and ``endDate``."""
    ctx = context(info)
    start, end = _instant(where["startDate"], "startDate"), _instant(where["endDate"], "endDate")
    if start > end:
        raise ServerError(f"where.startDate ({start}) is after where.endDate ({end}).")
    return await in_thread(ctx.store.users.metrics, where["organizationId"], start, end)


@user_type.field("organization")
async def resolve_user_organization(user: UserRow, info: Info) -> OrganizationRow | None:
    store = context(info).store
    found = await in_thread(store.users.organizations, [user.organization_id])
    return found.get(user.organization_id)


@query.field("apiKeys")
async def resolve_api_keys(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[ApiKeyRow]:
    """The caller's own keys (``where.user.id`` of another user: none)."""
    ctx = context(info)
    skip, first = page(kw)
    user_id = (where.get("user") or {}).get("id")
    if user_id not in (None, ctx.user.id):
        return []
    keys = await in_thread(ctx.store.users.api_keys, ctx.user.id, where.get("key"))
    keys = [k for k in keys if where.get("id") in (None, k.id)]
    return keys[skip : None if first is None else skip + first]


@query.field("countApiKeys")
async def resolve_count_api_keys(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(await resolve_api_keys(_, info, where))


@api_key_type.field("user")
async def resolve_api_key_user(key: ApiKeyRow, info: Info) -> UserRow | None:
    return await context(info).users.load(key.user_id)


def _role(value: Any, name: str = "organizationRole") -> str:
    if value not in ORGANIZATION_ROLES:
        raise ServerError(f"{name} must be ADMIN or USER, got {value!r}.")
    return str(value)


@mutation.field("createUser")
async def resolve_create_user(_: Any, info: Info, data: dict[str, Any]) -> UserRow:
    """A user of the caller's organization (no API key: the local server's operator makes
    one, see docs/organizations.md)."""
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.users.create_user,
        ctx.user.organization_id,
        data["email"],
        _role(data.get("organizationRole")),
        data.get("firstname"),
        data.get("lastname"),
        data.get("password"),
    )


async def _target(ctx: Context, where: dict[str, Any]) -> UserRow:
    """The user ``where`` names (the guard checked it is of the caller's organization)."""
    if where.get("id"):
        return await in_thread(ctx.store.users.get, where["id"])
    found = await in_thread(ctx.store.users.by_email, str(where.get("email") or ""))
    if found is None or found.organization_id != ctx.user.organization_id:
        raise ServerError.not_found("User", str(where.get("email")))
    return found


_USER_DATA = {  # UserData key -> users column (what the local server keeps)
    "email": "email",
    "firstname": "firstname",
    "lastname": "lastname",
    "organizationRole": "organization_role",
    "activated": "activated",
}
_NOT_KEPT = ("apiKey", "organization", "hasCompletedLabelingTour", "hubspotSubscriptionStatus")


async def _keeps_an_admin(ctx: Context, user: UserRow, changes: dict[str, Any]) -> None:
    """Refuse to leave the organization without an activated ADMIN."""
    demoted = changes.get("organization_role", "ADMIN") != "ADMIN" or not changes.get(
        "activated", True
    )
    if user.organization_role == "ADMIN" and user.activated and demoted:
        admins = await in_thread(ctx.store.users.admins, user.organization_id)
        if [a.id for a in admins] == [user.id]:
            raise ServerError(
                f"{user.email} is the organization's last activated ADMIN: make another user "
                "ADMIN first."
            )


@mutation.field("updatePropertiesInUser")
async def resolve_update_user(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> UserRow:
    ctx = context(info)
    user = await _target(ctx, where)
    for name in _NOT_KEPT:
        if data.get(name) is not None:
            raise ServerError(f"data.{name} is not kept by the local server: leave it out.")
    organization_id = data.get("organizationId")
    if organization_id is not None and organization_id != user.organization_id:
        # the guard limits the caller to its organization: any other is not there for it
        raise ServerError.not_found("Organization", str(organization_id))
    changes = {column: data[key] for key, column in _USER_DATA.items() if data.get(key) is not None}
    if "organization_role" in changes:
        _role(changes["organization_role"], "data.organizationRole")
    if changes.get("activated") is False and user.id == ctx.user.id:
        raise ServerError("You cannot deactivate yourself: another organization ADMIN can.")
    await _keeps_an_admin(ctx, user, changes)
    return await ctx.store.db.run_write(ctx.store.users.update, user.id, changes)


@mutation.field("updatePassword")
async def resolve_update_password(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> UserRow:
    """Change the caller's password: the old one must match, the new one be typed twice."""
    ctx = context(info)
    user = await _target(ctx, where)
    if data["newPassword1"] != data["newPassword2"]:
        raise ServerError("newPassword1 and newPassword2 differ: type the new password twice.")
    check_password(data["newPassword1"], "newPassword1")
    if not await in_thread(ctx.store.users.password_matches, user.id, data["oldPassword"]):
        raise ServerError(
            "oldPassword is not the user's password (a user created without a password has "
            "none to change).",
            "FORBIDDEN",
        )
    return await ctx.store.db.run_write(ctx.store.users.set_password, user.id, data["newPassword1"])


@mutation.field("createOrganization")
async def resolve_create_organization(_: Any, info: Info, data: dict[str, Any]) -> OrganizationRow:
    """A new, empty organization (its first ADMIN: ``aiokili users create --organization``)."""
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.users.create_organization, str(data["name"]))


bindables = [query, mutation, user_type, organization_type, api_key_type]
