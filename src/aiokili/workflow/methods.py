"""Workflow step methods of :class:`~aiokili.AsyncKili`: read the steps, change them
(create, update, delete, rename, review steps, properties), assign reviewers and labelers.

Steps are found by ``step_id`` or ``step_name`` (exactly one), checked locally against the
project's steps (one request) before any change is sent. Assignees are given by email and
looked up among the project's ACTIVATED members, as the official SDK does: an email that is
not one (an organization ADMIN is ``ORG_ADMIN``, not ACTIVATED) or, for a review step, a
LABELER's, is left out with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .._core.base import Domain
from .._core.calls import user_stacklevel
from .._core.inputs import as_list, build, check_bools, check_int
from .._core.selection import build_selection, page_model, with_selection
from .._generated import input_types as inputs
from .._generated.operations import WORKFLOW_OF_PROJECT_GQL
from ..errors import InvalidResponseError, KiliInputError
from ..models import ProjectWorkflow, Step, StepType, WorkflowVersion
from .steps import (
    Member,
    WorkflowStepCreate,
    WorkflowStepDesignation,
    WorkflowStepUpdate,
    checked,
    find_step,
    ids_of,
    members,
    no_group,
    percent,
    text,
    workflow,
)

_NOT_REVIEWERS = "These emails were not added (not found or can not review): "
_NOT_MEMBERS = "These emails were not added (not project members): "
_NOT_ASSIGNED = "These emails were not removed because they are not assigned to this step: "
_WHO = (
    " (a step takes ACTIVATED members of the project; a review step, no LABELER; an "
    "organization ADMIN is not an ACTIVATED member)"
)


def _warn(prefix: str, emails: Sequence[str], why: str = "") -> None:
    if emails:
        warnings.warn(prefix + ", ".join(emails) + why, UserWarning, stacklevel=user_stacklevel())


def _pick(
    emails: Sequence[str], known: dict[str, Member], *, reviewers: bool
) -> tuple[list[str], list[str]]:
    """(user ids, emails) of the members among ``emails`` a step can take; warns about the rest."""
    ids, added, left = [], [], []
    for email in emails:
        member = known.get(email)
        if member is not None and not (reviewers and member.role == "LABELER"):
            ids.append(member.user_id)
            added.append(email)
        else:
            left.append(email)
    _warn(_NOT_REVIEWERS if reviewers else _NOT_MEMBERS, left, _WHO)
    return ids, added


def _without(step: Step, emails: list[str]) -> tuple[list[str], list[str]]:
    """(emails removed, assignee ids kept) once ``emails`` leave the step; warns about the rest."""
    by_email = {a.email: a.id for a in step.assignees if a.email}
    removed = [e for e in emails if e in by_email]
    _warn(_NOT_ASSIGNED, [e for e in emails if e not in by_email])
    gone = {by_email[e] for e in removed}
    kept = [a.id for a in step.assignees if a.id not in gone]
    if removed and not kept:
        raise KiliInputError(
            "Cannot remove all assignees from a step; a step must keep at least one "
            f"assignee (step {step.name!r}): add another first. Nothing was removed."
        )
    return removed, kept


def _step_in(
    project: ProjectWorkflow, *, step_id: str | None = None, name: str | None = None
) -> Step:
    """The step of a mutation's answer with this id (or name)."""
    for step in project.steps:
        if (step_id is not None and step.id == step_id) or (name is not None and step.name == name):
            return step
    raise InvalidResponseError(
        f"the project's steps after the change do not list {step_id or name!r}."
    )


def _create(
    project: ProjectWorkflow, step: WorkflowStepCreate, known: dict[str, Member], arg: str
) -> inputs.WorkflowStepInput:
    if step.get("step_group_id") is not None:
        no_group(project, step["step_group_id"])
    return build(
        inputs.WorkflowStepInput,
        name=text(f"{arg}['name']", step["name"]),
        type_=StepType(step["type"]),
        assignees=ids_of(step["assignees"], known, f"{arg}['assignees']"),
        consensus_coverage=percent("consensus_coverage", step.get("consensus_coverage")),
        number_of_expected_labels_for_consensus=step.get("number_of_expected_labels_for_consensus"),
        step_coverage=percent("step_coverage", step.get("step_coverage")),
        send_back_step_id=step.get("send_back_step_id"),
        step_group_id=step.get("step_group_id"),
    )


def _update(
    project: ProjectWorkflow, step: WorkflowStepUpdate, known: dict[str, Member], arg: str
) -> inputs.WorkflowStepInput:
    step_id, name = step.get("id"), step.get("name")
    if step_id is None:
        if name is None:
            raise KiliInputError(f"{arg}: a step to update is given by its id, or by its name.")
        step_id = find_step(project, None, name, step.get("group_name")).id
        name = None  # it named the step: no rename
    elif step.get("group_name") is not None:
        raise KiliInputError(
            f"{arg}: group_name goes with a step given by its name, not with one given by its id."
        )
    assignees = step.get("assignees")
    kind = step.get("type")
    return build(
        inputs.WorkflowStepInput,
        id=step_id,
        name=name,
        type_=None if kind is None else StepType(kind),
        assignees=None if assignees is None else ids_of(assignees, known, f"{arg}['assignees']"),
        consensus_coverage=percent("consensus_coverage", step.get("consensus_coverage")),
        number_of_expected_labels_for_consensus=step.get("number_of_expected_labels_for_consensus"),
        step_coverage=percent("step_coverage", step.get("step_coverage")),
        send_back_step_id=step.get("send_back_step_id"),
    )


def _deleted(project: ProjectWorkflow, step: str | WorkflowStepDesignation) -> str:
    if isinstance(step, str):
        if any(s.id == step for s in project.steps):
            return step
        return find_step(project, None, step).id
    return find_step(project, None, step["name"], step.get("group_name")).id


class WorkflowMethods(Domain):
    """Workflow step methods of :class:`~aiokili.AsyncKili` (the multi-step workflow, V2)."""

    async def get_steps(self, project_id: str, fields: Sequence[str] | None = None) -> list[Step]:
        """The project's workflow steps, in order: the labeling step, then review steps.

        Args:
            project_id: the project (NotFoundError if unknown, or if it uses the legacy
                workflow, which has no steps).
            fields: field paths of :class:`~aiokili.Step` (``"name"``,
                ``"assignees.email"``; the official SDK's ``"steps.name"`` too); default:
                every field. A field left out is not there (``id`` always is).
        """
        if fields is None:
            return list((await workflow(self._core, project_id)).steps)
        if isinstance(fields, str) or not isinstance(fields, Sequence):
            raise KiliInputError("fields= takes a list of field names, e.g. ['name', 'type'].")
        paths = tuple(f if str(f).startswith("steps.") else f"steps.{f}" for f in fields)
        selection = build_selection(ProjectWorkflow, paths)
        text("project_id", project_id)
        result = await self._core.gql.run_typed(
            with_selection(WORKFLOW_OF_PROJECT_GQL, "ProjectWorkflow", selection.text),
            "WorkflowOfProject",
            {"where": inputs.ProjectWhere(id=project_id)},
            page_model(ProjectWorkflow, selection),
        )
        if not result.data or not result.data[0].steps:
            await workflow(self._core, project_id)  # raises the NotFoundError
        steps: list[Step] = list(result.data[0].steps)
        return steps

    async def update_project_workflow(
        self,
        project_id: str,
        enforce_step_separation: bool | None = None,
        create_steps: Sequence[WorkflowStepCreate] | None = None,
        update_steps: Sequence[WorkflowStepUpdate] | None = None,
        delete_steps: Sequence[str | WorkflowStepDesignation] | None = None,
    ) -> ProjectWorkflow:
        """Change the project's workflow in one call; return it.

        Deletions apply first, then updates, then creations (added at the end, in order).
        The server refuses (nothing is changed) a workflow it does not run: see the docs'
        "Workflow steps" for the rules.

        Args:
            enforce_step_separation: True: a user who labelled an asset at one step cannot
                work on it at another.
            create_steps: steps to add (:class:`~aiokili.WorkflowStepCreate`).
            update_steps: steps to change, each by ``id`` or ``name``
                (:class:`~aiokili.WorkflowStepUpdate`; with an ``id``, ``name`` renames).
            delete_steps: steps to delete, by id or name (neither the labeling step nor a
                step that holds assets).
        """
        check_bools(enforce_step_separation=enforce_step_separation)
        creates = checked(list[WorkflowStepCreate] | None, create_steps, "create_steps")
        updates = checked(list[WorkflowStepUpdate] | None, update_steps, "update_steps")
        deletes = checked(list[str | WorkflowStepDesignation] | None, delete_steps, "delete_steps")
        if enforce_step_separation is None and not (creates or updates or deletes):
            raise KiliInputError(
                "update_project_workflow() changes nothing: give enforce_step_separation, "
                "create_steps, update_steps or delete_steps."
            )
        project = await workflow(self._core, project_id)
        given = [a for s in [*(creates or []), *(updates or [])] for a in s.get("assignees") or []]
        known = await members(self._core, project_id) if any("@" in a for a in given) else {}
        steps = inputs.WorkflowStepsInput(
            creates=None if creates is None else [
                _create(project, s, known, f"create_steps[{i}]") for i, s in enumerate(creates)
            ],
            updates=None if updates is None else [
                _update(project, s, known, f"update_steps[{i}]") for i, s in enumerate(updates)
            ],
            deletes=None if deletes is None else list(dict.fromkeys(
                _deleted(project, s) for s in deletes
            )),
        )  # fmt: skip
        data = inputs.EditProjectWorkflowSettingsInput(
            project_id=project_id, enforce_step_separation=enforce_step_separation, steps=steps
        )
        return (await self._core.gql.edit_project_workflow_settings(input=data)).data

    async def add_review_step(
        self,
        project_id: str,
        step_name: str,
        assignees: Sequence[str],
        step_coverage: int | None = None,
        use_honeypot: bool | None = None,
        send_back_to_step: str | None = None,
        group_name: str | None = None,
    ) -> Step:
        """Add a review step at the end of the workflow; return it.

        Args:
            step_name: its name (not one of the project's steps already).
            assignees: emails of the reviewers (ACTIVATED members, not LABELERs; the others
                are left out with a warning).
            step_coverage: % of the assets that reach it it reviews (0-100; default 100).
            use_honeypot: whether honeypots are used at this step.
            send_back_to_step: name of the step it sends assets back to (default: the
                labeling step).
            group_name: the multi-group workflow's (V3) only.
        """
        name = text("step_name", step_name)
        emails = as_list("assignees", assignees, str) or []
        check_bools(use_honeypot=use_honeypot)
        coverage = percent("step_coverage", step_coverage)
        project = await workflow(self._core, project_id)
        no_group(project, group_name)
        back = None if send_back_to_step is None else find_step(project, None, send_back_to_step)
        ids, _ = _pick(emails, await members(self._core, project_id), reviewers=True)
        data = build(
            inputs.AddReviewStepInput,
            project_id=project_id,
            name=name,
            assignees=ids,
            step_coverage=coverage,
            use_honeypot=use_honeypot,
            send_back_step_id=back.id if back else None,
        )
        result = (await self._core.gql.add_review_step(input=data)).data
        return _step_in(result, name=name.strip())

    async def add_reviewers_to_step(
        self,
        project_id: str,
        step_name: str | None = None,
        emails: Sequence[str] | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> list[str]:
        """Add reviewers (by email) to a review step; return the emails added.

        An email that is not an ACTIVATED member's, or a LABELER's, is left out with a
        warning. Give the step by ``step_name`` or ``step_id``.
        """
        return await self._change(
            project_id, step_name, emails, group_name, step_id, review=True, add=True
        )

    async def add_labelers_to_step(
        self,
        project_id: str,
        step_name: str | None = None,
        emails: Sequence[str] | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> list[str]:
        """Add labelers (by email) to a labeling step; return the emails added.

        The multi-group workflow (V3) only, as in the official SDK: on a V2 project this
        raises KiliInputError; set a labeling step's assignees with
        ``update_project_workflow(update_steps=[{"id": ..., "assignees": [...]}])``.
        """
        return await self._change(
            project_id, step_name, emails, group_name, step_id, review=False, add=True
        )

    async def remove_reviewers_from_step(
        self,
        project_id: str,
        step_name: str | None = None,
        emails: Sequence[str] | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> list[str]:
        """Remove reviewers (by email) from a review step; return the emails removed.

        An email not assigned to the step is left out with a warning; a step keeps at least
        one assignee (KiliInputError, nothing removed).
        """
        return await self._change(
            project_id, step_name, emails, group_name, step_id, review=True, add=False
        )

    async def remove_labelers_from_step(
        self,
        project_id: str,
        step_name: str | None = None,
        emails: Sequence[str] | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> list[str]:
        """Remove labelers (by email) from a labeling step; return the emails removed.

        The multi-group workflow (V3) only, as ``add_labelers_to_step``.
        """
        return await self._change(
            project_id, step_name, emails, group_name, step_id, review=False, add=False
        )

    async def _target(
        self,
        project_id: str,
        step_name: str | None,
        group_name: str | None,
        step_id: str | None,
        *,
        review: bool,
    ) -> Step:
        """The step to add assignees to or remove them from, of the right type."""
        project = await workflow(self._core, project_id)
        if not review and project.workflow_version != WorkflowVersion.V3:
            raise KiliInputError(
                "Assigning labelers to a step requires the multi-group workflow (V3); project "
                f"{project_id!r} uses {project.workflow_version}. Set a labeling step's "
                "assignees with update_project_workflow(update_steps=[{'id': <step id>, "
                "'assignees': [<user ids or emails>]}])."
            )
        step = find_step(project, step_id, step_name, group_name)
        if review and step.type_ != StepType.REVIEW:
            raise KiliInputError(
                f"The step must be a review step, can't add or remove reviewers at the label "
                f"step {step.name!r}."
            )
        if not review and step.type_ != StepType.DEFAULT:
            raise KiliInputError(
                f"The step must be a labeling step, can't add or remove labelers at the review "
                f"step {step.name!r}."
            )
        return step

    async def _set_assignees(self, project_id: str, step: Step, ids: list[str]) -> None:
        update = inputs.WorkflowStepInput(id=step.id, assignees=ids)
        data = inputs.EditProjectWorkflowSettingsInput(
            project_id=project_id, steps=inputs.WorkflowStepsInput(updates=[update])
        )
        await self._core.gql.edit_project_workflow_settings(input=data)

    async def _change(
        self,
        project_id: str,
        step_name: str | None,
        emails: Sequence[str] | None,
        group_name: str | None,
        step_id: str | None,
        *,
        review: bool,
        add: bool,
    ) -> list[str]:
        """Adds ``emails`` to (or removes them from) a step's assignees; the emails changed."""
        given = as_list("emails", emails, str)
        if given is None:
            who = "members to add" if add else "assignees to remove"
            raise KiliInputError(f"emails is required: the emails of the {who}.")
        step = await self._target(project_id, step_name, group_name, step_id, review=review)
        current = [a.id for a in step.assignees]
        if add:
            ids, changed = _pick(given, await members(self._core, project_id), reviewers=review)
            wanted = list(dict.fromkeys(current + ids))
        else:
            changed, wanted = _without(step, given)
        if wanted != current:
            await self._set_assignees(project_id, step, wanted)
        return changed

    async def rename_step(
        self,
        project_id: str,
        step_name: str | None = None,
        new_name: str | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> Step:
        """Rename a step (given by ``step_name`` or ``step_id``) to ``new_name``; return it."""
        name = text("new_name", new_name)
        project = await workflow(self._core, project_id)
        step = find_step(project, step_id, step_name, group_name)
        data = inputs.RenameStepInput(project_id=project_id, step_id=step.id, new_name=name)
        return _step_in((await self._core.gql.rename_step(input=data)).data, step_id=step.id)

    async def delete_last_step(self, project_id: str) -> ProjectWorkflow:
        """Delete the workflow's last step (a review step); return the workflow.

        Refused (KiliInputError) when it is the only review step; the server refuses a step
        that holds assets.
        """
        project = await workflow(self._core, project_id)
        if len(project.steps) <= 2:
            raise KiliInputError(
                "Cannot delete the last review step if only one review step is remaining: "
                f"project {project_id!r} has {len(project.steps)} steps."
            )
        data = inputs.DeleteStepInput(project_id=project_id, step_id=project.steps[-1].id)
        return (await self._core.gql.delete_step(input=data)).data

    async def update_labeling_step_properties(
        self,
        project_id: str,
        step_name: str | None = None,
        consensus_coverage: int | None = None,
        number_of_expected_labels_for_consensus: int | None = None,
        use_honeypot: bool | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> Step:
        """Change the labeling step's consensus and honeypot settings; return the step.

        Args:
            consensus_coverage: % of assets labelled by several labelers (0-100; 0: no
                consensus).
            number_of_expected_labels_for_consensus: labels an asset in consensus needs
                (2 or more) before it moves on.
            use_honeypot: whether honeypots are used at this step.
        """
        coverage = percent("consensus_coverage", consensus_coverage)
        expected = number_of_expected_labels_for_consensus
        if expected is not None:
            check_int("number_of_expected_labels_for_consensus", expected, 1)
        check_bools(use_honeypot=use_honeypot)
        project = await workflow(self._core, project_id)
        step = find_step(project, step_id, step_name, group_name)
        if step.type_ != StepType.DEFAULT:
            raise KiliInputError(
                f"Step {step.name!r} is a review step: use update_review_step_properties."
            )
        data = build(
            inputs.UpdateLabelingStepPropertiesInput,
            project_id=project_id,
            step_id=step.id,
            consensus_coverage=coverage,
            number_of_expected_labels_for_consensus=expected,
            use_honeypot=use_honeypot,
        )
        result = await self._core.gql.update_labeling_step_properties(input=data)
        return _step_in(result.data, step_id=step.id)

    async def update_review_step_properties(
        self,
        project_id: str,
        step_name: str | None = None,
        assignees: Sequence[str] | None = None,
        step_coverage: int | None = None,
        send_back_to_step: str | None = None,
        use_honeypot: bool | None = None,
        group_name: str | None = None,
        step_id: str | None = None,
    ) -> Step:
        """Change a review step's settings; return the step.

        Args:
            assignees: emails of its reviewers, replacing the current ones (ACTIVATED
                members, not LABELERs; the others are left out with a warning).
            step_coverage: % of the assets that reach it it reviews (0-100).
            send_back_to_step: id (or name) of an earlier step it sends assets back to.
            use_honeypot: whether honeypots are used at this step.
        """
        coverage = percent("step_coverage", step_coverage)
        emails = as_list("assignees", assignees, str)
        check_bools(use_honeypot=use_honeypot)
        project = await workflow(self._core, project_id)
        step = find_step(project, step_id, step_name, group_name)
        if step.type_ != StepType.REVIEW:
            raise KiliInputError(
                f"Step {step.name!r} is the labeling step: use update_labeling_step_properties."
            )
        back: Any = send_back_to_step
        if back is not None and not any(s.id == back for s in project.steps):
            back = find_step(project, None, text("send_back_to_step", back)).id
        ids = None
        if emails is not None:
            ids, _ = _pick(emails, await members(self._core, project_id), reviewers=True)
        data = build(
            inputs.UpdateReviewStepPropertiesInput,
            project_id=project_id,
            step_id=step.id,
            assignees=ids,
            step_coverage=coverage,
            send_back_step_id=back,
            use_honeypot=use_honeypot,
        )
        result = await self._core.gql.update_review_step_properties(input=data)
        return _step_in(result.data, step_id=step.id)
