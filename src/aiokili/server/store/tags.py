"""The tag tables: an organization's tags for its projects (create, rename, delete) and
which projects each is checked on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from .db import Database, new_id, now, require_project


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
                projects = [
                    p[0]
                    for p in c.execute(
                        "SELECT project_id FROM project_tags WHERE tag_id = ? ORDER BY project_id",
                        (r[0],),
                    )
                ]
                out.append(TagRow(r[0], r[1], r[2], r[3], projects))
        return out

    def of_organization(self, organization_id: str) -> list[TagRow]:
        return self._rows(
            "SELECT id, label, color, organization_id FROM tags "
            "WHERE organization_id = ? ORDER BY seq",
            [organization_id],
        )

    def of_project(self, project_id: str) -> list[TagRow]:
        return self._rows(
            "SELECT t.id, t.label, t.color, t.organization_id FROM tags t JOIN "
            "project_tags pt ON pt.tag_id = t.id WHERE pt.project_id = ? "
            "ORDER BY t.seq",
            [project_id],
        )

    def get(self, tag_id: str, organization_id: str) -> TagRow:
        found = self._rows(
            "SELECT id, label, color, organization_id FROM tags WHERE id = ? "
            "AND organization_id = ?",
            [tag_id, organization_id],
        )
        if not found:
            raise ServerError.not_found("Tag", tag_id)
        return found[0]

    def create(self, label: str, color: str | None, organization_id: str) -> TagRow:
        tag_id = new_id()
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT INTO tags (id, label, color, organization_id, created_at) "
                "VALUES (?,?,?,?,?)",
                (tag_id, label, color, organization_id, now()),
            )
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

    def check(self, tag_id: str, project_id: str, organization_id: str, *, checked: bool) -> TagRow:
        self.get(tag_id, organization_id)
        with self.db.write() as c:
            require_project(c, project_id)
            if checked:
                c.execute(
                    "INSERT INTO project_tags VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (project_id, tag_id),
                )
            else:
                c.execute(
                    "DELETE FROM project_tags WHERE project_id = ? AND tag_id = ?",
                    (project_id, tag_id),
                )
        return self.get(tag_id, organization_id)
