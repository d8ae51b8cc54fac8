"""GraphQL resolvers of the workflow steps: the mutations that change them (the rules are in
``store/step_edits.py``), a step's assignees and a project's ``enforceStepSeparation``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ariadne import MutationType, ObjectType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..store import step_edits
from ..store import steps as store_steps
from ..store.db import in_thread
from ..store.projects import ProjectRow

mutation = MutationType()
step_type = ObjectType("ProjectStep")
project_type = ObjectType("Project")


async def _changed(info: Info, change: Callable[..., str], data: dict[str, Any]) -> ProjectRow:
    """Run ``change`` (a ``step_edits`` function) in a write; the project, steps re-read."""
    store = context(info).store

    def write() -> str:
        with store.db.write() as c:
            return change(c, data)

    try:
        project_id = await store.db.run_write(write)
    finally:
        store.projects.step_cache.pop(str(data.get("projectId")), None)
    return await in_thread(store.projects.get, project_id)


@mutation.field("editProjectWorkflowSettings")
async def resolve_edit_settings(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    return await _changed(info, step_edits.edit_settings, input)


@mutation.field("addReviewStep")
async def resolve_add_review_step(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    return await _changed(info, step_edits.add_review_step, input)


@mutation.field("updateLabelingStepProperties")
async def resolve_update_labeling(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    change = functools.partial(step_edits.update_properties, kind="DEFAULT")
    return await _changed(info, change, input)


@mutation.field("updateReviewStepProperties")
async def resolve_update_review(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    change = functools.partial(step_edits.update_properties, kind="REVIEW")
    return await _changed(info, change, input)


@mutation.field("deleteStep")
async def resolve_delete_step(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    return await _changed(info, step_edits.delete_step, input)


@mutation.field("renameStep")
async def resolve_rename_step(_: Any, info: Info, input: dict[str, Any]) -> ProjectRow:
    return await _changed(info, step_edits.rename_step, input)


@step_type.field("assignees")
async def resolve_assignees(step: dict[str, Any], info: Info) -> list[dict[str, Any]]:
    """The step's assignees who are members of its project, in the order given."""
    db = context(info).store.db

    def read() -> list[dict[str, Any]]:
        with db.read() as c:
            return store_steps.assignees(c, [step["id"]])[step["id"]]

    return await in_thread(read)


@project_type.field("enforceStepSeparation")
def resolve_enforce_step_separation(project: ProjectRow, _: Info) -> bool:
    return bool(project.props.get("enforceStepSeparation", False))


bindables = [mutation, step_type, project_type]
