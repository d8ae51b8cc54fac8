"""GraphQL resolvers of projects: listing, creation, update, copy (and copies of an
asset's labels), anonymization, deletion, a project's steps and author (its members:
``members.py``)."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from .. import json_input
from ..context import context
from ..errors import ServerError
from ..store.db import in_thread
from ..store.projects import PROJECT_DEFAULTS, ProjectRow
from ..store.users import UserRow
from .common import constants, page, required_id

query = QueryType()
mutation = MutationType()
project_type = ObjectType("Project")
constants(project_type, {"stepGroups": [], "dataConnections": [], "enforceStepSeparation": False})
for _name, _default in PROJECT_DEFAULTS.items():

    def _resolve_prop(project: ProjectRow, _: Info, _n: str = _name, _d: Any = _default) -> Any:
        return project.props.get(_n, _d)

    project_type.set_field(_name, _resolve_prop)


@query.field("projects")
async def resolve_projects(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[ProjectRow]:
    ctx = context(info)
    return await in_thread(ctx.store.projects.page, where, *page(kw), ctx.user.id)


@query.field("countProjects")
async def resolve_count_projects(_: Any, info: Info, where: dict[str, Any]) -> int:
    ctx = context(info)
    return await in_thread(ctx.store.projects.count, where, ctx.user.id)


@project_type.field("steps")
async def resolve_project_steps(project: ProjectRow, info: Info) -> list[dict[str, Any]]:
    repo = context(info).store.projects
    if project.id in repo.step_cache:
        return repo.steps_of(project.id)
    return await in_thread(repo.steps_of, project.id)


@project_type.field("workflowVersion")
async def resolve_workflow_version(project: ProjectRow, info: Info) -> str:
    """V2 (the steps of :mod:`..steps`); V1 for projects of older database files."""
    return "V2" if await resolve_project_steps(project, info) else "V1"


@project_type.field("author")
async def resolve_project_author(project: ProjectRow, info: Info) -> UserRow | None:
    return await context(info).users.load(project.author_id)


@mutation.field("createProject")
async def resolve_create_project(_: Any, info: Info, data: dict[str, Any]) -> ProjectRow:
    if not (data.get("title") or "").strip():
        raise ServerError("title is required and cannot be empty.")
    _check_interface(data)
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.create, data, ctx.user.id)


@mutation.field("updatePropertiesInProject")
async def resolve_update_project(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> ProjectRow:
    _check_interface(data)
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.update, required_id(where), data)


def _check_interface(data: dict[str, Any]) -> None:
    """``data.jsonInterface``, when given, is the JSON text of an object."""
    if data.get("jsonInterface"):
        interface = json_input.loads(data["jsonInterface"], "data.jsonInterface")
        if not isinstance(interface, dict):
            raise ServerError(
                "data.jsonInterface must be the JSON text of an object like "
                f'{{"jobs": {{...}}}}, got {type(interface).__name__}.'
            )


@mutation.field("copyProject")
async def resolve_copy_project(_: Any, info: Info, data: dict[str, Any]) -> str:
    """A copy of ``data.projectId`` (settings, steps, tags; its assets with
    ``shouldCopyAssets``, its members with ``shouldCopyUsers``): the new project's id."""
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.copies.copy_project,
        data["projectId"],
        ctx.user.id,
        with_assets=bool(data.get("shouldCopyAssets")),
        with_members=bool(data.get("shouldCopyUsers")),
    )


@mutation.field("copyLabels")
async def resolve_copy_labels(_: Any, info: Info, data: dict[str, Any]) -> bool:
    """The labels of ``srcAssetId`` copied onto ``dstAssetId`` (of ``projectId``), whose
    state is then rebuilt at once (``skipRebuilds`` defers nothing: no state is shared
    between the assets of a project here)."""
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.copies.copy_labels, data["srcAssetId"], data["dstAssetId"], data["projectId"]
    )


@mutation.field("updateProjectAnonymization")
async def resolve_update_anonymization(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.projects.set_anonymized, input["id"], bool(input["shouldAnonymize"])
    )


@mutation.field("deleteProjectAsynchronously")
async def resolve_delete_project_async(_: Any, info: Info, where: dict[str, Any]) -> str:
    deleted: ProjectRow = await resolve_delete_project(_, info, where)
    return deleted.id


@mutation.field("deleteProject")
async def resolve_delete_project(_: Any, info: Info, where: dict[str, Any]) -> ProjectRow:
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.delete, required_id(where))


bindables = [query, mutation, project_type]
