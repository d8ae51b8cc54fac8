"""Labels made at a workflow step: at which step, whether the caller may work there, and
where the asset goes next.

A DEFAULT or REVIEW label is made at a step: the one ``stepId`` names, else the labeling
step for a DEFAULT label, and for a REVIEW label the review step the asset waits in (the
first review step if it waits in none). The step is recorded with the label
(``label_steps``; ``''`` for a honeypot's answer, made at no step).

Who may write there, besides the role the permission table asks (``permissions.py``: a
REVIEWER at a review step), follows the platform's lock reasons (``extensions.context.
reason``, which the official SDK turns into its own message):

* ``NotInStepAssignees``: the step has assignees and the caller, a LABELER or REVIEWER of
  the project, is not one of them (ADMINs and TEAM_MANAGERs run the workflow: they may
  write at any step);
* ``BlockedByEnforceStepSeparation``: the project enforces step separation and the
  label's author already made a label of the asset at another step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ServerError
from . import access, steps
from .columns import upsert_sql
from .conn import Conn
from .db import chunks, marks

_LABEL_STEP = upsert_sql("label_steps", ("label_id", "step_id"), ("label_id",))

WORK_TYPES = ("DEFAULT", "REVIEW")
"""The label types made at a step (predictions, inferences... are not)."""


@dataclass(frozen=True)
class Work:
    """One label written: its id, asset, author and project."""

    label_id: str
    asset_id: str
    author_id: str
    project_id: str


def record(
    c: Conn,
    work: Sequence[Work],
    label_type: str,
    step_id: str | None,
    at: str,
    *,
    move: bool,
) -> None:
    """Check and record the step of each label (see the module docstring) and move each
    asset on from it. Refuses all (nothing is written) if one label may not be made. Not
    ``move``: labels made at no step (a honeypot's answer), recorded as such."""
    if label_type not in WORK_TYPES or not work:
        return
    if not move:
        c.executemany(_LABEL_STEP, [(w.label_id, "") for w in work])
        return
    flows = steps.Flows(c)
    current = _current_steps(c, [w.asset_id for w in work])
    made_at: dict[str, steps.Step] = {}
    legacy: list[str] = []
    for item in work:
        flow = flows[item.project_id]
        if not flow.steps:
            legacy.append(item.asset_id)
            continue
        step = _step_of(flow, label_type, step_id, current.get(item.asset_id))
        made_at[item.asset_id] = step
    if made_at:
        _check(c, [w for w in work if w.asset_id in made_at], made_at, flows)
        c.executemany(
            _LABEL_STEP,
            [(w.label_id, made_at[w.asset_id].id) for w in work if w.asset_id in made_at],
        )
    steps.advance(c, made_at, flows, at)
    steps.transition(c, legacy, "review" if label_type == "REVIEW" else "label", at)


def _step_of(
    flow: steps.Flow, label_type: str, step_id: str | None, current: str | None
) -> steps.Step:
    if step_id is not None and step_id in flow.by_id:
        return flow.by_id[step_id]
    if label_type == "REVIEW":
        waiting = flow.by_id.get(current or "")
        if waiting is not None and waiting.type == "REVIEW":
            return waiting
        return flow.first_of("REVIEW") or flow.steps[-1]
    return flow.first_of("DEFAULT") or flow.steps[0]


def _current_steps(c: Conn, asset_ids: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for part in chunks(list(dict.fromkeys(asset_ids))):
        sql = f"SELECT id, step_id FROM assets WHERE id IN ({marks(len(part))})"
        found.update(c.execute(sql, list(part)).fetchall())
    return found


def _check(
    c: Conn,
    work: Sequence[Work],
    made_at: dict[str, steps.Step],
    flows: steps.Flows,
) -> None:
    caller = access.current()
    if caller is not None:
        for project_id in {w.project_id for w in work}:
            role = access.role_in(c, project_id, caller)
            if role not in ("LABELER", "REVIEWER"):
                continue
            at = {made_at[w.asset_id].id: made_at[w.asset_id] for w in work
                  if w.project_id == project_id}  # fmt: skip
            listed = steps.assignees(c, list(at))
            for step_id, step in at.items():
                _assigned(c, step, listed[step_id], caller.user_id, role)
    separated = {p for p in {w.project_id for w in work} if _separated(c, p)}
    for item in work:
        if item.project_id in separated:
            _not_elsewhere(c, item, made_at[item.asset_id], flows[item.project_id])


def _assigned(
    c: Conn,
    step: steps.Step,
    listed: Sequence[dict[str, str]],
    user_id: str,
    role: str,
) -> None:
    """Refuse a LABELER / REVIEWER who is not among the step's assignees (if it has any)."""
    if not listed or any(a["id"] == user_id for a in listed):
        return
    email = _email(c, user_id)
    names = ", ".join(a["email"] for a in listed[:5]) + (" ..." if len(listed) > 5 else "")
    how = "add_reviewers_to_step" if step.type == "REVIEW" else "update_project_workflow"
    raise ServerError(
        f'[NotInStepAssignees] You cannot edit this asset in its current step: step "{step.name}" '
        f"is assigned to {names}, and you ({email}, {role}) are not one of them. Ask an ADMIN or "
        f"TEAM_MANAGER of the project to assign you to the step ({how}). Nothing was written.",
        "FORBIDDEN",
        {"reason": "NotInStepAssignees"},
    )


def _separated(c: Conn, project_id: str) -> bool:
    row = c.execute("SELECT props FROM projects WHERE id = ?", (project_id,)).fetchone()
    return bool(row and json.loads(row[0] or "{}").get("enforceStepSeparation"))


def _not_elsewhere(c: Conn, item: Work, step: steps.Step, flow: steps.Flow) -> None:
    """Refuse a label whose author already labelled the asset at another step."""
    first, review = flow.first_of("DEFAULT"), flow.first_of("REVIEW")
    rows = c.execute(
        "SELECT l.label_type, s.step_id FROM labels l LEFT JOIN label_steps s "
        "ON s.label_id = l.id WHERE l.asset_id = ? AND l.author_id = ? AND l.id <> ? "
        "AND l.label_type IN ('DEFAULT', 'REVIEW')",
        (item.asset_id, item.author_id, item.label_id),
    ).fetchall()
    for label_type, step_id in rows:
        if step_id == "":  # a honeypot's answer: made at no step
            continue
        if step_id is None:  # written before steps were recorded: the step of its type
            made = first if label_type == "DEFAULT" else review
            step_id = made.id if made else None
        if step_id is not None and step_id != step.id:
            other = flow.by_id.get(step_id)
            raise ServerError(
                f"[BlockedByEnforceStepSeparation] You can't edit this asset as you already "
                f"worked on another step: {_email(c, item.author_id)} made a label of asset "
                f'"{item.asset_id}" at step "{other.name if other else step_id}", and the '
                f"project enforces step separation, so they cannot also work at step "
                f'"{step.name}". Another member must, or an ADMIN turns enforce_step_separation '
                "off (update_project_workflow). Nothing was written.",
                "FORBIDDEN",
                {"reason": "BlockedByEnforceStepSeparation"},
            )


def _email(c: Conn, user_id: str) -> str:
    row = c.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return str(row[0]) if row else user_id
