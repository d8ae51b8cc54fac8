"""GraphQL resolvers of project members: ``projectUsers`` and its count, ``appendToRoles``,
``updatePropertiesInRole`` (both forms), ``deleteFromRoles``, a project's ``roles``, and the
caller's star (``updatePropertiesInProjectUser``).

Who may do what is the guard's (``permissions.py``); here, what the platform does:
``appendToRoles`` adds a user of the organization by email (an organization ADMIN may name
a new email: the user is created in the organization, as an invitation) or changes the
role of a member.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..errors import ServerError
from ..store.access import PROJECT_ROLES, current
from ..store.db import in_thread, now
from ..store.members import MemberRow
from ..store.projects import ProjectRow
from ..store.users import UserRow, clean_email
from .common import page, required_id

query = QueryType()
mutation = MutationType()
project_type = ObjectType("Project")
member_type = ObjectType("ProjectUser")


@query.field("projectUsers")
async def resolve_project_users(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[MemberRow]:
    return await in_thread(context(info).store.members.page, where, *page(kw))


@query.field("countProjectUsers")
async def resolve_count_project_users(_: Any, info: Info, where: dict[str, Any]) -> int:
    return await in_thread(context(info).store.members.count, where)


@project_type.field("roles")
async def resolve_project_roles(project: ProjectRow, info: Info) -> list[MemberRow]:
    """The members the caller reads (all of them for TEAM_MANAGERs and ADMINs)."""
    return await context(info).members_of_project.load(project.id) or []


@member_type.field("user")
def resolve_member_user(member: MemberRow, info: Info) -> Any:
    return context(info).users.get(member.user_id)


@member_type.field("starred")
async def resolve_member_starred(member: MemberRow, info: Info) -> bool:
    """Read only when selected: whether this member starred the project."""
    store = context(info).store
    return await in_thread(store.projects.starred, member.project_id, member.user_id)


def _role(data: Mapping[str, Any]) -> str:
    role = data.get("role")
    if role not in PROJECT_ROLES:
        raise ServerError(f"role must be one of {', '.join(PROJECT_ROLES)}, got {role!r}.")
    return str(role)


def _invite(info: Info, email: str) -> UserRow:
    """The user of the caller's organization with this email; an organization ADMIN's call
    creates it (an invitation: no key, no password)."""
    ctx = context(info)
    user = ctx.store.users.by_email(email)
    if user is not None and user.organization_id == ctx.user.organization_id:
        return user
    caller = current()
    if caller is not None and caller.org_admin:
        if user is None:
            return ctx.store.users.create_user(ctx.user.organization_id, email, "USER")
        raise ServerError(f'"{email}" cannot join your organization: the email is taken.')
    raise ServerError(
        f'[accessDenied] "{email}" is not a user of your organization: inviting one needs the '
        "organization role ADMIN (you are USER).",
        "FORBIDDEN",
    )


@member_type.field("isAuthor")
async def resolve_member_is_author(member: MemberRow, info: Info) -> bool:
    project = await context(info).projects.load(member.project_id)
    return project is not None and project.author_id == member.user_id


@member_type.field("project")
def resolve_member_project(member: MemberRow, info: Info) -> Any:
    return context(info).projects.get(member.project_id)


@mutation.field("appendToRoles")
async def resolve_append_to_roles(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> ProjectRow:
    """Add a member with a role, or give a member another role; return the project."""
    ctx = context(info)
    project_id, role = required_id(where), _role(data)
    email = clean_email(data.get("userEmail"))

    def write() -> ProjectRow:
        user = _invite(info, email)
        ctx.store.members.put(project_id, user.id, role)
        return ctx.store.projects.get(project_id)

    return await ctx.store.db.run_write(write)


async def _member(info: Info, where: Mapping[str, Any], data: Mapping[str, Any]) -> MemberRow:
    """The membership ``where`` names: by id, or by project and user (email, or
    ``data.userID`` in the deprecated form)."""
    store = context(info).store
    if where.get("id"):
        return await in_thread(store.members.get, where["id"])
    project_id = (where.get("project") or {}).get("id") or data.get("projectID")
    email = (where.get("user") or {}).get("email")
    user = await in_thread(store.users.by_email, email) if email else None
    user_id = user.id if user is not None else data.get("userID")
    found = None
    if project_id and user_id:
        found = await in_thread(store.members.find, project_id, user_id)
    if found is None:
        raise ServerError(
            f'No member {email or user_id!r} in project "{project_id}": add them with '
            "append_to_roles.",
            "NOT_FOUND",
        )
    return found


@mutation.field("updatePropertiesInRole")
async def resolve_update_role(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> MemberRow:
    ctx = context(info)
    member = await _member(info, where, data)
    role = _role(data)
    return await ctx.store.db.run_write(
        ctx.store.members.put, member.project_id, member.user_id, role
    )


@mutation.field("deleteFromRoles")
async def resolve_delete_from_roles(_: Any, info: Info, where: dict[str, Any]) -> ProjectRow:
    """Remove a member; return the project."""
    ctx = context(info)
    member = await _member(info, where, {})
    await ctx.store.db.run_write(ctx.store.members.remove, member.id)
    return await in_thread(ctx.store.projects.get, member.project_id)


@mutation.field("updatePropertiesInProjectUser")
async def resolve_update_project_user(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> MemberRow:
    """Star or unstar a project for the caller (``where.project.id``); return the caller's
    membership (an organization ADMIN who is not a listed member: status ORG_ADMIN)."""
    ctx = context(info)
    project_id = str((where.get("project") or {}).get("id"))
    email = (where.get("user") or {}).get("email")
    if email is not None and email.strip().lower() != ctx.user.email:
        raise ServerError(f"Only the key's own membership can be changed, not {email!r}.")
    if data.get("starred") is not None:
        await ctx.store.db.run_write(
            ctx.store.projects.star, project_id, ctx.user.id, starred=bool(data["starred"])
        )
    found = await in_thread(ctx.store.members.find, project_id, ctx.user.id)
    if found is not None:
        return found
    return MemberRow(
        f"{project_id}-{ctx.user.id}", project_id, ctx.user.id, "ADMIN", "ORG_ADMIN", now()
    )


bindables = [query, mutation, project_type, member_type]
