"""GraphQL resolvers of the asset mutations other than imports, and of the asset fields
they change.

``updatePropertiesInAssets``, ``deleteAssets`` (its uploaded files deleted once the rows
are), ``addAssetsToReview`` and ``sendAssetsBackToQueue``; an asset's priority, marks,
consensus use, resolutions and current step, and a label's ``isSentBackToQueue``. The
rules (what each action accepts, the legacy workflow) are in ``store/workflow.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ariadne import MutationType, ObjectType
from graphql import GraphQLResolveInfo as Info

from ..context import context, then
from ..store.db import in_thread
from ..store.workflow import WorkflowRepository
from ..store.workflow_state import AssetProperties

if TYPE_CHECKING:
    from ..store.assets import AssetRow
    from ..store.labels import LabelRow

mutation = MutationType()
asset_type = ObjectType("Asset")
label_type = ObjectType("Label")


def _repo(info: Info) -> WorkflowRepository:
    return WorkflowRepository(context(info).store.db)


@mutation.field("updatePropertiesInAssets")
async def resolve_update_properties(
    _: Any, info: Info, where: list[dict[str, Any]], data: list[dict[str, Any]]
) -> list[AssetRow]:
    ctx, repo = context(info), _repo(info)
    ids = await ctx.store.db.run_write(repo.update, where, data)
    rows = await in_thread(ctx.store.assets.by_ids, ids)
    return [rows[i] for i in ids]


@mutation.field("deleteAssets")
async def resolve_delete_assets(_: Any, info: Info, where: dict[str, Any]) -> dict[str, Any]:
    store = context(info).store
    outcome, keys = await store.db.run_write(_repo(info).delete, where)

    def unlink() -> None:
        for key in keys:
            store.files.blob(key).unlink(missing_ok=True)

    await in_thread(unlink)
    return outcome


@mutation.field("addAssetsToReview")
async def resolve_add_to_review(_: Any, info: Info, where: dict[str, Any]) -> dict[str, Any]:
    return await context(info).store.db.run_write(_repo(info).to_review, where)


@mutation.field("sendAssetsBackToQueue")
async def resolve_send_back(_: Any, info: Info, where: dict[str, Any]) -> dict[str, Any]:
    return await context(info).store.db.run_write(_repo(info).back_to_queue, where)


def _mark(name: str, default: Any) -> Any:
    def resolve(asset: AssetRow, info: Info) -> Any:
        value = getattr(asset, name)
        return default if value is None else value

    return resolve


asset_type.set_field("priority", _mark("priority", 0))
asset_type.set_field("consensusMark", _mark("consensus_mark", None))
asset_type.set_field("honeypotMark", _mark("honeypot_mark", None))

_NONE = AssetProperties()


def _property(name: str, default: Any) -> Any:
    def resolve(asset: AssetRow, info: Info) -> Any:
        found = context(info).asset_properties.get(asset.id)
        return then(found, lambda p: getattr(p or _NONE, name) or default)

    return resolve


asset_type.set_field("isUsedForConsensus", _property("is_used_for_consensus", False))
asset_type.set_field("resolution", _property("resolution", None))
asset_type.set_field("pageResolutions", _property("page_resolutions", []))


# Legacy (V1) projects store no step: theirs is derived from the status.
_STEPS = {
    "TODO": ("Labeling", "TO_DO"),
    "ONGOING": ("Labeling", "IN_PROGRESS"),
    "LABELED": ("Labeling", "DONE"),
    "TO_REVIEW": ("Review", "TO_DO"),
    "REVIEWED": ("Review", "DONE"),
}


@asset_type.field("currentStep")
def resolve_current_step(asset: AssetRow, info: Info) -> Any:
    """The step stored on the asset by ``steps.transition`` (what the step filters read)."""
    if asset.step_status is not None:
        return {
            "name": asset.step_name,
            "status": asset.step_status,
            "stepGroupName": asset.step_group_name,
        }
    name, status = _STEPS.get(asset.status, ("Labeling", "TO_DO"))
    if asset.status != "ONGOING":
        return {"name": name, "status": status, "stepGroupName": None}
    found = context(info).sent_back_assets.get(asset.id)
    return then(
        found,
        lambda back: {"name": name, "status": "REWORK" if back else status, "stepGroupName": None},
    )


@label_type.field("isSentBackToQueue")
def resolve_is_sent_back(label: LabelRow, info: Info) -> Any:
    return then(context(info).sent_back_labels.get(label.id), bool)


bindables = [mutation, asset_type, label_type]
