"""Labels: list, count, append."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from . import _constants as C
from ._core import Domain
from ._generated.input_types import (
    AppendLabelData,
    AppendManyLabelsData,
    AssetWhere,
    LabelWhere,
    ProjectWhere,
)
from ._generated.operations import COUNT_LABELS_GQL, LABELS_GQL
from ._inputs import (
    FILTERS_CONFIG,
    as_list,
    build,
    json_text,
    project_where,
    same_length,
)
from ._listing import Listing, ListingSpec
from .errors import KiliInputError
from .models import Label, LabelType, Status

AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]
"""Names of :class:`~aiokili.Status` (a test keeps the two in step)."""
LabelTypeName = Literal["AUTOSAVE", "DEFAULT", "INFERENCE", "PREDICTION", "REVIEW"]
"""Names of :class:`~aiokili.LabelType`."""


@with_config(FILTERS_CONFIG)
class LabelFilters(TypedDict, total=False):
    """Filters of :meth:`LabelMethods.labels` and :meth:`LabelMethods.count_labels`."""

    asset_id: str
    asset_status_in: Sequence[Status | AssetStatusName]
    asset_external_id_in: Sequence[str]
    """The labelled asset's external id contains any of these."""
    asset_external_id_strictly_in: Sequence[str]
    """The labelled asset's external id is one of these."""
    author_in: Sequence[str]
    """Authors, by first name, last name, full name, email or id."""
    created_at: str
    """Created on this day (``"YYYY-MM-DD"``)."""
    created_at_gte: str
    created_at_lte: str
    honeypot_mark_gte: float
    honeypot_mark_lte: float
    id_contains: Sequence[str]
    """Only these label ids."""
    label_id: str
    type_in: Sequence[LabelType | LabelTypeName]
    user_id: str
    """The author's user id."""
    category_search: str
    """E.g. ``"JOB.A.count > 0 AND (JOB.B.count == 0 OR JOB.C.count >= 2)"``."""


_WHERE = {
    "asset_id": "asset.id",
    "asset_status_in": "asset.status_in",
    "asset_external_id_in": "asset.external_id_in",
    "asset_external_id_strictly_in": "asset.external_id_strictly_in",
    "author_in": "author_in",
    "created_at": "created_at",
    "created_at_gte": "created_at_gte",
    "created_at_lte": "created_at_lte",
    "honeypot_mark_gte": "honeypot_mark_gte",
    "honeypot_mark_lte": "honeypot_mark_lte",
    "id_contains": "id_in",
    "label_id": "id",
    "type_in": "type_in",
    "user_id": "user.id",
    "category_search": "search",
}

LABELS = ListingSpec(
    model=Label,
    fragment="Label",
    page_document=LABELS_GQL,
    page_operation="Labels",
    count_document=COUNT_LABELS_GQL,
    count_operation="CountLabels",
)


def _where(method: str, project_id: str, filters: dict[str, Any]) -> LabelWhere:
    return project_where(LabelWhere, LabelFilters, _WHERE, method, project_id, filters)


class LabelMethods(Domain):
    """Label methods of :class:`~aiokili.AsyncKili`."""

    def labels(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        **filters: Unpack[LabelFilters],
    ) -> Listing[Label]:
        """Labels of a project matching the filters, oldest first (see :class:`LabelFilters`).

        ``async for label in kili.labels(project_id): label.json_response ...``, or
        ``await`` it for a list. Pages of ``page_size`` are fetched ahead of the loop
        (up to ``prefetch`` requests in flight); memory stays bounded by a few pages.

        Args:
            project_id: the project.
            fields: field paths (e.g. ``["id", "jsonResponse", "labelOf.externalId"]``);
                default: every field of :class:`~aiokili.Label`.
            first: maximum number of labels (default: all). skip: labels to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
        """
        where = _where("labels", project_id, dict(filters))
        return self._core.listing(LABELS, where, fields=fields, first=first, skip=skip)

    async def count_labels(self, project_id: str, **filters: Unpack[LabelFilters]) -> int:
        """Number of labels matching the filters (see :class:`LabelFilters`)."""
        where = _where("count_labels", project_id, dict(filters))
        return (await self._core.gql.count_labels(where=where)).data

    async def append_labels(
        self,
        asset_id_array: Sequence[str] | None = None,
        json_response_array: Sequence[dict[str, Any]] = (),
        author_id_array: Sequence[str] | None = None,
        seconds_to_label_array: Sequence[float] | None = None,
        model_name: str | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        project_id: str | None = None,
        asset_external_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
    ) -> list[str]:
        """Append one label per asset; return the new label ids, in input order.

        Assets are given by ``asset_id_array``, or by ``asset_external_id_array`` plus
        ``project_id``. All arrays have one entry per label. Labels go in chunks of 100,
        ``concurrency`` chunks at a time. If some chunks fail, the others are still
        applied and :class:`~aiokili.errors.BulkOperationError` lists every failed item
        (``.failures``, with its position in your arrays) and the ids created
        (``.succeeded``).

        Args:
            json_response_array: the labels, one dict per asset (``{"JOB": {...}}``).
            author_id_array: author user ids (default: the API key's user).
            seconds_to_label_array: labelling time in seconds.
            model_name: model name, for PREDICTION / INFERENCE labels.
            label_type: "DEFAULT" (default), "REVIEW", "PREDICTION", "INFERENCE", "AUTOSAVE".
            overwrite: for predictions/inferences, replace the asset's labels of the same
                type and model name.
        """
        responses = as_list("json_response_array", json_response_array, dict) or []
        asset_ids = as_list("asset_id_array", asset_id_array, str)
        external_ids = as_list("asset_external_id_array", asset_external_id_array, str)
        authors = as_list("author_id_array", author_id_array, str)
        seconds = as_list("seconds_to_label_array", seconds_to_label_array, int, float)
        if not responses:
            raise KiliInputError("json_response_array is empty: give at least one label to upload.")
        if (asset_ids is None) == (external_ids is None):
            raise KiliInputError(
                "Give exactly one of asset_id_array or asset_external_id_array (with project_id)."
            )
        if external_ids is not None and not project_id:
            raise KiliInputError("asset_external_id_array needs project_id.")
        if not isinstance(overwrite, bool):
            raise KiliInputError(f"overwrite must be True or False, got {overwrite!r}.")
        count = same_length(
            asset_id_array=asset_ids, asset_external_id_array=external_ids,
            json_response_array=responses, author_id_array=authors,
            seconds_to_label_array=seconds,
        )  # fmt: skip
        texts = [json_text(f"json_response_array[{i}]", r) for i, r in enumerate(responses)]
        kind = build(AppendManyLabelsData, label_type=label_type, labels_data=[]).label_type
        keys: list[str] = asset_ids if asset_ids is not None else external_ids or []
        targets = keys if asset_ids is not None else await self._asset_ids(project_id or "", keys)
        items = [
            build(
                AppendLabelData,
                asset_id=targets[i],
                json_response=texts[i],
                author_id=authors[i] if authors else None,
                seconds_to_label=seconds[i] if seconds else None,
                model_name=model_name,
            )
            for i in range(count)
        ]

        async def send(chunk: Sequence[AppendLabelData]) -> list[str]:
            data = AppendManyLabelsData(
                label_type=kind, overwrite=overwrite, labels_data=list(chunk)
            )
            where = build(
                AssetWhere,
                id_in=[item.asset_id for item in chunk],
                project=ProjectWhere(id=project_id) if project_id else None,
            )
            result = await self._core.gql.append_many_labels(data=data, where=where)
            return [label.id for label in result.data]

        return await self._core.bulk(
            "append_labels", items, send, keys=list(keys), chunk_size=C.LABELS_CHUNK
        )

    async def _asset_ids(self, project_id: str, external_ids: list[str]) -> list[str]:
        """Asset ids of ``external_ids`` in the project; KiliInputError naming unknown ones."""
        found = await self._core.lookups.asset_ids_by_external_id(project_id, external_ids)
        missing = [e for e in dict.fromkeys(external_ids) if e not in found]
        if missing:
            shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise KiliInputError(
                f"{len(missing)} external id(s) not found in project {project_id!r}: {shown}. "
                "Check the ids, or import those assets first. Nothing was written."
            )
        return [found[e] for e in external_ids]
