"""Who is asking: the caller of the request being served, and what of the database it reaches.

The GraphQL layer binds the caller (:func:`bind`) before any resolver of a request runs
(``server/guard.py``); the repositories read it here, so that every look-up they make by
id or filter is limited to the caller's organization, and within it to the projects the
caller is a member of (an organization ADMIN reaches every project of the organization).
What is outside answers as absent: ``NOT_FOUND``, or no row in a listing.

Worker threads see the caller too (anyio copies the context into them). With no caller
bound (the plugin runtime, the label feed, the server's own set-up), nothing is limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from .conn import Conn

PROJECT_ROLES = ("LABELER", "REVIEWER", "TEAM_MANAGER", "ADMIN")
"""The project roles, least to most powerful."""
RANK = {role: rank for rank, role in enumerate(PROJECT_ROLES, start=1)}


@dataclass(frozen=True)
class Access:
    """The caller: a user of one organization, an ADMIN of it or not."""

    user_id: str
    organization_id: str
    org_admin: bool


class _Conditions(Protocol):
    def add(self, clause: str, *args: Any) -> None: ...


Select = tuple[str, list[Any]]
"""A ``SELECT`` and its parameters."""

_CALLER: ContextVar[Access | None] = ContextVar("aiokili_server_caller", default=None)


def current() -> Access | None:
    """The caller bound for this request, or ``None`` (internal work: nothing is limited)."""
    return _CALLER.get()


def bind(access: Access | None) -> None:
    """Bind the caller for the rest of the current task (a request runs in a task of its own)."""
    _CALLER.set(access)


@contextmanager
def acting_as(access: Access | None) -> Iterator[None]:
    """Bind ``access`` for a block, then restore what was bound before."""
    token = _CALLER.set(access)
    try:
        yield
    finally:
        _CALLER.reset(token)


def visible_projects(access: Access) -> Select:
    """``SELECT`` of the ids of the projects ``access`` reaches."""
    if access.org_admin:
        return "SELECT vp.id FROM projects vp WHERE vp.organization_id = ?", [
            access.organization_id
        ]
    return (
        "SELECT vp.id FROM projects vp WHERE vp.organization_id = ? AND vp.id IN "
        "(SELECT vm.project_id FROM project_users vm WHERE vm.user_id = ?)",
        [access.organization_id, access.user_id],
    )


def scope(q: _Conditions, column: str) -> None:
    """Limit ``q`` to rows whose ``column`` (a project id) the caller reaches (no caller: all)."""
    access = current()
    if access is not None:
        sql, args = visible_projects(access)
        q.add(f"{column} IN ({sql})", *args)


def role_in(c: Conn, project_id: str, access: Access) -> str | None:
    """``access``'s role in the project (ADMIN for its organization's admins), or ``None``
    when the project is not there for it (absent, another organization's, not a member)."""
    found = c.execute("SELECT organization_id FROM projects WHERE id = ?", (project_id,)).fetchone()
    if found is None or found[0] != access.organization_id:
        return None
    if access.org_admin:
        return "ADMIN"
    row = c.execute(
        "SELECT role FROM project_users WHERE project_id = ? AND user_id = ?",
        (project_id, access.user_id),
    ).fetchone()
    return None if row is None else str(row[0])


def reaches(c: Conn, project_id: str) -> bool:
    """Whether the caller reaches the project (an existing one, when there is no caller)."""
    access = current()
    if access is None:
        return (
            c.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone() is not None
        )
    return role_in(c, project_id, access) is not None


def reviewing_projects(access: Access) -> Select:
    """``SELECT`` of the ids of the projects where ``access`` reads every label: those it is
    a REVIEWER (or more) of; a LABELER reads only the labels they wrote."""
    if access.org_admin:
        return visible_projects(access)
    return (
        "SELECT vm.project_id FROM project_users vm WHERE vm.user_id = ? AND vm.role <> 'LABELER'",
        [access.user_id],
    )


def limit_labels(c: Conn, q: _Conditions, lb: str, project_id: str | None = None) -> None:
    """Limit ``q`` (on ``labels <lb>``) to the labels the caller reads: every label of the
    projects it reviews (REVIEWER or more), its own in those it labels (no caller: every
    label). ``project_id``: the listing's project, already checked to be reached."""
    caller = current()
    if caller is None:
        return
    if project_id is not None:
        if role_in(c, project_id, caller) == "LABELER":
            q.add(f"{lb}.author_id = ?", caller.user_id)
        return
    (every, every_args), (reached, reached_args) = (
        reviewing_projects(caller),
        visible_projects(caller),
    )
    q.add(
        f"({lb}.project_id IN ({every}) OR ({lb}.author_id = ? AND {lb}.project_id IN ({reached})))",
        *every_args,
        caller.user_id,
        *reached_args,
    )
