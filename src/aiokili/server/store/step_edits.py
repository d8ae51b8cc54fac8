"""Changes to a project's workflow steps: ``editProjectWorkflowSettings`` (creates, updates,
deletes, ``enforceStepSeparation``), ``addReviewStep``, ``updateLabelingStepProperties``,
``updateReviewStepProperties``, ``deleteStep``, ``renameStep``.

Each change is applied to a draft of the steps, which must then be a workflow the platform
runs (V2: one labeling step, first, then review steps), or nothing is written:

* the first step is the labeling step (type ``DEFAULT``); it is the only one, and it can
  be neither deleted nor given another type;
* at least one review step stays;
* names are not empty and differ;
* a step that holds assets (an asset's current step) is neither deleted nor given another
  type: finish or send back its assets first;
* coverages are percentages (0-100): ``consensusCoverage`` of the labeling step (with
  ``numberOfExpectedLabelsForConsensus`` >= 2 when above 0; 0 or null turns consensus
  off and clears both), ``stepCoverage`` of a review step;
* a review step sends assets back (``sendBackStepId``) to a step before it (the labeling
  step when none is set, or when its send-back step is deleted);
* assignees are user ids of members of the project, and a review step takes no LABELER;
* step groups (``stepGroupId``) are the multi-group workflow's (V3): refused.

Deletes are applied first, then updates, then creates (added at the end, in order), so one
call can replace every step but the first, as ``copy_workflow_from_project`` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ServerError
from . import steps
from .columns import upsert_sql
from .conn import Conn
from .db import marks, new_id, now, require_project

_STEP_UPSERT = upsert_sql(
    "project_steps",
    ("id", "project_id", "name", "type", "position", "consensus_coverage", "expected_labels",
     "step_coverage", "send_back_step_id", "use_honeypot"),
    ("id",),
)  # fmt: skip

# WorkflowStepInput key -> Draft attribute
_SETTINGS = {
    "consensusCoverage": "consensus_coverage",
    "numberOfExpectedLabelsForConsensus": "expected_labels",
    "stepCoverage": "step_coverage",
    "sendBackStepId": "send_back_step_id",
    "useHoneypot": "use_honeypot",
}


@dataclass
class Draft:
    """A step being changed (``assignees`` None: unchanged)."""

    id: str
    name: str
    type: str
    consensus_coverage: int | None = None
    expected_labels: int | None = None
    step_coverage: int | None = None
    send_back_step_id: str | None = None
    use_honeypot: bool | None = None
    assignees: list[str] | None = None
    new: bool = False
    changed: set[str] = field(default_factory=set)


class Workflow:
    """The steps of one project, changed in memory, checked, then written."""

    def __init__(self, c: Conn, project_id: str) -> None:
        require_project(c, project_id)
        self.c, self.project_id = c, project_id
        self.before = steps.flow(c, project_id).steps
        if not self.before:
            raise ServerError(
                f'Project "{project_id}" uses the legacy workflow (V1), which has no steps to '
                "change: create a new project for the multi-step workflow."
            )
        self.drafts = [
            Draft(s.id, s.name, s.type, s.consensus_coverage, s.expected_labels,
                  s.step_coverage, s.send_back_step_id, s.use_honeypot)
            for s in self.before
        ]  # fmt: skip
        self.deleted: list[str] = []

    # ------------------------------------------------------------------ changes
    def step(self, step_id: Any, arg: str) -> Draft:
        found = next((d for d in self.drafts if d.id == step_id), None)
        if found is None:
            known = ", ".join(f'"{d.name}" ({d.id})' for d in self.drafts)
            raise ServerError(
                f'{arg}: no step "{step_id}" in project "{self.project_id}". Its steps: {known}.',
                "NOT_FOUND",
            )
        return found

    def delete(self, step_id: Any, arg: str) -> None:
        draft = self.step(step_id, arg)
        if draft is self.drafts[0]:
            raise ServerError(
                f'{arg}: step "{draft.name}" is the labeling step, the first of the workflow: '
                "it cannot be deleted (rename it or change its settings instead)."
            )
        held = self._held(draft.id)
        if held:
            raise ServerError(
                f'{arg}: step "{draft.name}" holds {held} asset(s): it cannot be deleted while '
                "assets are in it. Finish them (review them) or send them back "
                "(send_back_to_queue) first. Nothing was changed."
            )
        self.drafts.remove(draft)
        self.deleted.append(draft.id)
        for other in self.drafts:  # they send assets back to the labeling step again
            if other.send_back_step_id == draft.id:
                other.send_back_step_id = None

    def update(self, data: Mapping[str, Any], arg: str) -> Draft:
        draft = self.step(data.get("id"), f"{arg}.id")
        self._set(draft, data, arg)
        return draft

    def create(self, data: Mapping[str, Any], arg: str) -> Draft:
        for key in ("name", "type"):
            if not data.get(key):
                raise ServerError(f"{arg}.{key} is required to create a step.")
        draft = Draft(new_id(), "", str(data["type"]), new=True)
        if draft.type == "REVIEW" and data.get("stepCoverage") is None:
            draft.step_coverage = 100  # a new review step reviews every asset
        self._set(draft, data, arg)
        self.drafts.append(draft)
        return draft

    def rename(self, step_id: Any, name: Any, arg: str) -> Draft:
        draft = self.step(step_id, f"{arg}.stepId")
        self._set(draft, {"name": name}, arg)
        return draft

    def _set(self, draft: Draft, data: Mapping[str, Any], arg: str) -> None:
        if data.get("stepGroupId") is not None:
            raise ServerError(
                f"{arg}.stepGroupId: step groups are the multi-group workflow's (V3); project "
                f'"{self.project_id}" uses the multi-step workflow (V2), which has none.'
            )
        if "name" in data and data["name"] is not None:
            draft.name = str(data["name"]).strip()
            draft.changed.add("name")
        if data.get("type") is not None and data["type"] != draft.type:
            held = self._held(draft.id) if not draft.new else 0
            if held:
                raise ServerError(
                    f'{arg}.type: step "{draft.name}" holds {held} asset(s): its type cannot '
                    "change while assets are in it."
                )
            draft.type = str(data["type"])
            draft.changed.add("type")
        for key, name in _SETTINGS.items():
            if key in data:
                setattr(draft, name, data[key])
                draft.changed.add(name)
        if "consensusCoverage" in data and not data["consensusCoverage"]:
            draft.consensus_coverage = draft.expected_labels = None  # consensus off
        if data.get("assignees") is not None:
            draft.assignees = list(dict.fromkeys(str(a) for a in data["assignees"]))

    def enforce_step_separation(self, value: bool) -> None:
        self.c.execute(
            "UPDATE projects SET props = json_set(props, '$.enforceStepSeparation', json(?)), "
            "updated_at = ? WHERE id = ?",
            (json.dumps(bool(value)), now(), self.project_id),
        )

    # ------------------------------------------------------------------ checks
    def _held(self, step_id: str) -> int:
        row = self.c.execute(
            "SELECT COUNT(*) FROM assets WHERE project_id = ? AND step_id = ?",
            (self.project_id, step_id),
        ).fetchone()
        return int(row[0])

    def check(self) -> None:
        drafts = self.drafts
        if drafts[0].type != "DEFAULT" or sum(d.type == "DEFAULT" for d in drafts) != 1:
            raise ServerError(
                "The multi-step workflow (V2) has one labeling step (type DEFAULT), the first, "
                f"then review steps (type REVIEW); these steps would be: "
                f"{', '.join(f'{d.name} ({d.type})' for d in drafts)}. Nothing was changed."
            )
        if not any(d.type == "REVIEW" for d in drafts):
            raise ServerError(
                "Cannot delete the last review step if only one review step is remaining: a "
                "workflow keeps at least one review step. Nothing was changed."
            )
        names = [d.name for d in drafts]
        if any(not n for n in names):
            raise ServerError("A step's name cannot be empty. Nothing was changed.")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ServerError(
                f"Step names must differ: {', '.join(map(repr, twice))} would name several "
                "steps. Nothing was changed."
            )
        for index, draft in enumerate(drafts):
            self._check_settings(draft, drafts[:index])
        self._check_assignees()

    def _check_settings(self, d: Draft, before: Sequence[Draft]) -> None:
        review = d.type == "REVIEW"
        for name, value in (("consensusCoverage", d.consensus_coverage),
                            ("stepCoverage", d.step_coverage)):  # fmt: skip
            if value is not None and not 0 <= value <= 100:
                raise ServerError(
                    f'Step "{d.name}": {name} is a percentage, from 0 to 100 (got {value}).'
                )
        if review and (d.consensus_coverage or d.expected_labels is not None):
            if {"consensus_coverage", "expected_labels"} & d.changed:
                raise ServerError(
                    f'Step "{d.name}" is a review step: consensus is a labeling step\'s '
                    "setting (consensusCoverage, numberOfExpectedLabelsForConsensus)."
                )
        if (
            not review
            and ({"step_coverage", "send_back_step_id"} & d.changed)
            and (d.step_coverage is not None or d.send_back_step_id is not None)
        ):
            raise ServerError(
                f'Step "{d.name}" is the labeling step: stepCoverage and sendBackStepId are '
                "review steps' settings."
            )
        if d.consensus_coverage and (d.expected_labels is None or d.expected_labels < 2):
            raise ServerError(
                f'Step "{d.name}": a consensus (consensusCoverage {d.consensus_coverage}) needs '
                "numberOfExpectedLabelsForConsensus of 2 or more "
                f"(got {d.expected_labels})."
            )
        if d.send_back_step_id is not None and d.send_back_step_id not in {b.id for b in before}:
            known = ", ".join(f'"{b.name}" ({b.id})' for b in before)
            raise ServerError(
                f'Step "{d.name}": sendBackStepId "{d.send_back_step_id}" is not a step before '
                f"it; assets can be sent back to {known}."
            )

    def _check_assignees(self) -> None:
        given = {a for d in self.drafts for a in d.assignees or ()}
        roles = dict(
            self.c.execute(
                f"SELECT user_id, role FROM project_users WHERE project_id = ? "
                f"AND user_id IN ({marks(len(given))})",
                [self.project_id, *given],
            ).fetchall()
        )
        for d in self.drafts:
            for user_id in d.assignees or ():
                if user_id not in roles:
                    raise ServerError(
                        f'Step "{d.name}": assignee "{user_id}" is not a member of project '
                        f'"{self.project_id}". Assignees are user ids of members (add one with '
                        "append_to_roles). Nothing was changed.",
                        "NOT_FOUND",
                    )
                if d.type == "REVIEW" and roles[user_id] == "LABELER":
                    raise ServerError(
                        f'Step "{d.name}" is a review step: "{user_id}" is a LABELER of the '
                        "project and cannot review (make them REVIEWER first). Nothing was "
                        "changed."
                    )

    # ------------------------------------------------------------------ writing
    def save(self) -> None:
        """Check the drafts, then write them."""
        self.check()
        c = self.c
        for step_id in self.deleted:
            c.execute("DELETE FROM step_assignees WHERE step_id = ?", (step_id,))
            c.execute("DELETE FROM project_steps WHERE id = ?", (step_id,))
        for position, d in enumerate(self.drafts):
            c.execute(
                _STEP_UPSERT,
                (d.id, self.project_id, d.name, d.type, position, d.consensus_coverage,
                 d.expected_labels, d.step_coverage, d.send_back_step_id,
                 None if d.use_honeypot is None else int(d.use_honeypot)),
            )  # fmt: skip
            if d.assignees is not None:
                c.execute("DELETE FROM step_assignees WHERE step_id = ?", (d.id,))
                c.executemany(
                    "INSERT INTO step_assignees VALUES (?, ?, ?)",
                    [(d.id, user_id, i) for i, user_id in enumerate(d.assignees)],
                )
        c.execute("UPDATE projects SET updated_at = ? WHERE id = ?", (now(), self.project_id))


# ---------------------------------------------------------------- the mutations
def edit_settings(c: Conn, data: Mapping[str, Any]) -> str:
    """``editProjectWorkflowSettings``; the project id."""
    flow = Workflow(c, str(data["projectId"]))
    given = data.get("steps") or {}
    for i, step_id in enumerate(given.get("deletes") or []):
        flow.delete(step_id, f"input.steps.deletes[{i}]")
    for i, update in enumerate(given.get("updates") or []):
        flow.update(update, f"input.steps.updates[{i}]")
    for i, create in enumerate(given.get("creates") or []):
        flow.create(create, f"input.steps.creates[{i}]")
    flow.save()
    if data.get("enforceStepSeparation") is not None:
        flow.enforce_step_separation(bool(data["enforceStepSeparation"]))
    return flow.project_id


def add_review_step(c: Conn, data: Mapping[str, Any]) -> str:
    """``addReviewStep``: a review step at the end of the workflow; the project id."""
    flow = Workflow(c, str(data["projectId"]))
    settings = {k: data[k] for k in ("name", "assignees", "stepCoverage", "useHoneypot",
                                     "sendBackStepId", "stepGroupId") if k in data}  # fmt: skip
    flow.create({**settings, "type": "REVIEW"}, "input")
    flow.save()
    return flow.project_id


def update_properties(c: Conn, data: Mapping[str, Any], kind: str) -> str:
    """``updateLabelingStepProperties`` (``kind`` DEFAULT) / ``updateReviewStepProperties``
    (REVIEW); the project id."""
    flow = Workflow(c, str(data["projectId"]))
    draft = flow.step(data.get("stepId"), "input.stepId")
    if draft.type != kind:
        which = "a labeling" if kind == "DEFAULT" else "a review"
        raise ServerError(
            f'input.stepId: step "{draft.name}" is a {draft.type} step, not {which} step: use '
            f"{'updateReviewStepProperties' if kind == 'DEFAULT' else 'updateLabelingStepProperties'}."
        )
    flow.update({**{k: v for k, v in data.items() if k != "stepId"}, "id": draft.id}, "input")
    flow.save()
    return flow.project_id


def delete_step(c: Conn, data: Mapping[str, Any]) -> str:
    """``deleteStep``; the project id."""
    flow = Workflow(c, str(data["projectId"]))
    flow.delete(data.get("stepId"), "input.stepId")
    flow.save()
    return flow.project_id


def rename_step(c: Conn, data: Mapping[str, Any]) -> str:
    """``renameStep``; the project id."""
    flow = Workflow(c, str(data["projectId"]))
    flow.rename(data.get("stepId"), data.get("newName"), "input.newName")
    flow.save()
    return flow.project_id
