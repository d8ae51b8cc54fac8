"""The ``projects`` table: listing and counting by filter, creation (with the default
settings and workflow steps), update, anonymization, deletion (cascading), stars."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from . import access, members, steps
from .cascade import delete_assets
from .columns import Columns
from .db import NO_LIMIT, Database, marks, new_id, now, require_project
from .filters import project_sql

# Settings kept as a JSON object, with the values a new Kili project has.
PROJECT_DEFAULTS: dict[str, Any] = {
    "instructions": None,
    "consensusTotCoverage": 0,
    "minConsensusSize": 1,
    "reviewCoverage": 0,
    "useHoneyPot": False,
    "metadataProperties": {},
    "canNavigateBetweenAssets": True,
    "canSkipAsset": False,
    "consensusMark": None,
    "honeypotMark": None,
    "shouldAutoAssign": False,
    "shouldRelaunchKpiComputation": False,
    "complianceTags": [],
    "geospatialSettings": None,
}


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


COLUMNS = Columns.named(ProjectRow, "p", convert={"archived": bool, "props": json.loads})


class ProjectRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.reload()

    def reload(self) -> None:
        """Read again what is kept in memory: the anonymized projects (read by every label
        author resolved) and the steps of projects."""
        self.step_cache: dict[str, list[dict[str, Any]]] = {}  # project id -> steps
        with self.db.read() as c:
            self.anonymized = {
                r[0]
                for r in c.execute(
                    "SELECT id FROM projects WHERE json_type(props, '$.shouldAnonymize') = 'true'"
                )
            }

    def create(self, data: Mapping[str, Any], author_id: str) -> ProjectRow:
        project_id, at = new_id(), now()
        props = {k: data[k] for k in PROJECT_DEFAULTS if data.get(k) is not None}
        if data.get("pixelLabeling"):
            if data.get("inputType") != "GEOSPATIAL":
                raise ServerError(
                    "pixelLabeling is only available for GEOSPATIAL projects, "
                    f"not {data.get('inputType')}."
                )
            props["geospatialSettings"] = {"labelingCRSCode": "PIXEL"}
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT INTO projects (id, title, description, input_type, json_interface, "
                "author_id, props, created_at, updated_at, organization_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,(SELECT organization_id FROM users WHERE id = ?))",
                (
                    project_id,
                    data["title"],
                    data.get("description") or "",
                    data.get("inputType"),
                    data.get("jsonInterface") or "{}",
                    author_id,
                    json.dumps(props),
                    at,
                    at,
                    author_id,
                ),
            )
            steps.create_default(c, project_id)
            members.add_creator(c, project_id, author_id)
        return self.get(project_id)

    def get(self, project_id: str) -> ProjectRow:
        """The project, if the caller reaches it (``access.py``); else ``NOT_FOUND``."""
        self.require(project_id)
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
            sql = f"SELECT {COLUMNS.sql} FROM projects p WHERE p.id IN ({marks(len(ids))})"
            return {r[0]: COLUMNS.row(r) for r in c.execute(sql, list(ids))}

    def update(self, project_id: str, data: Mapping[str, Any]) -> ProjectRow:
        with self.db.write() as c:
            current = self.get(project_id)
            props = {**current.props, **{k: v for k, v in data.items() if k in PROJECT_DEFAULTS}}
            c.execute(
                "UPDATE projects SET title = ?, description = ?, json_interface = ?, archived = ?,"
                " props = ?, updated_at = ? WHERE id = ?",
                (
                    data.get("title") or current.title,
                    current.description if data.get("description") is None else data["description"],
                    data.get("jsonInterface") or current.json_interface,
                    int(current.archived if data.get("archived") is None else data["archived"]),
                    json.dumps(props),
                    now(),
                    project_id,
                ),
            )
        return self.get(project_id)

    def set_anonymized(self, project_id: str, anonymized: bool) -> ProjectRow:
        """Show (or stop showing) the names of the project's label and issue authors as
        "Anonymized" (``shouldAnonymize``, kept with the settings: a copy keeps it)."""
        with self.db.write() as c:
            require_project(c, project_id)
            c.execute(
                "UPDATE projects SET props = json_set(props, '$.shouldAnonymize', json(?)), "
                "updated_at = ? WHERE id = ?",
                (json.dumps(anonymized), now(), project_id),
            )
        if anonymized:
            self.anonymized.add(project_id)
        else:
            self.anonymized.discard(project_id)
        return self.get(project_id)

    def delete(self, project_id: str) -> ProjectRow:
        project = self.get(project_id)
        with self.db.write() as c:
            delete_assets(c, "project_id = ?", [(project_id,)])
            for table in (
                "issues",
                "project_tags",
                "project_stars",
                "project_versions",
                "project_users",
                "labels",
                "projects",
            ):
                column = "id" if table == "projects" else "project_id"
                c.execute(f"DELETE FROM {table} WHERE {column} = ?", (project_id,))
            steps.delete_project(c, project_id)
        self.step_cache.pop(project_id, None)
        self.anonymized.discard(project_id)
        return project

    def steps_of(self, project_id: str) -> list[dict[str, Any]]:
        """The project's workflow steps, in order (``[]``: a legacy V1 project)."""
        found = self.step_cache.get(project_id)
        if found is None:
            with self.db.read() as c:
                found = self.step_cache[project_id] = steps.of_projects(c, [project_id])[project_id]
        return [dict(step) for step in found]

    def star(self, project_id: str, user_id: str, *, starred: bool) -> None:
        self.require(project_id)
        with self.db.write() as c:
            if starred:
                c.execute(
                    "INSERT INTO project_stars VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (project_id, user_id),
                )
            else:
                c.execute(
                    "DELETE FROM project_stars WHERE project_id = ? AND user_id = ?",
                    (project_id, user_id),
                )

    def starred(self, project_id: str, user_id: str) -> bool:
        with self.db.read() as c:
            return (
                c.execute(
                    "SELECT 1 FROM project_stars WHERE project_id = ? AND user_id = ?",
                    (project_id, user_id),
                ).fetchone()
                is not None
            )

    def page(
        self, where: Mapping[str, Any], skip: int, first: int | None, viewer: str | None = None
    ) -> list[ProjectRow]:
        q = project_sql(dict(where), viewer=viewer)
        access.scope(q, "p.id")
        sql = f"SELECT {COLUMNS.sql} FROM projects p WHERE {q.sql} ORDER BY seq LIMIT ? OFFSET ?"
        with self.db.read() as c:
            return [COLUMNS.row(r) for r in c.execute(sql, [*q.args, first or NO_LIMIT, skip])]

    def count(self, where: Mapping[str, Any], viewer: str | None = None) -> int:
        q = project_sql(dict(where), viewer=viewer)
        access.scope(q, "p.id")
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM projects p WHERE {q.sql}", q.args).fetchone()[0]
            )
