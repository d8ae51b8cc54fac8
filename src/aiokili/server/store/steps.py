"""Workflow steps (the V2 workflow): each project's steps, and where each asset stands.

A new project gets two steps, ``Labeling`` (type ``DEFAULT``) then ``Review`` (type
``REVIEW``, step coverage 0: no asset goes to review unless taken there), with ids made
once and kept; ``step_edits.py`` changes them. Projects of older database files have no
steps: they stay on the legacy V1 workflow (``Asset.status`` only).

An asset's place is stored on it (``assets.step_id`` / ``step_status``) and written, with
its legacy status, here only: :func:`initial` (imports), :func:`transition` (the actions)
and :func:`advance` (a label made at a step). ``Asset.currentStep`` and the step filters
read what they wrote::

    import       TODO       first step (labeling)   TO_DO
    label        LABELED    labeling step           DONE       no later step takes it
                 TO_REVIEW  next review step        TO_DO      its coverage took it
                 ONGOING    labeling step           PARTIALLY_DONE  consensus: labels missing
    review       REVIEWED   that review step        DONE       no later step takes it
                 TO_REVIEW  next review step        TO_DO
    to_review    TO_REVIEW  first review step       TO_DO      (add_to_review)
    send_back    ONGOING    send-back step          REWORK     (TO_REVIEW if a review step)
    skip         LABELED    labeling step           SKIPPED

A review step takes an asset when the asset falls in its coverage (``stepCoverage`` %, an
even share chosen by a hash of the asset and step ids: the same asset always gets the same
answer); a step it does not take is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from .conn import Conn
from .db import chunks, marks, new_id

DEFAULT_STEPS = (("Labeling", "DEFAULT", None), ("Review", "REVIEW", 0))
"""``(name, type, step coverage)`` of the steps of a new project, in order."""

TRANSITIONS: Mapping[str, tuple[str, str, str]] = {
    "import": ("TODO", "DEFAULT", "TO_DO"),
    "label": ("LABELED", "DEFAULT", "DONE"),
    "to_review": ("TO_REVIEW", "REVIEW", "TO_DO"),
    "review": ("REVIEWED", "REVIEW", "DONE"),
    "send_back": ("ONGOING", "DEFAULT", "REWORK"),
    "skip": ("LABELED", "DEFAULT", "SKIPPED"),
}
"""Transition -> (legacy status, type of the step the asset is then in, its step status);
``label`` and ``review`` are what :func:`advance` does when no later step takes the asset
(and all a legacy V1 project does)."""


@dataclass(frozen=True)
class Step:
    """One step of a project's workflow (a ``project_steps`` row)."""

    id: str
    project_id: str
    name: str
    type: str
    position: int
    consensus_coverage: int | None = None
    expected_labels: int | None = None
    step_coverage: int | None = None
    send_back_step_id: str | None = None
    use_honeypot: bool | None = None

    def takes(self, asset_id: str) -> bool:
        """Whether this review step's coverage takes the asset (a stable share: see the
        module docstring)."""
        coverage = 100 if self.step_coverage is None else self.step_coverage
        return coverage >= 100 or (coverage > 0 and _bucket(self.id, asset_id) < coverage)

    def in_consensus(self, asset_id: str, flagged: bool | None) -> bool:
        """Whether the asset needs several labels at this labeling step: ``flagged`` (its
        ``isUsedForConsensus``) when set, else the step's consensus coverage decides."""
        if (self.expected_labels or 1) < 2:
            return False
        if flagged is not None:
            return flagged
        return _bucket(self.id + ":consensus", asset_id) < (self.consensus_coverage or 0)


def _bucket(salt: str, asset_id: str) -> int:
    """0-99, stable for the pair (the share of assets a coverage takes)."""
    digest = hashlib.sha256(f"{salt}/{asset_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


_SELECT = (
    "SELECT id, project_id, name, type, position, consensus_coverage, expected_labels, "
    "step_coverage, send_back_step_id, use_honeypot FROM project_steps"
)


def _step(row: Sequence[Any]) -> Step:
    return Step(
        id=row[0],
        project_id=row[1],
        name=row[2],
        type=row[3],
        position=row[4],
        consensus_coverage=row[5],
        expected_labels=row[6],
        step_coverage=row[7],
        send_back_step_id=row[8],
        use_honeypot=_bool(row[9]),
    )


class Flow:
    """A project's steps, in order (empty: a legacy V1 project)."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)
        self.by_id = {s.id: s for s in steps}

    @property
    def first(self) -> Step | None:
        return self.steps[0] if self.steps else None

    def first_of(self, kind: str) -> Step | None:
        return next((s for s in self.steps if s.type == kind), None)

    def next_taking(self, after: Step, asset_id: str) -> Step | None:
        """The first review step after ``after`` whose coverage takes the asset."""
        later = self.steps[self.steps.index(after) + 1 :]
        return next((s for s in later if s.type == "REVIEW" and s.takes(asset_id)), None)


def flow(c: Conn, project_id: str) -> Flow:
    """The project's steps, in order."""
    rows = c.execute(f"{_SELECT} WHERE project_id = ? ORDER BY position", (project_id,))
    return Flow([_step(r) for r in rows])


def create_default(c: Conn, project_id: str) -> None:
    """Give a new project its steps (``Labeling``, ``Review``)."""
    c.executemany(
        "INSERT INTO project_steps (id, project_id, name, type, position, step_coverage) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (new_id(), project_id, name, kind, position, coverage)
            for position, (name, kind, coverage) in enumerate(DEFAULT_STEPS)
        ],
    )


def as_graphql(step: Step) -> dict[str, Any]:
    """A ``ProjectStep`` object (its assignees are resolved apart: they follow the members)."""
    return {
        "id": step.id,
        "name": step.name,
        "type": step.type,
        "stepGroupId": None,
        "consensusCoverage": step.consensus_coverage,
        "numberOfExpectedLabelsForConsensus": step.expected_labels,
        "stepCoverage": step.step_coverage,
        "sendBackStepId": step.send_back_step_id,
        "useHoneypot": step.use_honeypot,
        "projectId": step.project_id,
    }


def of_projects(c: Conn, project_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Project id -> its steps (``ProjectStep`` objects, in order; ``[]``: legacy V1)."""
    out: dict[str, list[dict[str, Any]]] = {p: [] for p in project_ids}
    for part in chunks(list(project_ids)):
        sql = f"{_SELECT} WHERE project_id IN ({marks(len(part))}) ORDER BY project_id, position"
        for row in c.execute(sql, list(part)):
            step = _step(row)
            out[step.project_id].append(as_graphql(step))
    return out


def assignees(c: Conn, step_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Step id -> its assignees (``{id, email}``, in the order given) who are still members
    of the step's project."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in step_ids}
    for part in chunks(list(step_ids)):
        sql = (
            "SELECT a.step_id, u.id, u.email FROM step_assignees a "
            "JOIN project_steps s ON s.id = a.step_id JOIN users u ON u.id = a.user_id "
            "JOIN project_users m ON m.project_id = s.project_id AND m.user_id = a.user_id "
            f"WHERE a.step_id IN ({marks(len(part))}) ORDER BY a.step_id, a.position"
        )
        for step_id, user_id, email in c.execute(sql, list(part)):
            out[step_id].append({"id": user_id, "email": email})
    return out


def initial(c: Conn, project_id: str) -> tuple[str | None, str | None, str | None]:
    """``(step_id, step_name, step_status)`` of a newly imported asset (``None``s on V1)."""
    row = c.execute(
        "SELECT id, name FROM project_steps WHERE project_id = ? ORDER BY position LIMIT 1",
        (project_id,),
    ).fetchone()
    return (row[0], row[1], TRANSITIONS["import"][2]) if row else (None, None, None)


Place = tuple[str, "Step | None", "str | None"]
"""Where an asset goes: (legacy status, step, step status); no step on V1."""


def _place(name: str, flow: Flow, current: str | None, asset_id: str) -> Place:
    """Where transition ``name`` takes an asset now at step ``current``."""
    status, kind, step_status = TRANSITIONS[name]
    if name == "send_back" and flow.steps:
        at = flow.by_id.get(current or "")
        back = flow.by_id.get(at.send_back_step_id or "") if at else None
        target = back or flow.first
        if target is not None and target.type == "REVIEW":
            return "TO_REVIEW", target, step_status
        return status, target, step_status
    if name in ("label", "review") and flow.steps:
        made_at = flow.first_of(kind)
        if made_at is not None:
            return _after(flow, made_at, asset_id)
    return status, flow.first_of(kind), step_status


def _after(flow: Flow, done: Step, asset_id: str) -> Place:
    """Where an asset goes once step ``done`` is done with it."""
    nxt = flow.next_taking(done, asset_id)
    if nxt is not None:
        return "TO_REVIEW", nxt, "TO_DO"
    return ("LABELED" if done.type == "DEFAULT" else "REVIEWED"), done, "DONE"


def _write(c: Conn, places: Mapping[str, Place], at: str, extra: str = "") -> None:
    """Write the places: one ``UPDATE`` per distinct place."""
    groups: dict[tuple[str, str | None, str | None], list[str]] = {}
    for asset_id, (status, step, step_status) in places.items():
        key = (status, step.id if step else None, step_status if step else None)
        groups.setdefault(key, []).append(asset_id)
    sets = (
        "status = ?, updated_at = ?, step_id = ?, step_status = ?, step_group_name = NULL"
        f"{', ' + extra if extra else ''}"
    )
    for (status, step_id, step_status), ids in groups.items():
        for part in chunks(ids):
            c.execute(
                f"UPDATE assets SET {sets} WHERE id IN ({marks(len(part))})",
                [status, at, step_id, step_status, *part],
            )


def _located(
    c: Conn, asset_ids: Sequence[str], only_from: Sequence[str] | None
) -> list[tuple[str, str, str | None]]:
    """``(asset id, project id, current step id)`` of the assets (with ``only_from``: whose
    legacy status is one of these)."""
    condition = f" AND status IN ({marks(len(only_from))})" if only_from else ""
    found: list[tuple[str, str, str | None]] = []
    for part in chunks(list(asset_ids)):
        found += c.execute(
            f"SELECT id, project_id, step_id FROM assets WHERE id IN ({marks(len(part))})"
            f"{condition}",
            [*part, *(only_from or ())],
        ).fetchall()
    return found


class Flows(dict[str, Flow]):
    """Project id -> its :class:`Flow`, read once per write."""

    def __init__(self, c: Conn) -> None:
        super().__init__()
        self.c = c

    def __missing__(self, project_id: str) -> Flow:
        found = self[project_id] = flow(self.c, project_id)
        return found


def transition(
    c: Conn,
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
    flows = Flows(c)
    places = {
        asset_id: _place(name, flows[project_id], current, asset_id)
        for asset_id, project_id, current in _located(c, asset_ids, only_from)
    }
    _write(c, places, at, extra)


def advance(c: Conn, made_at: Mapping[str, Step], flows: Flows, at: str) -> None:
    """Assets labelled at a step (asset id -> the step): each moves on as the step is done
    with it (consensus: once it has the labels the step expects)."""
    places: dict[str, Place] = {}
    for asset_id, step in made_at.items():
        if step.type == "DEFAULT" and _labels_missing(c, step, asset_id):
            places[asset_id] = ("ONGOING", step, "PARTIALLY_DONE")
        else:
            places[asset_id] = _after(flows[step.project_id], step, asset_id)
    _write(c, places, at)


def _labels_missing(c: Conn, step: Step, asset_id: str) -> bool:
    """Whether the asset, in consensus at labeling ``step``, has fewer authors than the
    step expects."""
    if (step.expected_labels or 1) < 2:
        return False
    flagged = c.execute(
        "SELECT is_used_for_consensus FROM asset_properties WHERE asset_id = ?", (asset_id,)
    ).fetchone()
    if not step.in_consensus(asset_id, None if flagged is None else _bool(flagged[0])):
        return False
    authors = c.execute(
        "SELECT COUNT(DISTINCT author_id) FROM labels WHERE asset_id = ? AND label_type = 'DEFAULT'",
        (asset_id,),
    ).fetchone()[0]
    return int(authors) < (step.expected_labels or 1)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def step_of(c: Conn, step_id: str, project_ids: Sequence[str]) -> Step:
    """Step ``step_id``, which must be a step of each of ``project_ids``."""
    row = c.execute(f"{_SELECT} WHERE id = ?", (step_id,)).fetchone()
    others = sorted(set(project_ids) - {row[1]}) if row else []
    if row is None or others:
        where = f" of project {others[0]!r}" if others else ""
        raise ServerError(
            f'data.stepId: no step "{step_id}"{where}. Give the id of one of '
            "the project's steps (Project.steps).",
            "NOT_FOUND",
        )
    return _step(row)


def step_type(c: Conn, step_id: str, project_ids: Sequence[str]) -> str:
    """The type of step ``step_id``, which must be a step of each of ``project_ids``."""
    return step_of(c, step_id, project_ids).type


def copy_steps(c: Conn, source_id: str, project_id: str) -> None:
    """Give ``project_id`` the source's steps (new ids; settings, send-back steps and
    assignees kept: those who are not members of the copy are not shown). None: the copy
    is legacy V1 too."""
    ids: dict[str, str] = {}
    for step in flow(c, source_id).steps:
        ids[step.id] = new_id()
        c.execute(
            "INSERT INTO project_steps VALUES (?,?,?,?,?,?,?,?,?,?)",
            (ids[step.id], project_id, step.name, step.type, step.position,
             step.consensus_coverage, step.expected_labels, step.step_coverage,
             None, step.use_honeypot),
        )  # fmt: skip
        c.execute(
            "INSERT INTO step_assignees SELECT ?, user_id, position FROM step_assignees "
            "WHERE step_id = ?",
            (ids[step.id], step.id),
        )
    c.executemany(
        "UPDATE project_steps SET send_back_step_id = ? WHERE id = ?",
        [
            (ids.get(step.send_back_step_id or ""), ids[step.id])
            for step in flow(c, source_id).steps
            if step.send_back_step_id
        ],
    )


def delete_project(c: Conn, project_id: str) -> None:
    c.execute(
        "DELETE FROM step_assignees WHERE step_id IN "
        "(SELECT id FROM project_steps WHERE project_id = ?)",
        (project_id,),
    )
    c.execute(
        "DELETE FROM label_steps WHERE step_id IN "
        "(SELECT id FROM project_steps WHERE project_id = ?)",
        (project_id,),
    )
    c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
