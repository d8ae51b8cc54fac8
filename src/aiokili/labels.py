"""Labels: list, count, append."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from ._bulk import chunked, collect, run_chunks
from ._generated.input_types import (
    AppendLabelData,
    AppendManyLabelsData,
    AssetWhere,
    LabelWhere,
    ProjectWhere,
    UserWhere,
)
from ._generated.operations import LABELS_GQL
from ._inputs import build, same_length
from .assets import AssetsMixin
from .errors import KiliInputError
from .models import Label, LabelType

AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]
LabelTypeName = Literal["AUTOSAVE", "DEFAULT", "INFERENCE", "PREDICTION", "REVIEW"]

LABELS_CHUNK = 100
"""Labels per ``appendManyLabels`` request (Kili's own batch size)."""


def _label_where(
    project_id: str,
    asset_id: str | None = None,
    asset_status_in: Sequence[AssetStatusName] | None = None,
    asset_external_id_in: Sequence[str] | None = None,
    asset_external_id_strictly_in: Sequence[str] | None = None,
    author_in: Sequence[str] | None = None,
    created_at: str | None = None,
    created_at_gte: str | None = None,
    created_at_lte: str | None = None,
    honeypot_mark_gte: float | None = None,
    honeypot_mark_lte: float | None = None,
    label_id: str | None = None,
    type_in: Sequence[LabelType | LabelTypeName] | None = None,
    user_id: str | None = None,
    category_search: str | None = None,
    id_contains: Sequence[str] | None = None,
) -> LabelWhere:
    if not project_id:
        raise KiliInputError("project_id is required: give the id of the project to search.")
    asset = build(
        AssetWhere,
        project=ProjectWhere(id=project_id),
        id=asset_id,
        status_in=asset_status_in,
        external_id_in=asset_external_id_in,
        external_id_strictly_in=asset_external_id_strictly_in,
    )
    return build(
        LabelWhere,
        project=ProjectWhere(id=project_id),
        asset=asset,
        author_in=author_in,
        created_at=created_at,
        created_at_gte=created_at_gte,
        created_at_lte=created_at_lte,
        honeypot_mark_gte=honeypot_mark_gte,
        honeypot_mark_lte=honeypot_mark_lte,
        id=label_id,
        type_in=type_in,
        user=UserWhere(id=user_id) if user_id else None,
        search=category_search,
        id_in=id_contains,
    )


class LabelsMixin(AssetsMixin):
    """Label methods of :class:`~aiokili.AsyncKili`."""

    def labels(
        self,
        project_id: str,
        asset_id: str | None = None,
        asset_status_in: Sequence[AssetStatusName] | None = None,
        asset_external_id_in: Sequence[str] | None = None,
        asset_external_id_strictly_in: Sequence[str] | None = None,
        author_in: Sequence[str] | None = None,
        created_at: str | None = None,
        created_at_gte: str | None = None,
        created_at_lte: str | None = None,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        honeypot_mark_gte: float | None = None,
        honeypot_mark_lte: float | None = None,
        id_contains: Sequence[str] | None = None,
        label_id: str | None = None,
        skip: int = 0,
        type_in: Sequence[LabelType | LabelTypeName] | None = None,
        user_id: str | None = None,
        disable_tqdm: bool | None = None,
        category_search: str | None = None,
    ) -> AsyncIterator[Label]:
        """Iterate over the labels of a project, oldest first.

        ``async for label in kili.labels(project_id): label.json_response ...``

        Args:
            project_id: the project.
            asset_id / asset_external_id_in / asset_external_id_strictly_in /
                asset_status_in: filters on the labelled asset (``_in`` = substring match
                of any, ``_strictly_in`` = exact match of any).
            author_in: authors, by first name, last name or full name.
            created_at / created_at_gte / created_at_lte: dates, "YYYY-MM-DD".
            fields: GraphQL field paths (e.g. ``["id", "jsonResponse", "labelOf.externalId"]``);
                default: every field of :class:`~aiokili.Label`.
            first: maximum number of labels (default: all). skip: labels to skip.
            type_in: label types, e.g. ["DEFAULT", "REVIEW"].
            user_id: the author's user id.
            category_search: e.g. ``"JOB.CATEGORY_A.count > 0 AND JOB.CATEGORY_B.count == 0"``.
            id_contains: only these label ids.
            disable_tqdm: accepted for compatibility; listings show no progress bar.

        Pages of ``page_size`` are fetched ``prefetch`` at a time ahead of the loop; memory
        stays bounded by those pages whatever the number of labels.
        """
        where = _label_where(
            project_id, asset_id, asset_status_in, asset_external_id_in,
            asset_external_id_strictly_in, author_in, created_at, created_at_gte,
            created_at_lte, honeypot_mark_gte, honeypot_mark_lte, label_id, type_in, user_id,
            category_search, id_contains,
        )  # fmt: skip

        async def count() -> int:
            return (await self._gql.count_labels(where=where)).data

        async def fetch(skip: int, first: int) -> Sequence[Label]:
            return (await self._gql.labels(where=where, first=first, skip=skip)).data

        return self._listing(
            model=Label, fragment="LabelFields", document=LABELS_GQL, operation="Labels",
            where=where, count=count, fetch_default=fetch, fields=fields, skip=skip, first=first,
        )  # fmt: skip

    async def count_labels(
        self,
        project_id: str,
        asset_id: str | None = None,
        asset_status_in: Sequence[AssetStatusName] | None = None,
        asset_external_id_in: Sequence[str] | None = None,
        asset_external_id_strictly_in: Sequence[str] | None = None,
        author_in: Sequence[str] | None = None,
        created_at: str | None = None,
        created_at_gte: str | None = None,
        created_at_lte: str | None = None,
        honeypot_mark_gte: float | None = None,
        honeypot_mark_lte: float | None = None,
        label_id: str | None = None,
        type_in: Sequence[LabelType | LabelTypeName] | None = None,
        user_id: str | None = None,
        category_search: str | None = None,
        id_contains: Sequence[str] | None = None,
    ) -> int:
        """Number of labels matching the filters (same meaning as in :meth:`labels`)."""
        where = _label_where(
            project_id, asset_id, asset_status_in, asset_external_id_in,
            asset_external_id_strictly_in, author_in, created_at, created_at_gte,
            created_at_lte, honeypot_mark_gte, honeypot_mark_lte, label_id, type_in, user_id,
            category_search, id_contains,
        )  # fmt: skip
        return (await self._gql.count_labels(where=where)).data

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
        ``project_id``. All arrays have one entry per label. Labels are sent in chunks of
        100, ``concurrency`` chunks at a time. If some chunks fail, the others are still
        applied and :class:`~aiokili.errors.BulkOperationError` lists every failed item
        (``.failures``) and the ids created (``.succeeded``).

        Args:
            json_response_array: the labels, one dict per asset (``{"JOB": {...}}``).
            author_id_array: author user ids (default: the API key's user).
            seconds_to_label_array: labelling time in seconds.
            model_name: model name, for PREDICTION / INFERENCE labels.
            label_type: "DEFAULT" (default), "REVIEW", "PREDICTION", "INFERENCE", "AUTOSAVE".
            overwrite: for predictions/inferences, replace the asset's labels of the same
                type and model name.
        """
        if not json_response_array:
            raise KiliInputError("json_response_array is empty: give at least one label to upload.")
        if (asset_id_array is None) == (asset_external_id_array is None):
            raise KiliInputError(
                "Give exactly one of asset_id_array or asset_external_id_array (with project_id)."
            )
        if asset_external_id_array is not None and not project_id:
            raise KiliInputError("asset_external_id_array needs project_id.")
        count = same_length(
            asset_id_array=asset_id_array,
            asset_external_id_array=asset_external_id_array,
            json_response_array=json_response_array,
            author_id_array=author_id_array,
            seconds_to_label_array=seconds_to_label_array,
        )
        items: list[AppendLabelData] = []
        for index in range(count):
            try:
                text = json.dumps(json_response_array[index])
            except (TypeError, ValueError) as exc:
                raise KiliInputError(
                    f"json_response_array[{index}] is not JSON-serializable: {exc}"
                ) from None
            items.append(
                build(
                    AppendLabelData,
                    asset_id=asset_id_array[index] if asset_id_array else "",
                    json_response=text,
                    author_id=author_id_array[index] if author_id_array else None,
                    seconds_to_label=(
                        seconds_to_label_array[index] if seconds_to_label_array else None
                    ),
                    model_name=model_name,
                )
            )
        if asset_external_id_array is not None:
            assert project_id is not None
            ids = await self._asset_ids_by_external_id(project_id, asset_external_id_array)
            for item, asset_id in zip(items, ids, strict=True):
                item.asset_id = asset_id
        keys = list(asset_external_id_array or asset_id_array or [])
        label_type_value = LabelType(label_type)

        async def send(chunk: Sequence[AppendLabelData]) -> list[str]:
            data = AppendManyLabelsData(
                label_type=label_type_value, overwrite=overwrite, labels_data=list(chunk)
            )
            where = build(
                AssetWhere,
                id_in=[item.asset_id for item in chunk],
                project=ProjectWhere(id=project_id) if project_id else None,
            )
            result = await self._gql.append_many_labels(data=data, where=where)
            return [label.id for label in result.data]

        chunks = chunked(items, LABELS_CHUNK)
        results = await run_chunks(chunks, send, concurrency=self.concurrency)
        return collect("append_labels", results, chunked(keys, LABELS_CHUNK), LABELS_CHUNK)
