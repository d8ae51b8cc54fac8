"""The ``project_versions`` table: a project's versions, oldest first.

What creates a version on the platform is not documented (only the fields are: a name, a
``content`` described as a link to download the version). The local server's choice: a
version is created only by the local-only mutation ``createProjectVersion`` (named
``v1``, ``v2``... by default), never implicitly; ``updatePropertiesInProjectVersion`` then
sets its ``content``. Versions go with their project.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ServerError
from .columns import Columns
from .db import NO_LIMIT, Database, new_id, now, require_project


@dataclass(frozen=True)
class VersionRow:
    id: str
    project_id: str
    name: str
    content: str | None
    created_at: str


COLUMNS = Columns.named(VersionRow, "v")


class VersionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, project_id: str, skip: int, first: int | None) -> list[VersionRow]:
        """The project's versions in creation order (NOT_FOUND for an unknown project)."""
        with self.db.read() as c:
            require_project(c, project_id)
            rows = c.execute(
                f"SELECT {COLUMNS.sql} FROM project_versions v WHERE v.project_id = ? "
                "ORDER BY v.seq LIMIT ? OFFSET ?",
                (project_id, first or NO_LIMIT, skip),
            )
            return [COLUMNS.row(r) for r in rows]

    def count(self, project_id: str) -> int:
        with self.db.read() as c:
            require_project(c, project_id)
            found = c.execute(
                "SELECT COUNT(*) FROM project_versions WHERE project_id = ?", (project_id,)
            )
            return int(found.fetchone()[0])

    def get(self, version_id: str) -> VersionRow:
        """The version (NOT_FOUND naming it if there is none, or its project is gone)."""
        with self.db.read() as c:
            row = c.execute(
                f"SELECT {COLUMNS.sql} FROM project_versions v WHERE v.id = ?", (version_id,)
            ).fetchone()
            if row is None:
                raise ServerError.not_found("ProjectVersion", version_id)
            version = COLUMNS.row(row)
            require_project(c, version.project_id)
        return version

    def create(self, project_id: str, name: str | None, content: str | None) -> VersionRow:
        """A new version of the project, named ``v<n>`` (its rank) unless ``name`` is given."""
        version_id = new_id()
        with self.db.write(append_only=True) as c:
            require_project(c, project_id)
            if name is None:
                count = c.execute(
                    "SELECT COUNT(*) FROM project_versions WHERE project_id = ?", (project_id,)
                ).fetchone()[0]
                name = f"v{count + 1}"
            c.execute(
                "INSERT INTO project_versions (id, project_id, name, content, created_at) "
                "VALUES (?,?,?,?,?)",
                (version_id, project_id, name, content, now()),
            )
        return self.get(version_id)

    def set_content(self, version_id: str, content: str | None) -> VersionRow:
        """Change the version's ``content`` (the link to download it); return it."""
        self.get(version_id)  # NOT_FOUND, or a version of a project the caller can read
        with self.db.write() as c:
            c.execute("UPDATE project_versions SET content = ? WHERE id = ?", (content, version_id))
        return self.get(version_id)
