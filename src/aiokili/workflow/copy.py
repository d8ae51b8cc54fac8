"""``copy_workflow_from_project``: a project's steps and their settings given to another,
as the official SDK does it (reads, then one change of the destination's workflow, then
one more for the send-back steps)."""

from __future__ import annotations

from .._core.base import Domain
from .._generated import input_types as inputs
from ..errors import KiliInputError, NotFoundError
from ..models import ProjectUserStatus, ProjectWorkflow, Step, StepType, WorkflowVersion
from .steps import members, text, workflow


def _create(step: Step, assignees: list[str]) -> inputs.WorkflowStepInput:
    return inputs.WorkflowStepInput(
        name=step.name,
        type_=step.type_,
        assignees=assignees,
        consensus_coverage=step.consensus_coverage,
        number_of_expected_labels_for_consensus=step.number_of_expected_labels_for_consensus,
        step_coverage=step.step_coverage,
    )


class WorkflowCopyMethods(Domain):
    """``copy_workflow_from_project`` of :class:`~aiokili.AsyncKili`."""

    async def copy_workflow_from_project(
        self, destination_project_id: str, source_project_id: str
    ) -> ProjectWorkflow:
        """Give the destination project the source's workflow; return it.

        The destination's labeling step takes the source's first step's name and consensus
        settings; its other steps are deleted, and the source's other steps are created
        after it with their coverages and send-back steps. Assignees are not copied: a
        labeling step gets every ACTIVATED member of the destination, a review step every
        one who is not a LABELER. ``enforce_step_separation`` is copied.

        Refused (KiliInputError, nothing changed) when the projects are the same, the
        source has duplicate step names or several step groups, the destination is not on
        the multi-step workflow (V2), has labels, or has fewer ACTIVATED members than a
        consensus of the source expects.
        """
        dest_id = text("destination_project_id", destination_project_id)
        source_id = text("source_project_id", source_project_id)
        if dest_id == source_id:
            raise KiliInputError(
                f"Source and destination project IDs must be different. Got the same ID: {dest_id}"
            )
        source = await workflow(self._core, source_id)
        names = [s.name for s in source.steps]
        if len({s.step_group_id for s in source.steps}) > 1:
            raise KiliInputError(f"Source project {source_id} has several step groups: only a "
                                 "workflow with a single group can be copied.")  # fmt: skip
        if len(set(names)) != len(names):
            raise KiliInputError(
                f"Source project {source_id} has duplicate step names. Cannot reliably copy "
                "workflow with duplicate step names."
            )
        dest = await self._destination(dest_id, source)
        users = await members(self._core, dest_id)
        labelers = [m.user_id for m in users.values()]
        reviewers = [m.user_id for m in users.values() if m.role != "LABELER"]
        first, *rest = source.steps
        update = inputs.WorkflowStepInput(
            id=dest.steps[0].id,
            name=first.name,
            # 0 turns consensus off (the official SDK sends nulls, which this client drops)
            consensus_coverage=first.consensus_coverage or 0,
            number_of_expected_labels_for_consensus=first.number_of_expected_labels_for_consensus,
        )
        creates = [_create(s, labelers if s.type_ == StepType.DEFAULT else reviewers) for s in rest]
        data = inputs.EditProjectWorkflowSettingsInput(
            project_id=dest_id,
            enforce_step_separation=source.enforce_step_separation,
            steps=inputs.WorkflowStepsInput(
                creates=creates or None,
                updates=[update],
                deletes=[s.id for s in dest.steps[1:]] or None,
            ),
        )
        result = (await self._core.gql.edit_project_workflow_settings(input=data)).data
        return await self._send_back_steps(dest_id, source, result)

    async def _destination(self, dest_id: str, source: ProjectWorkflow) -> ProjectWorkflow:
        """The destination's workflow, checked: V2, no label, enough members for consensus."""
        gql = self._core.gql
        found = (await gql.workflow_of_project(where=inputs.ProjectWhere(id=dest_id))).data
        if not found:
            raise NotFoundError.from_message(
                f"project ID: {dest_id}. The project does not exist, or you are not a member.",
                "NOT_FOUND",
            )
        dest = found[0]
        if dest.workflow_version != WorkflowVersion.V2 or not dest.steps:
            raise KiliInputError(
                f"Destination project {dest_id} does not use the multi-step workflow, the only "
                "one a workflow can be copied to."
            )
        where = inputs.LabelWhere(project=inputs.ProjectWhere(id=dest_id))
        labels = (await gql.count_labels(where=where)).data
        if labels:
            raise KiliInputError(
                f"Destination project {dest_id} already has {labels} label(s). Cannot copy "
                "workflow to a project that has already been labeled."
            )
        required = max(
            (s.number_of_expected_labels_for_consensus or 0 for s in source.steps), default=0
        )
        if required:
            member_where = inputs.ProjectUserWhere(
                project=inputs.ProjectWhere(id=dest_id),
                status=ProjectUserStatus.ACTIVATED,
                deleted=False,
            )
            count = (await gql.count_project_users(where=member_where)).data
            if count < required:
                raise KiliInputError(
                    f"Destination project {dest_id} has {count} activated labeler(s), but the "
                    f"source workflow requires {required} for consensus. Add more labelers "
                    "(append_to_roles) before copying the workflow."
                )
        return dest

    async def _send_back_steps(
        self, dest_id: str, source: ProjectWorkflow, copied: ProjectWorkflow
    ) -> ProjectWorkflow:
        """Point the copied steps at the steps they send back to (by name)."""
        names = {s.id: s.name for s in source.steps}
        new_ids = {s.name: s.id for s in copied.steps}
        updates = [
            inputs.WorkflowStepInput(
                id=new_ids[s.name], send_back_step_id=new_ids[names[s.send_back_step_id]]
            )
            for s in source.steps
            if s.send_back_step_id in names and s.name in new_ids
            and names[s.send_back_step_id] in new_ids
        ]  # fmt: skip
        if not updates:
            return copied
        data = inputs.EditProjectWorkflowSettingsInput(
            project_id=dest_id, steps=inputs.WorkflowStepsInput(updates=updates)
        )
        return (await self._core.gql.edit_project_workflow_settings(input=data)).data
