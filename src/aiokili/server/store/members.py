"""Project members (``project_users``): a user of the project's organization with a project
role (ADMIN, TEAM_MANAGER, REVIEWER, LABELER), listed by filter, added, changed, removed.

A project's creator is its first ADMIN member. An organization ADMIN reaches every project of
its organization without being listed. A member's status (as the official SDK documents it):
``ORG_SUSPENDED`` when its user is deactivated, else ``ORG_ADMIN`` for an organization ADMIN,
else ``ACTIVATED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from . import access
from .columns import Columns
from .conn import Conn
from .db import NO_LIMIT, Database, chunks, marks, new_id, now
from .filters import Sql

MAX_MEMBERS = 100  # per project, as on the platform
_STATUS = (
    "CASE WHEN coalesce(u.activated, 1) = 0 THEN 'ORG_SUSPENDED' "
    "WHEN coalesce(u.organization_role, 'USER') = 'ADMIN' THEN 'ORG_ADMIN' ELSE 'ACTIVATED' END"
)


@dataclass(frozen=True)
class MemberRow:
    id: str
    project_id: str
    user_id: str
    role: str
    status: str
    created_at: str

    @property
    def activated(self) -> bool:
        return self.status != "ORG_SUSPENDED"


COLUMNS = Columns(
    MemberRow,
    {
        "id": "m.id",
        "project_id": "m.project_id",
        "user_id": "m.user_id",
        "role": "m.role",
        "status": _STATUS,
        "created_at": "m.created_at",
    },
)
FROM = "project_users m JOIN users u ON u.id = m.user_id"


def add_creator(c: Conn, project_id: str, user_id: str) -> None:
    """Make the creator of a new project its first ADMIN."""
    c.execute(
        "INSERT INTO project_users (id, project_id, user_id, role, created_at) "
        "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        (new_id(), project_id, user_id, "ADMIN", now()),
    )


def member_sql(where: Mapping[str, Any]) -> Sql:
    """``ProjectUserWhere`` on ``project_users m JOIN users u``, limited to what the caller
    reads: its own memberships, and every member of the projects it manages (TEAM_MANAGER,
    ADMIN, or organization ADMIN)."""
    q = Sql()
    caller = access.current()
    if caller is not None:
        reached, args = access.visible_projects(caller)
        q.add(f"m.project_id IN ({reached})", *args)
        if not caller.org_admin:
            q.add(
                "(m.user_id = ? OR m.project_id IN (SELECT mm.project_id FROM project_users mm "
                "WHERE mm.user_id = ? AND mm.role IN ('ADMIN', 'TEAM_MANAGER')))",
                caller.user_id,
                caller.user_id,
            )
    if where.get("id") is not None:
        q.add("m.id = ?", where["id"])
    if where.get("deleted"):
        q.add("1 = 0")  # removals are immediate: no member is kept as deleted
    if where.get("status") is not None:
        q.add(f"{_STATUS} = ?", where["status"])
    if where.get("activeInProject") is not None:
        q.add(f"{'' if where['activeInProject'] else 'NOT '}({_STATUS} = 'ACTIVATED')")
    project_id = (where.get("project") or {}).get("id")
    if project_id is not None:
        q.add("m.project_id = ?", project_id)
    user = where.get("user") or {}
    if user.get("email") is not None:
        q.add("u.email = ?", str(user["email"]).strip().lower())
    organization_id = (user.get("organization") or {}).get("id")
    if organization_id is not None:
        q.add("u.organization_id = ?", organization_id)
    return q


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, where: Mapping[str, Any], skip: int, first: int | None) -> list[MemberRow]:
        q = member_sql(where)
        sql = f"SELECT {COLUMNS.sql} FROM {FROM} WHERE {q.sql} ORDER BY m.seq LIMIT ? OFFSET ?"
        with self.db.read() as c:
            return [COLUMNS.row(r) for r in c.execute(sql, [*q.args, first or NO_LIMIT, skip])]

    def count(self, where: Mapping[str, Any]) -> int:
        q = member_sql(where)
        with self.db.read() as c:
            found = c.execute(f"SELECT COUNT(*) FROM {FROM} WHERE {q.sql}", q.args)
            return int(found.fetchone()[0])

    def of_projects(self, project_ids: Sequence[str]) -> dict[str, list[MemberRow]]:
        """The members of each project the caller reads (see :func:`member_sql`), in order."""
        out: dict[str, list[MemberRow]] = {p: [] for p in project_ids}
        with self.db.read() as c:
            for part in chunks(list(project_ids)):
                q = member_sql({})
                q.add(f"m.project_id IN ({marks(len(part))})", *part)
                sql = f"SELECT {COLUMNS.sql} FROM {FROM} WHERE {q.sql} ORDER BY m.seq"
                for r in c.execute(sql, q.args):
                    out[r[1]].append(COLUMNS.row(r))
        return out

    def get(self, member_id: str) -> MemberRow:
        q = member_sql({"id": member_id})
        with self.db.read() as c:
            row = c.execute(f"SELECT {COLUMNS.sql} FROM {FROM} WHERE {q.sql}", q.args).fetchone()
        if row is None:
            raise ServerError.not_found("ProjectUser", member_id)
        return COLUMNS.row(row)

    def find(self, project_id: str, user_id: str) -> MemberRow | None:
        """The membership of the user in the project (unscoped: the guard checked the project)."""
        with self.db.read() as c:
            row = c.execute(
                f"SELECT {COLUMNS.sql} FROM {FROM} WHERE m.project_id = ? AND m.user_id = ?",
                (project_id, user_id),
            ).fetchone()
        return None if row is None else COLUMNS.row(row)

    def put(self, project_id: str, user_id: str, role: str) -> MemberRow:
        """Give the user ``role`` in the project: a new member, or a new role."""
        with self.db.write() as c:
            found = c.execute(
                "SELECT id FROM project_users WHERE project_id = ? AND user_id = ?",
                (project_id, user_id),
            ).fetchone()
            if found is not None:
                c.execute("UPDATE project_users SET role = ? WHERE id = ?", (role, found[0]))
            else:
                (size,) = c.execute(
                    "SELECT COUNT(*) FROM project_users WHERE project_id = ?", (project_id,)
                ).fetchone()
                if size >= MAX_MEMBERS:
                    raise ServerError(
                        f"The project has {size} members, the most a project can have: "
                        "remove one (delete_from_roles) before adding another."
                    )
                c.execute(
                    "INSERT INTO project_users (id, project_id, user_id, role, created_at) "
                    "VALUES (?,?,?,?,?)",
                    (new_id(), project_id, user_id, role, now()),
                )
        found_row = self.find(project_id, user_id)
        assert found_row is not None
        return found_row

    def remove(self, member_id: str) -> None:
        with self.db.write() as c:
            c.execute("DELETE FROM project_users WHERE id = ?", (member_id,))
