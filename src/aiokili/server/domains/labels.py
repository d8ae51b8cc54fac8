"""GraphQL resolvers of labels: listings (with their author and asset read alongside),
``appendManyLabels`` / ``appendToLabels``, honeypot answers, updates, deletion.

The marks they answer are computed by the store (``store/marks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context, selected
from ..errors import ServerError
from ..store.db import in_thread
from ..store.labels import LabelRow, NewLabel
from .common import constants, page, shown_author

if TYPE_CHECKING:
    from ..store.assets import AssetRow
    from ..store.users import UserRow

query = QueryType()
mutation = MutationType()
label_type = ObjectType("Label")
constants(
    label_type,
    {
        "jsonResponseUrl": None,
        "isLastForStep": None,
        "isSentBackToQueue": False,
        "inferenceMark": None,
        "annotations": [],
        # the local server keeps no history of edits: each label is its author's latest
        "isLatestLabelForUser": True,
    },
)


@query.field("labels")
async def resolve_labels(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[LabelRow]:
    ctx, wanted = context(info), selected(info)
    store = ctx.store

    def read() -> tuple[
        list[LabelRow], dict[str, UserRow], dict[str, AssetRow], dict[str, bool | None]
    ]:
        rows = store.labels.page(where, *page(kw))
        users = store.users.by_ids([r.author_id for r in rows]) if "author" in wanted else {}
        assets = store.assets.by_ids([r.asset_id for r in rows]) if "labelOf" in wanted else {}
        sent_back: dict[str, bool | None] = {}
        if "isSentBackToQueue" in wanted:
            sent_back = {r.id: None for r in rows}
            sent_back.update(store.workflow.sent_back_labels(list(sent_back)))
        return rows, users, assets, sent_back

    rows, users, assets, sent_back = await in_thread(read)
    ctx.users.prime_many(users)  # the per-label resolvers below then answer synchronously
    ctx.assets.prime_many(assets)
    ctx.sent_back_labels.prime_many(sent_back)
    return rows


@query.field("countLabels")
async def resolve_count_labels(_: Any, info: Info, where: dict[str, Any]) -> int:
    return await in_thread(context(info).store.labels.count, where)


@label_type.field("author")
def resolve_label_author(label: LabelRow, info: Info) -> Any:
    ctx = context(info)
    return shown_author(ctx, label.project_id, ctx.users.get(label.author_id))


@label_type.field("labelOf")
def resolve_label_of(label: LabelRow, info: Info) -> Any:
    return context(info).assets.get(label.asset_id)


@mutation.field("appendManyLabels")
async def resolve_append_many_labels(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> list[LabelRow]:
    ctx = context(info)
    items = data["labelsData"]
    labels = [
        NewLabel(
            asset_id=item["assetID"],
            author_id=item.get("authorID") or ctx.user.id,
            label_type=data["labelType"],
            json_response=item["jsonResponse"],
            model_name=item.get("modelName"),
            seconds_to_label=item.get("secondsToLabel"),
        )
        for item in items
    ]
    if not labels:
        return []
    allowed = where.get("idIn")
    if allowed is not None:
        outside = [lb.asset_id for lb in labels if lb.asset_id not in set(allowed)]
        if outside:
            raise ServerError(f"labelsData names assets outside where.idIn: {outside[:5]}.")
    project_id = (where.get("project") or {}).get("id")
    return await ctx.store.db.run_write(
        ctx.store.labels.append,
        project_id,
        labels,
        overwrite=bool(data.get("overwrite")),
        step_id=data.get("stepId"),
    )


def _asset_id(where: Mapping[str, Any]) -> str:
    if not where.get("id"):
        raise ServerError("where.id is required: give the asset id.")
    return str(where["id"])


@mutation.field("createHoneypot")
async def resolve_create_honeypot(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> LabelRow:
    ctx = context(info)
    label = NewLabel(_asset_id(where), ctx.user.id, "REVIEW", data["jsonResponse"])
    return await ctx.store.db.run_write(ctx.store.labels.create_honeypot, label)


@mutation.field("appendToLabels")
async def resolve_append_to_labels(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> LabelRow:
    ctx = context(info)
    label = NewLabel(
        asset_id=_asset_id(where),
        author_id=data.get("authorID") or ctx.user.id,
        label_type=data["labelType"],
        json_response=data["jsonResponse"],
        seconds_to_label=data.get("secondsToLabel"),
    )
    project_id = (where.get("project") or {}).get("id")
    append = ctx.store.labels.append
    row = (await ctx.store.db.run_write(append, project_id, [label], arg="data.jsonResponse"))[0]
    if data.get("skipped"):  # the labeller skipped the asset: it leaves the queue as skipped
        await ctx.store.db.run_write(ctx.store.labels.skip, row.asset_id)
    return row


@mutation.field("updatePropertiesInLabel")
async def resolve_update_properties_in_label(
    _: Any, info: Info, where: dict[str, Any], data: dict[str, Any]
) -> LabelRow:
    ctx = context(info)
    if not where.get("id"):
        raise ServerError("where.id is required: give the label id.")
    if data.get("isSentBackToQueue"):
        raise ServerError.not_implemented("data.isSentBackToQueue=true")
    names = {
        "jsonResponse": "json_response",
        "modelName": "model_name",
        "secondsToLabel": "seconds_to_label",
    }
    changes = {column: data[key] for key, column in names.items() if data.get(key) is not None}
    return await ctx.store.db.run_write(ctx.store.labels.update, where["id"], changes)


@label_type.field("consensusMark")
def resolve_consensus_mark(label: LabelRow, _: Info) -> float | None:
    return label.consensus_mark


@label_type.field("honeypotMark")
def resolve_honeypot_mark(label: LabelRow, _: Info) -> float | None:
    return label.honeypot_mark


@mutation.field("deleteLabels")
async def resolve_delete_labels(_: Any, info: Info, ids: list[str]) -> list[str]:
    ctx = context(info)
    return await ctx.store.db.run_write(ctx.store.labels.delete, ids)


bindables = [query, mutation, label_type]
