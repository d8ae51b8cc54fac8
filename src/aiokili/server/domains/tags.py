"""Tags: an organization's labels for projects (create, rename, delete, check on a project)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..db import Database, in_thread, new_id, now
from ..errors import ServerError
from .common import require_project

DDL = """
CREATE TABLE IF NOT EXISTS tags (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, label TEXT, color TEXT,
  organization_id TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS project_tags (
  project_id TEXT, tag_id TEXT, PRIMARY KEY (project_id, tag_id)) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class TagRow:
    id: str
    label: str
    color: str | None
    organization_id: str
    checked_for_projects: list[str]


class TagRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, sql: str, args: Sequence[Any]) -> list[TagRow]:
        with self.db.read() as c:
            found = c.execute(sql, list(args)).fetchall()
            out = []
            for r in found:
                projects = [p[0] for p in c.execute(
                    "SELECT project_id FROM project_tags WHERE tag_id = ? ORDER BY project_id",
                    (r[0],))]  # fmt: skip
                out.append(TagRow(r[0], r[1], r[2], r[3], projects))
        return out

    def of_organization(self, organization_id: str) -> list[TagRow]:
        return self._rows("SELECT id, label, color, organization_id FROM tags "
                          "WHERE organization_id = ? ORDER BY seq", [organization_id])  # fmt: skip

    def of_project(self, project_id: str) -> list[TagRow]:
        return self._rows("SELECT t.id, t.label, t.color, t.organization_id FROM tags t JOIN "
                          "project_tags pt ON pt.tag_id = t.id WHERE pt.project_id = ? "
                          "ORDER BY t.seq", [project_id])  # fmt: skip

    def get(self, tag_id: str, organization_id: str) -> TagRow:
        found = self._rows("SELECT id, label, color, organization_id FROM tags WHERE id = ? "
                           "AND organization_id = ?", [tag_id, organization_id])  # fmt: skip
        if not found:
            raise ServerError.not_found("Tag", tag_id)
        return found[0]

    def create(self, label: str, color: str | None, organization_id: str) -> TagRow:
        tag_id = new_id()
        with self.db.write(append_only=True) as c:
            c.execute("INSERT INTO tags (id, label, color, organization_id, created_at) "
                      "VALUES (?,?,?,?,?)", (tag_id, label, color, organization_id, now()))  # fmt: skip
        return self.get(tag_id, organization_id)

    def rename(self, tag_id: str, label: str, organization_id: str) -> tuple[int, TagRow]:
        self.get(tag_id, organization_id)
        with self.db.write() as c:
            changed = c.execute("UPDATE tags SET label = ? WHERE id = ?", (label, tag_id)).rowcount
        return changed, self.get(tag_id, organization_id)

    def delete(self, tag_id: str, organization_id: str) -> bool:
        self.get(tag_id, organization_id)
        with self.db.write() as c:
            c.execute("DELETE FROM project_tags WHERE tag_id = ?", (tag_id,))
            c.execute("DELETE FROM tags WHERE id = ?", (tag_id,))
        return True

    def check(self, tag_id: str, project_id: str, organization_id: str, checked: bool) -> TagRow:
        self.get(tag_id, organization_id)
        with self.db.write() as c:
            require_project(c, project_id)
            if checked:
                c.execute("INSERT OR IGNORE INTO project_tags VALUES (?, ?)", (project_id, tag_id))
            else:
                c.execute("DELETE FROM project_tags WHERE project_id = ? AND tag_id = ?",
                          (project_id, tag_id))  # fmt: skip
        return self.get(tag_id, organization_id)


query = QueryType()
mutation = MutationType()
tag_type = ObjectType("Tag")


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
        ctx.store.tags.create, _label(data.get("label")), data.get("color"),
        ctx.user.organization_id,
    )  # fmt: skip


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
        ctx.store.tags.check, data["tagId"], data["projectId"], ctx.user.organization_id, True
    )


@mutation.field("uncheckTag")
async def resolve_uncheck_tag(_: Any, info: Info, projectId: str, tagId: str) -> TagRow:
    ctx = context(info)
    return await ctx.store.db.run_write(
        ctx.store.tags.check, tagId, projectId, ctx.user.organization_id, False
    )


bindables = [query, mutation, tag_type]
