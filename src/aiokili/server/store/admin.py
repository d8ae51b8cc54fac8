"""Asset administration: who labels an asset, in what order, skips, and consensus use.

What the local server does with each (the platform's rules: docs.kili-technology.com
"Queue prioritization", the official SDK 26.2.4's docstrings):

* **Assignees** (``assignAssets``): the users given replace the asset's assignees (``[]``
  unassigns). Each must reach the asset's project (a member, or an organization ADMIN). A
  user with a label *in progress* on the asset (an ``AUTOSAVE`` newer than their last
  submitted label) stays assigned whatever is asked, and the asset is ``declined``.
  An assigned asset is read-only for everyone else: a ``DEFAULT`` or ``AUTOSAVE`` label by
  an author who is not an assignee is refused, nothing written, with the platform's lock
  reason in ``extensions.context.reason``: ``NotAssignedWithAssignAction`` when the caller
  could assign themselves (a TEAM_MANAGER or ADMIN of the project), else
  ``AssetAlreadyAssigned``. Review labels are not limited by the assignees.
* **Priority** (``setAssetsPriority``): a higher number is served first, equal priorities
  in import order, 0 by default. A LABELER's asset listing is their queue: it is ordered by
  priority, then import order (``repositories.assets``); other roles list in import order.
  An asset not waiting for work (in progress, done or skipped) is ``declined``.
* **Skips** (``skipAsset`` / ``unskipAsset``): a skipped asset leaves the labelling queue
  (``skipped``, step status ``SKIPPED``, status ``LABELED``, as a labeller's skip does);
  unskipping puts it back where its labels put it (``TODO`` / Labeling ``TO_DO`` with none,
  ``LABELED`` / ``DONE`` with some). An asset used for consensus cannot be skipped; one
  assigned to others cannot be skipped by a labeller either (the lock above). The reason
  is required but not kept (nothing in the API reads it back).
* **Consensus use** (``setAssetConsensus``): only on projects with workflow steps, while
  the asset waits at a labelling (``DEFAULT``) step in ``TO_DO`` (no one has started it)
  and consensus is enabled (the project's ``consensusTotCoverage`` > 0 and
  ``minConsensusSize`` >= 2). It drives the consensus marks (``marks.py``): an asset taken
  out of consensus has none. On legacy projects ``updatePropertiesInAssets`` sets it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ServerError
from . import access, steps, workflow_state
from . import marks as label_marks
from .conn import Conn
from .db import Database, chunks, marks, now
from .workflow import WorkflowRepository

WAITING = frozenset({"TO_DO", "REWORK", "REDO", "PARTIALLY_DONE"})
"""Step statuses of an asset waiting for work (``setAssetsPriority`` applies)."""
_WORKING = frozenset({"IN_PROGRESS", "DOING"})
_LOCKED_TYPES = ("DEFAULT", "AUTOSAVE")  # labelling work: what the assignees limit
_MANAGERS = ("ADMIN", "TEAM_MANAGER")
# Legacy (V1) assets have no stored step: their step status follows the status.
_V1_STEP_STATUS = {
    "TODO": "TO_DO",
    "ONGOING": "IN_PROGRESS",
    "LABELED": "DONE",
    "TO_REVIEW": "TO_DO",
    "REVIEWED": "DONE",
}
LOCK_MESSAGES = {
    "AssetAlreadyAssigned": "is assigned to someone else",
    "NotAssignedWithAssignAction": "is in read-only mode because you are not assigned to it",
}


def _outcome(
    given: Sequence[str], external: Mapping[str, str | None], ok: set[str]
) -> dict[str, Any]:
    """Each asset given in ``succeeded`` (in ``ok``) or ``declined``, in the order given."""
    return {
        "succeeded": [{"assetId": i, "externalId": external.get(i)} for i in given if i in ok],
        "declined": [{"assetId": i, "externalId": external.get(i)} for i in given if i not in ok],
        "failed": [],
    }


def in_progress(c: Conn, asset_ids: Sequence[str]) -> dict[str, set[str]]:
    """Asset id -> the authors with a label in progress on it: an ``AUTOSAVE`` newer than
    their last submitted (``DEFAULT`` / ``REVIEW``) label there."""
    out: dict[str, set[str]] = {}
    for part in chunks(list(asset_ids)):
        sql = (
            f"SELECT l.asset_id, l.author_id FROM labels l WHERE l.asset_id IN "
            f"({marks(len(part))}) AND l.label_type = 'AUTOSAVE' AND l.seq > coalesce(("
            "SELECT MAX(d.seq) FROM labels d WHERE d.asset_id = l.asset_id AND "
            "d.author_id = l.author_id AND d.label_type IN ('DEFAULT', 'REVIEW')), 0)"
        )
        for asset_id, author_id in c.execute(sql, list(part)):
            out.setdefault(asset_id, set()).add(author_id)
    return out


def assignees(c: Conn, asset_ids: Sequence[str]) -> dict[str, set[str]]:
    """Asset id -> its assignees' user ids (assets without any are left out)."""
    out: dict[str, set[str]] = {}
    for part in chunks(list(asset_ids)):
        sql = (
            f"SELECT asset_id, user_id FROM asset_assignees WHERE asset_id IN ({marks(len(part))})"
        )
        for asset_id, user_id in c.execute(sql, list(part)):
            out.setdefault(asset_id, set()).add(user_id)
    return out


def refuse_locked(c: Conn, labels: Sequence[tuple[str, str]], label_type: str) -> None:
    """Refuse (nothing written) labels ``(asset_id, author_id)`` of ``label_type`` that the
    assignees of their asset lock (see the module docstring)."""
    if label_type not in _LOCKED_TYPES or not labels:
        return
    assigned = assignees(c, [asset_id for asset_id, _ in labels])
    for index, (asset_id, author_id) in enumerate(labels):
        users = assigned.get(asset_id)
        if not users or author_id in users:
            continue
        caller = access.current()
        project = c.execute("SELECT project_id FROM assets WHERE id = ?", (asset_id,)).fetchone()
        role = access.role_in(c, project[0], caller) if caller and project else None
        reason = "NotAssignedWithAssignAction" if role in _MANAGERS else "AssetAlreadyAssigned"
        emails = sorted(
            r[0]
            for r in c.execute(
                f"SELECT email FROM users WHERE id IN ({marks(len(users))})", sorted(users)
            )
        )
        fix = (
            "add the author as an assignee (assign_assets_to_labelers) to label it"
            if reason == "NotAssignedWithAssignAction"
            else "only its assignees can label it"
        )
        raise ServerError(
            f'labelsData[{index}]: asset "{asset_id}" {LOCK_MESSAGES[reason]} '
            f"(assigned to {', '.join(emails)}): {fix}. Nothing was written.",
            "FORBIDDEN",
            {"reason": reason},
        )


def _step_states(c: Conn, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Asset id -> (external id, project id, step status, step type, skipped) of those that
    exist (V1 assets: the step status their status stands for, step type None)."""
    out: dict[str, tuple[Any, ...]] = {}
    for part in chunks(list(ids)):
        sql = (
            "SELECT a.id, a.external_id, a.project_id, a.status, a.step_status, "
            "(SELECT s.type FROM project_steps s WHERE s.id = a.step_id), "
            f"coalesce(a.skipped, 0) FROM assets a WHERE a.id IN ({marks(len(part))})"
        )
        for asset_id, external, project, status, step_status, kind, skipped in c.execute(
            sql, list(part)
        ):
            if step_status is None:
                step_status = _V1_STEP_STATUS.get(status, "TO_DO")
            out[asset_id] = (external, project, step_status, kind, bool(skipped))
    return out


class AdminRepository:
    """Assignees, priorities, skips and consensus use of the assets of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ assignees

    def assign(self, where: Mapping[str, Any], user_ids: Sequence[str]) -> dict[str, Any]:
        """Give the assets these assignees (``[]``: none); the outcome of each."""
        given, rows = WorkflowRepository(self.db).targets(where)
        wanted = set(dict.fromkeys(user_ids))
        external = {r[0]: r[1] for r in rows}
        ids = [i for i in given if i in external]
        with self.db.write() as c:
            _check_assignable(c, ids, sorted(wanted))
            current = assignees(c, ids)
            working = in_progress(c, ids)
            ok: set[str] = set()
            for asset_id in ids:
                kept = (current.get(asset_id, set()) - wanted) & working.get(asset_id, set())
                c.execute("DELETE FROM asset_assignees WHERE asset_id = ?", (asset_id,))
                c.executemany(
                    "INSERT INTO asset_assignees VALUES (?, ?)",
                    [(asset_id, u) for u in sorted(wanted | kept)],
                )
                if not kept:
                    ok.add(asset_id)
        return _outcome(given, external, ok)

    # ------------------------------------------------------------------ priority

    def set_priority(self, where: Mapping[str, Any], priority: int) -> dict[str, Any]:
        """Give the assets waiting for work this priority; the others are declined."""
        given, rows = WorkflowRepository(self.db).targets(where)
        with self.db.write() as c:
            states = _step_states(c, [r[0] for r in rows])
            working = in_progress(c, list(states))
            ok = {
                i
                for i, (_, _, status, _, skipped) in states.items()
                if status in WAITING and not skipped and i not in working
            }
            for part in chunks(sorted(ok)):
                c.execute(
                    f"UPDATE assets SET priority = ?, updated_at = ? WHERE id IN "
                    f"({marks(len(part))})",
                    [priority, now(), *part],
                )
        return _outcome(given, {i: s[0] for i, s in states.items()}, ok)

    # ------------------------------------------------------------------ skips

    def skip(self, where: Mapping[str, Any], reason: str) -> str:
        """Skip an asset (``where``: its id and project); return its id."""
        if not reason.strip():
            raise ServerError("reason is empty: say why the asset is skipped.")
        asset_id = str(where.get("id") or "")
        project_id = (where.get("project") or {}).get("id")
        with self.db.write() as c:
            state = _one(c, asset_id, project_id)
            used = workflow_state.properties(c, [asset_id]).get(asset_id)
            if used is not None and used.is_used_for_consensus:
                raise ServerError(
                    f'Asset "{asset_id}" is used for consensus and cannot be skipped: skipping '
                    "it would take it from every labeler's queue. Take it out of consensus "
                    "first (update_asset_consensus), or label it."
                )
            caller = access.current()
            if caller is not None:
                refuse_locked(c, [(asset_id, caller.user_id)], "DEFAULT")
            if not state[4]:
                steps.transition(c, [asset_id], "skip", now(), extra="skipped = 1")
        return asset_id

    def unskip(self, project_id: str, asset_id: str) -> bool:
        """Put a skipped asset back where its labels put it (see the module docstring)."""
        with self.db.write() as c:
            state = _one(c, asset_id, project_id)
            if state[4]:
                labelled = c.execute(
                    "SELECT 1 FROM labels WHERE asset_id = ? AND label_type IN "
                    "('DEFAULT', 'REVIEW') LIMIT 1",
                    (asset_id,),
                ).fetchone()
                move = "label" if labelled else "import"
                steps.transition(c, [asset_id], move, now(), extra="skipped = 0")
        return True

    # ------------------------------------------------------------------ consensus

    def set_consensus(
        self, project_id: str, asset_id: str | None, external_id: str | None, value: bool
    ) -> bool:
        """Use the asset for consensus or not (see the module docstring); return ``value``."""
        with self.db.write() as c:
            asset_id = _asset_by(c, project_id, asset_id, external_id)
            _check_consensus_settable(c, project_id, asset_id)
            workflow_state.write_properties(c, asset_id, {"is_used_for_consensus": value})
            c.execute("UPDATE assets SET updated_at = ? WHERE id = ?", (now(), asset_id))
            label_marks.refresh(c, [asset_id])
        return value


def _one(c: Conn, asset_id: str, project_id: str | None) -> tuple[Any, ...]:
    """The state of one asset (``_step_states``), of ``project_id``; NOT_FOUND otherwise."""
    if not asset_id:
        raise ServerError("where.id is required: give the asset id.")
    state = _step_states(c, [asset_id]).get(asset_id)
    if state is None or project_id not in (None, state[1]) or not access.reaches(c, state[1]):
        raise ServerError.not_found("Asset", asset_id)
    return state


def _asset_by(c: Conn, project_id: str, asset_id: str | None, external_id: str | None) -> str:
    """The id of the asset of ``project_id`` named by id or external id (both: the same)."""
    if asset_id is None and external_id is None:
        raise ServerError("Give assetId or externalId: the asset to change.")
    if external_id is not None:
        row = c.execute(
            "SELECT id FROM assets WHERE project_id = ? AND external_id = ?",
            (project_id, external_id),
        ).fetchone()
        if row is None:
            raise ServerError(
                f'No asset with external id "{external_id}" in project "{project_id}".',
                "NOT_FOUND",
            )
        if asset_id is not None and asset_id != row[0]:
            raise ServerError(
                f'assetId "{asset_id}" and externalId "{external_id}" name two different '
                "assets: give one of them."
            )
        return str(row[0])
    assert asset_id is not None
    _one(c, asset_id, project_id)
    return asset_id


def _check_consensus_settable(c: Conn, project_id: str, asset_id: str) -> None:
    """The platform's conditions for ``setAssetConsensus`` (see the module docstring)."""
    has_steps = c.execute(
        "SELECT 1 FROM project_steps WHERE project_id = ? LIMIT 1", (project_id,)
    ).fetchone()
    if has_steps is None:
        raise ServerError(
            f'Project "{project_id}" uses the legacy workflow, which setAssetConsensus does '
            "not support: set isUsedForConsensus with updatePropertiesInAssets "
            "(update_properties_in_assets(is_used_for_consensus_array=...))."
        )
    _, _, status, kind, skipped = _step_states(c, [asset_id])[asset_id]
    step = c.execute(
        "SELECT s.name FROM assets a JOIN project_steps s ON s.id = a.step_id WHERE a.id = ?",
        (asset_id,),
    ).fetchone()
    where = f"at step {step[0] if step else '?'} ({'SKIPPED' if skipped else status})"
    if kind != "DEFAULT" or status != "TO_DO" or skipped or asset_id in in_progress(c, [asset_id]):
        started = " and started" if status == "TO_DO" and not skipped else ""
        raise ServerError(
            f'Asset "{asset_id}" is {where}{started}: its consensus can be changed only while '
            "it waits at a labeling step (TO_DO), before any labeler starts it."
        )
    props = c.execute("SELECT props FROM projects WHERE id = ?", (project_id,)).fetchone()
    settings = json.loads(props[0] or "{}") if props else {}
    coverage = settings.get("consensusTotCoverage") or 0
    size = settings.get("minConsensusSize") or 1
    if coverage <= 0 or size < 2:
        raise ServerError(
            f'Consensus is not enabled in project "{project_id}" (coverage {coverage}%, '
            f"{size} labeler(s) per asset): enable it first, e.g. "
            "update_properties_in_project(consensus_tot_coverage=10, min_consensus_size=2)."
        )


def _check_assignable(c: Conn, ids: Sequence[str], users: Sequence[str]) -> None:
    """Each user must reach the project of each asset (a member, or an organization ADMIN)."""
    if not users:
        return
    projects = sorted(
        {
            r[0]
            for part in chunks(list(ids))
            for r in c.execute(
                f"SELECT DISTINCT project_id FROM assets WHERE id IN ({marks(len(part))})",
                list(part),
            )
        }
    )
    for project_id in projects:
        reached = {
            r[0]
            for r in c.execute(
                "SELECT u.id FROM users u JOIN projects p ON p.id = ? WHERE u.id IN "
                f"({marks(len(users))}) AND u.organization_id = p.organization_id AND "
                "(u.organization_role = 'ADMIN' OR u.id IN (SELECT m.user_id FROM "
                "project_users m WHERE m.project_id = p.id))",
                [project_id, *users],
            )
        }
        missing = [u for u in users if u not in reached]
        if missing:
            raise ServerError(
                f"userIds: user(s) {', '.join(map(repr, missing[:5]))} are not members of "
                f'project "{project_id}": add them first (append_to_roles). Nothing was '
                "assigned."
            )
