"""Workflow steps (the V2 workflow): each project's steps, and where each asset stands.

A new project gets two steps, ``Labeling`` (type ``DEFAULT``) then ``Review`` (type
``REVIEW``), with ids made once and kept. Projects of older database files have no steps:
they stay on the legacy V1 workflow (``Asset.status`` only).

An asset's place is stored on it (``assets.step_id`` / ``step_status``) and written, with
its legacy status, by :func:`transition` (imports: :func:`initial`), the one place every
server module goes through. ``Asset.currentStep`` and the step filters read what it wrote::

    transition   status     step       step status
    import       TODO       Labeling   TO_DO
    label        LABELED    Labeling   DONE        (a DEFAULT label; review coverage is 0)
    to_review    TO_REVIEW  Review     TO_DO       (add_to_review)
    review       REVIEWED   Review     DONE        (a REVIEW label)
    send_back    ONGOING    Labeling   REWORK      (send_back_to_queue)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ServerError
from .db import chunks, marks, new_id

DDL = """
CREATE TABLE IF NOT EXISTS project_steps (
  id TEXT PRIMARY KEY, project_id TEXT, name TEXT, type TEXT, position INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS project_steps_project ON project_steps (project_id, position);
"""
DEFAULT_STEPS = (("Labeling", "DEFAULT"), ("Review", "REVIEW"))
"""``(name, type)`` of the steps of a new project, in order."""

TRANSITIONS: Mapping[str, tuple[str, str, str]] = {
    "import": ("TODO", "DEFAULT", "TO_DO"),
    "label": ("LABELED", "DEFAULT", "DONE"),
    "to_review": ("TO_REVIEW", "REVIEW", "TO_DO"),
    "review": ("REVIEWED", "REVIEW", "DONE"),
    "send_back": ("ONGOING", "DEFAULT", "REWORK"),
    "skip": ("LABELED", "DEFAULT", "SKIPPED"),
}
"""Transition -> (legacy status, type of the step the asset is then in, its step status)."""

_STEP_OF = (
    "(SELECT s.id FROM project_steps s WHERE s.project_id = assets.project_id "
    "AND s.type = ? ORDER BY s.position LIMIT 1)"
)


def create_default(c: sqlite3.Connection, project_id: str) -> None:
    """Give a new project its steps (``Labeling``, ``Review``)."""
    c.executemany(
        "INSERT INTO project_steps VALUES (?, ?, ?, ?, ?)",
        [
            (new_id(), project_id, name, kind, position)
            for position, (name, kind) in enumerate(DEFAULT_STEPS)
        ],
    )


def of_projects(
    c: sqlite3.Connection, project_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Project id -> its steps (``ProjectStep`` objects, in order; ``[]``: legacy V1)."""
    out: dict[str, list[dict[str, Any]]] = {p: [] for p in project_ids}
    for part in chunks(list(project_ids)):
        sql = (
            f"SELECT id, project_id, name, type FROM project_steps WHERE project_id IN "
            f"({marks(len(part))}) ORDER BY project_id, position"
        )
        for step_id, project_id, name, kind in c.execute(sql, list(part)):
            out[project_id].append(
                {"id": step_id, "name": name, "type": kind, "stepGroupId": None, "assignees": []}
            )
    return out


def initial(c: sqlite3.Connection, project_id: str) -> tuple[str | None, str | None, str | None]:
    """``(step_id, step_name, step_status)`` of a newly imported asset (``None``s on V1)."""
    _, kind, status = TRANSITIONS["import"]
    row = c.execute(
        "SELECT id, name FROM project_steps WHERE project_id = ? AND type = ? "
        "ORDER BY position LIMIT 1",
        (project_id, kind),
    ).fetchone()
    return (row[0], row[1], status) if row else (None, None, None)


def transition(
    c: sqlite3.Connection,
    asset_ids: Sequence[str],
    name: str,
    at: str,
    *,
    only_from: Sequence[str] | None = None,
    extra: str = "",
) -> None:
    """Move the assets through transition ``name`` (see the module docstring).

    ``only_from``: move only the assets whose legacy status is one of these. ``extra``:
    more ``column = value`` assignments (constant SQL). Assets of V1 projects get the status
    only.
    """
    status, kind, step_status = TRANSITIONS[name]
    condition = f" AND status IN ({marks(len(only_from))})" if only_from else ""
    sets = (
        f"status = ?, updated_at = ?, step_id = {_STEP_OF}, step_status = CASE WHEN "
        f"{_STEP_OF} IS NULL THEN NULL ELSE ? END, step_group_name = NULL"
        f"{', ' + extra if extra else ''}"
    )
    for part in chunks(list(asset_ids)):
        c.execute(
            f"UPDATE assets SET {sets} WHERE id IN ({marks(len(part))}){condition}",
            [status, at, kind, kind, step_status, *part, *(only_from or ())],
        )


def step_type(c: sqlite3.Connection, step_id: str, project_ids: Sequence[str]) -> str:
    """The type of step ``step_id``, which must be a step of each of ``project_ids``."""
    row = c.execute(
        "SELECT project_id, type FROM project_steps WHERE id = ?", (step_id,)
    ).fetchone()
    others = sorted(set(project_ids) - {row[0]}) if row else []
    if row is None or others:
        where = f" of project {others[0]!r}" if others else ""
        raise ServerError(
            f'data.stepId: no step "{step_id}"{where}. Give the id of one of '
            "the project's steps (Project.steps).",
            "NOT_FOUND",
        )
    return str(row[1])


def delete_project(c: sqlite3.Connection, project_id: str) -> None:
    c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
