"""Projects: listing, creation, update, deletion."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from .. import steps
from ..cascade import delete_assets
from ..context import context
from ..db import Database, in_thread, marks, new_id, now
from ..errors import ServerError
from ..filters import project_sql
from .common import constants, page, require_project, required_id
from .users import UserRow

DDL = """
CREATE TABLE IF NOT EXISTS projects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, title TEXT, description TEXT,
  input_type TEXT, json_interface TEXT, author_id TEXT, archived INTEGER DEFAULT 0,
  props TEXT DEFAULT '{}', created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS project_stars (
  project_id TEXT, user_id TEXT, PRIMARY KEY (project_id, user_id)) WITHOUT ROWID;
"""
_COLUMNS = ("id, title, description, input_type, json_interface, author_id, archived, props, "
            "created_at, updated_at")  # fmt: skip

# Settings kept as a JSON object, with the values a new Kili project has.
PROJECT_DEFAULTS: dict[str, Any] = {
    "instructions": None, "consensusTotCoverage": 0, "minConsensusSize": 1,
    "reviewCoverage": 0, "useHoneyPot": False, "metadataProperties": {},
    "canNavigateBetweenAssets": True, "canSkipAsset": False, "consensusMark": None,
    "honeypotMark": None, "shouldAutoAssign": False, "shouldRelaunchKpiComputation": False,
    "complianceTags": [], "geospatialSettings": None,
}  # fmt: skip


@dataclass(frozen=True)
class ProjectRow:
    id: str
    title: str
    description: str
    input_type: str | None
    json_interface: str
    author_id: str
    archived: bool
    props: dict[str, Any]
    created_at: str
    updated_at: str


def _row(r: Sequence[Any]) -> ProjectRow:
    return ProjectRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), json.loads(r[7]), r[8], r[9])


class ProjectRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.step_cache: dict[
            str, list[dict[str, Any]]
        ] = {}  # project id -> steps (they never change)

    def create(self, data: Mapping[str, Any], author_id: str) -> ProjectRow:
        project_id, at = new_id(), now()
        props = {k: data[k] for k in PROJECT_DEFAULTS if data.get(k) is not None}
        if data.get("pixelLabeling"):
            if data.get("inputType") != "GEOSPATIAL":
                raise ServerError("pixelLabeling is only available for GEOSPATIAL projects, "
                                  f"not {data.get('inputType')}.")  # fmt: skip
            props["geospatialSettings"] = {"labelingCRSCode": "PIXEL"}
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT INTO projects (id, title, description, input_type, json_interface, "
                "author_id, props, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (project_id, data["title"], data.get("description") or "", data.get("inputType"),
                 data.get("jsonInterface") or "{}", author_id, json.dumps(props), at, at),
            )  # fmt: skip
            steps.create_default(c, project_id)
        return self.get(project_id)

    def get(self, project_id: str) -> ProjectRow:
        found = self.by_ids([project_id]).get(project_id)
        if found is None:
            raise ServerError.not_found("Project", project_id)
        return found

    def require(self, project_id: str) -> None:
        """Raise ``NOT_FOUND`` naming the id unless the project exists."""
        with self.db.read() as c:
            require_project(c, project_id)

    def by_ids(self, ids: Sequence[str]) -> dict[str, ProjectRow]:
        with self.db.read() as c:
            sql = f"SELECT {_COLUMNS} FROM projects WHERE id IN ({marks(len(ids))})"
            return {r[0]: _row(r) for r in c.execute(sql, list(ids))}

    def update(self, project_id: str, data: Mapping[str, Any]) -> ProjectRow:
        with self.db.write() as c:
            current = self.get(project_id)
            props = {**current.props, **{k: v for k, v in data.items() if k in PROJECT_DEFAULTS}}
            c.execute(
                "UPDATE projects SET title = ?, description = ?, json_interface = ?, archived = ?,"
                " props = ?, updated_at = ? WHERE id = ?",
                (data.get("title") or current.title,
                 current.description if data.get("description") is None else data["description"],
                 data.get("jsonInterface") or current.json_interface,
                 int(current.archived if data.get("archived") is None else data["archived"]),
                 json.dumps(props), now(), project_id),
            )  # fmt: skip
        return self.get(project_id)

    def delete(self, project_id: str) -> ProjectRow:
        project = self.get(project_id)
        with self.db.write() as c:
            delete_assets(c, "project_id = ?", [(project_id,)])
            for table in ("issues", "project_tags", "project_stars", "labels", "projects"):
                column = "id" if table == "projects" else "project_id"
                c.execute(f"DELETE FROM {table} WHERE {column} = ?", (project_id,))
            steps.delete_project(c, project_id)
        self.step_cache.pop(project_id, None)
        return project

    def steps_of(self, project_id: str) -> list[dict[str, Any]]:
        """The project's workflow steps, in order (``[]``: a legacy V1 project)."""
        found = self.step_cache.get(project_id)
        if found is None:
            with self.db.read() as c:
                found = self.step_cache[project_id] = steps.of_projects(c, [project_id])[project_id]
        return [dict(step) for step in found]

    def star(self, project_id: str, user_id: str, starred: bool) -> None:
        self.require(project_id)
        with self.db.write() as c:
            if starred:
                c.execute(
                    "INSERT OR IGNORE INTO project_stars VALUES (?, ?)", (project_id, user_id)
                )
            else:
                c.execute("DELETE FROM project_stars WHERE project_id = ? AND user_id = ?",
                          (project_id, user_id))  # fmt: skip

    def starred(self, project_id: str, user_id: str) -> bool:
        with self.db.read() as c:
            return c.execute("SELECT 1 FROM project_stars WHERE project_id = ? AND user_id = ?",
                             (project_id, user_id)).fetchone() is not None  # fmt: skip

    def page(
        self, where: Mapping[str, Any], skip: int, first: int | None, viewer: str | None = None
    ) -> list[ProjectRow]:
        q = project_sql(dict(where), viewer=viewer)
        sql = f"SELECT {_COLUMNS} FROM projects p WHERE {q.sql} ORDER BY seq LIMIT ? OFFSET ?"
        with self.db.read() as c:
            return [_row(r) for r in c.execute(sql, [*q.args, first or -1, skip])]

    def count(self, where: Mapping[str, Any], viewer: str | None = None) -> int:
        q = project_sql(dict(where), viewer=viewer)
        with self.db.read() as c:
            return int(c.execute(f"SELECT COUNT(*) FROM projects p WHERE {q.sql}", q.args)
                       .fetchone()[0])  # fmt: skip


query = QueryType()
mutation = MutationType()
project_type = ObjectType("Project")
project_user_type = ObjectType("ProjectUser")
constants(project_type, {"stepGroups": [], "dataConnections": [],
                         "enforceStepSeparation": False})  # fmt: skip
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


@project_type.field("roles")
async def resolve_project_roles(project: ProjectRow, info: Info) -> list[dict[str, Any]]:
    author = await resolve_project_author(project, info)
    if author is None:
        return []
    return [{"id": f"{project.id}-{author.id}", "role": "ADMIN", "status": "ACTIVATED",
             "activated": True, "projectId": project.id, "user": author}]  # fmt: skip


@project_user_type.field("starred")
async def resolve_project_user_starred(member: dict[str, Any], info: Info) -> bool:
    """Read only when selected: whether this member starred the project."""
    store = context(info).store
    return await in_thread(store.projects.starred, member["projectId"], member["user"].id)


@mutation.field("createProject")
async def resolve_create_project(_: Any, info: Info, data: dict[str, Any]) -> ProjectRow:
    if not (data.get("title") or "").strip():
        raise ServerError("title is required and cannot be empty.")
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.create, data, ctx.user.id)


@mutation.field("updatePropertiesInProject")
async def resolve_update_project(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> ProjectRow:
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.update, required_id(where), data)


@mutation.field("updatePropertiesInProjectUser")
async def resolve_update_project_user(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> dict[str, Any]:
    """Star or unstar a project for the key's user (``where.project.id``)."""
    ctx = context(info)
    project_id = (where.get("project") or {}).get("id")
    if not project_id:
        raise ServerError("where.project.id is required: give the project id.")
    email = (where.get("user") or {}).get("email")
    if email is not None and email.lower() != ctx.user.email:
        raise ServerError(f"Only the key's own membership can be changed, not {email!r}.")
    if data.get("starred") is not None:
        await ctx.store.db.run_write(
            ctx.store.projects.star, project_id, ctx.user.id, bool(data["starred"])
        )
    else:
        await in_thread(ctx.store.projects.require, project_id)
    project = await in_thread(ctx.store.projects.get, project_id)
    roles: list[dict[str, Any]] = await resolve_project_roles(project, info)
    return roles[0]


@mutation.field("deleteProjectAsynchronously")
async def resolve_delete_project_async(_: Any, info: Info, where: dict[str, Any]) -> str:
    deleted: ProjectRow = await resolve_delete_project(_, info, where)
    return deleted.id


@mutation.field("deleteProject")
async def resolve_delete_project(_: Any, info: Info, where: dict[str, Any]) -> ProjectRow:
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.projects.delete, required_id(where))


bindables = [query, mutation, project_type, project_user_type]
