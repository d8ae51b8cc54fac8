"""Labels: list (as models or parsed against the interface), count, append, predictions,
honeypots, updates, deletion."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, overload

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from . import _constants as C
from ._category_search import check_category_search
from ._core import Domain
from ._generated.input_types import (
    AppendLabelData,
    AppendManyLabelsData,
    AppendToLabelsData,
    AssetWhere,
    CreateHoneypotData,
    LabelData,
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
from .errors import KiliInputError, NotFoundError
from .models import Label, LabelType, Status, StatusInStep
from .parsed_label import ParsedLabel, ParsedLabelListing

AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]
"""Names of :class:`~aiokili.Status` (a test keeps the two in step)."""
LabelTypeName = Literal["AUTOSAVE", "DEFAULT", "INFERENCE", "PREDICTION", "REVIEW"]
"""Names of :class:`~aiokili.LabelType`."""
StepStatusName = Literal[
    "TO_DO", "DOING", "IN_PROGRESS", "PARTIALLY_DONE", "REWORK", "REDO", "DONE", "SKIPPED"
]
"""Names of :class:`~aiokili.StatusInStep`."""
OutputFormat = Literal["dict", "parsed_label"]


@with_config(FILTERS_CONFIG)
class LabelFilters(TypedDict, total=False):
    """Filters of :meth:`LabelMethods.labels` and :meth:`LabelMethods.count_labels`.

    ``predictions`` / ``inferences`` take the same ones except ``type_in`` and
    ``asset_external_id_strictly_in`` (:class:`PredictionFilters`).
    """

    asset_id: str
    asset_status_in: Sequence[Status | AssetStatusName]
    asset_external_id_in: Sequence[str]
    """The labelled asset's external id contains any of these (empty: no filtering)."""
    asset_external_id_strictly_in: Sequence[str]
    """The labelled asset's external id is one of these (empty: no filtering)."""
    asset_step_id_in: Sequence[str]
    """The asset is in one of these workflow steps (multi-step workflows)."""
    asset_step_status_in: Sequence[StatusInStep | StepStatusName]
    """The asset's status in its step is one of these (multi-step workflows)."""
    asset_group_name_in: Sequence[str]
    asset_group_name_not_in: Sequence[str]
    author_in: Sequence[str]
    """Authors, by first name, last name, "first last", email or id."""
    created_at: str
    """Created on this day (``"YYYY-MM-DD"``)."""
    created_at_gte: str
    """Created on this day (``"YYYY-MM-DD"``) or later."""
    created_at_lte: str
    """Created on this day (``"YYYY-MM-DD"``) or earlier."""
    honeypot_mark_gte: float
    """The label's honeypot mark (0 to 1) is at least this."""
    honeypot_mark_lte: float
    id_contains: Sequence[str]
    """Only these label ids (empty: no filtering)."""
    label_id: str
    type_in: Sequence[LabelType | LabelTypeName]
    user_id: str
    """The author's user id."""
    category_search: str
    """E.g. ``"JOB.A.count > 0 AND (JOB.B.count == 0 OR JOB.C.count >= 2)"``."""


@with_config(FILTERS_CONFIG)
class _PredictionFilterSet(TypedDict, total=False):
    asset_id: str
    asset_status_in: Sequence[Status | AssetStatusName]
    asset_external_id_in: Sequence[str]
    asset_step_id_in: Sequence[str]
    asset_step_status_in: Sequence[StatusInStep | StepStatusName]
    author_in: Sequence[str]
    created_at: str
    created_at_gte: str
    created_at_lte: str
    honeypot_mark_gte: float
    honeypot_mark_lte: float
    id_contains: Sequence[str]
    label_id: str
    user_id: str
    category_search: str


PredictionFilters = _PredictionFilterSet
"""Filters of :meth:`LabelMethods.predictions` / :meth:`LabelMethods.inferences`: those of
:class:`LabelFilters` but ``type_in`` (fixed) and ``asset_external_id_strictly_in``."""

_WHERE = {
    "asset_id": "asset.id",
    "asset_status_in": "asset.status_in",
    "asset_external_id_in": "asset.external_id_in",
    "asset_external_id_strictly_in": "asset.external_id_strictly_in",
    "asset_step_id_in": "asset.step_id_in",
    "asset_step_status_in": "asset.step_status_in",
    "asset_group_name_in": "asset.group_name_in",
    "asset_group_name_not_in": "asset.group_name_not_in",
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
_EMPTY_MEANS_ALL = ("id_contains", "asset_external_id_in", "asset_external_id_strictly_in")
PREDICTION_FIELDS = ("author.email", "author.id", "id", "jsonResponse", "labelType", "modelName")
"""Default ``fields`` of :meth:`LabelMethods.predictions` / ``inferences`` (as in the SDK)."""

LABELS = ListingSpec(
    model=Label,
    fragment="Label",
    page_document=LABELS_GQL,
    page_operation="Labels",
    count_document=COUNT_LABELS_GQL,
    count_operation="CountLabels",
)
PARSED_LABELS = ListingSpec(
    model=ParsedLabel,
    fragment="Label",
    page_document=LABELS_GQL,
    page_operation="Labels",
    count_document=COUNT_LABELS_GQL,
    count_operation="CountLabels",
)


def _where(method: str, project_id: str, filters: dict[str, Any]) -> LabelWhere:
    for name in _EMPTY_MEANS_ALL:
        if isinstance(filters.get(name), (list, tuple)) and not filters[name]:
            del filters[name]
    if filters.get("category_search") is not None:
        check_category_search("category_search", filters["category_search"])
    return project_where(LabelWhere, LabelFilters, _WHERE, method, project_id, filters)


def _warn_deprecated_step_statuses(filters: dict[str, Any]) -> None:
    for old, new in (("DOING", "IN_PROGRESS"), ("REDO", "REWORK")):
        if old in [getattr(s, "value", s) for s in filters.get("asset_step_status_in") or ()]:
            warnings.warn(f"Step status {old!r} is deprecated, use {new!r} instead",
                          DeprecationWarning, stacklevel=3)  # fmt: skip


class LabelMethods(Domain):
    """Label methods of :class:`~aiokili.AsyncKili`."""

    @overload
    def labels(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        output_format: Literal["dict"] = "dict",
        as_generator: bool = False,
        **filters: Unpack[LabelFilters],
    ) -> Listing[Label]: ...

    @overload
    def labels(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        output_format: Literal["parsed_label"],
        as_generator: bool = False,
        **filters: Unpack[LabelFilters],
    ) -> Listing[ParsedLabel]: ...

    def labels(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        output_format: OutputFormat = "dict",
        as_generator: bool = False,
        **filters: Unpack[LabelFilters],
    ) -> Listing[Label] | Listing[ParsedLabel]:
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
            output_format: ``"dict"`` (default): :class:`~aiokili.Label` models;
                ``"parsed_label"``: :class:`~aiokili.ParsedLabel`, the label with ``jobs``
                parsed against the project's json interface
                (``label.jobs["JOB"].category.name``); needs ``jsonResponse`` in ``fields``.
            as_generator: accepted for compatibility: a listing is both (``async for`` or
                ``await``).
        """
        if output_format not in ("dict", "parsed_label"):
            raise KiliInputError(
                f'output_format must be "dict" or "parsed_label", got {output_format!r}.'
            )
        _warn_deprecated_step_statuses(dict(filters))
        where = _where("labels", project_id, dict(filters))
        listing = self._core.listing(LABELS, where, fields=fields, first=first, skip=skip)
        if output_format == "dict":
            return listing
        if fields is not None and "jsonResponse" not in fields:
            raise KiliInputError(
                'output_format="parsed_label" needs "jsonResponse" in fields: add it.'
            )
        return ParsedLabelListing(
            self._core, PARSED_LABELS, listing, lambda: self._json_interface(project_id)
        )

    async def _json_interface(self, project_id: str) -> Any:
        result = await self._core.gql.label_project_interface(where=ProjectWhere(id=project_id))
        if not result.data:
            raise NotFoundError.from_message(
                f'Project "{project_id}" not found. Check the id, or list projects with '
                "kili.projects().",
                "NOT_FOUND",
            )
        return result.data[0].json_interface or {}

    async def count_labels(self, project_id: str, **filters: Unpack[LabelFilters]) -> int:
        """Number of labels matching the filters (see :class:`LabelFilters`)."""
        _warn_deprecated_step_statuses(dict(filters))
        where = _where("count_labels", project_id, dict(filters))
        return (await self._core.gql.count_labels(where=where)).data

    def predictions(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = PREDICTION_FIELDS,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[PredictionFilters],
    ) -> Listing[Label]:
        """The project's PREDICTION labels: :meth:`labels` with ``type_in=["PREDICTION"]``.

        ``fields`` defaults to :data:`PREDICTION_FIELDS` (``None``: every field); the
        filters are those of :class:`PredictionFilters`.
        """
        return self._typed_labels("predictions", "PREDICTION", project_id, fields, first, skip,
                                  dict(filters))  # fmt: skip

    def inferences(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = PREDICTION_FIELDS,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[PredictionFilters],
    ) -> Listing[Label]:
        """The project's INFERENCE labels: :meth:`labels` with ``type_in=["INFERENCE"]``.

        ``fields`` defaults to :data:`PREDICTION_FIELDS` (``None``: every field); the
        filters are those of :class:`PredictionFilters`.
        """
        return self._typed_labels("inferences", "INFERENCE", project_id, fields, first, skip,
                                  dict(filters))  # fmt: skip

    def _typed_labels(
        self,
        method: str,
        kind: LabelTypeName,
        project_id: str,
        fields: Sequence[str] | None,
        first: int | None,
        skip: int,
        filters: dict[str, Any],
    ) -> Listing[Label]:
        for name in ("type_in", "asset_external_id_strictly_in"):
            if name in filters:
                raise KiliInputError(
                    f"{method}() does not take {name}: it lists {kind} labels only; use "
                    "labels() for other filters."
                )
        _warn_deprecated_step_statuses(filters)
        where = _where(method, project_id, {**filters, "type_in": [kind]})
        return self._core.listing(LABELS, where, fields=fields, first=first, skip=skip)

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
        step_name: str | None = None,
        reviewed_label_id_array: Sequence[str] | None = None,
        step_id: str | None = None,
        group_name: str | None = None,
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
            reviewed_label_id_array: for REVIEW labels, the label each one reviews.
            step_id: the workflow step the labels belong to (multi-step workflows).
            step_name / group_name: not supported yet: give ``step_id``.
        """
        if step_name is not None or group_name is not None:
            raise KiliInputError(
                "append_labels(step_name=/group_name=) is not supported by aiokili yet: "
                "give step_id, the id of the step."
            )
        responses = as_list("json_response_array", json_response_array, dict) or []
        asset_ids = as_list("asset_id_array", asset_id_array, str)
        external_ids = as_list("asset_external_id_array", asset_external_id_array, str)
        authors = as_list("author_id_array", author_id_array, str)
        seconds = as_list("seconds_to_label_array", seconds_to_label_array, int, float)
        reviewed = as_list("reviewed_label_id_array", reviewed_label_id_array, str)
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
            seconds_to_label_array=seconds, reviewed_label_id_array=reviewed,
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
                referenced_label_id=reviewed[i] if reviewed else None,
            )
            for i in range(count)
        ]

        async def send(chunk: Sequence[AppendLabelData]) -> list[str]:
            data = AppendManyLabelsData(
                label_type=kind, overwrite=overwrite, labels_data=list(chunk), step_id=step_id
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

    async def create_predictions(
        self,
        project_id: str,
        external_id_array: Sequence[str] | None = None,
        model_name_array: Sequence[str] | None = None,
        json_response_array: Sequence[dict[str, Any]] | None = None,
        model_name: str | None = None,
        asset_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
    ) -> dict[Literal["id"], str]:
        """Create PREDICTION labels of model ``model_name`` on assets; return ``{"id": project_id}``.

        Assets are given by ``asset_id_array`` or ``external_id_array`` (one per prediction).
        ``overwrite=True`` first removes the assets' predictions of the same model.
        ``model_name_array`` is deprecated (a DeprecationWarning): its one model name is used.
        Sent like :meth:`append_labels` (chunks, :class:`~aiokili.errors.BulkOperationError`).
        """
        if not json_response_array:
            raise KiliInputError(
                "json_response_array is empty, you must provide at least one prediction to upload."
            )
        names = as_list("model_name_array", model_name_array, str)
        if (asset_id_array is None) == (external_id_array is None):
            raise KiliInputError(
                "create_predictions() needs exactly one of asset_id_array or external_id_array."
            )
        same_length(
            external_id_array=as_list("external_id_array", external_id_array, str),
            json_response_array=list(json_response_array), model_name_array=names,
            asset_id_array=as_list("asset_id_array", asset_id_array, str),
        )  # fmt: skip
        if model_name is None:
            if names is None:
                raise KiliInputError(
                    "You must provide a model name with the `model_name` argument."
                )
            if len(set(names)) > 1:
                raise KiliInputError(
                    "model_name_array names several models: creating predictions from different "
                    "models is not supported anymore. Separate your calls by models."
                )
            warnings.warn(
                "The use of `model_name_array` is deprecated. Creating predictions from different "
                "models is not supported anymore. Please use `model_name` argument instead to "
                "provide the predictions model name.",
                DeprecationWarning,
                stacklevel=2,
            )
            model_name = names[0]
        await self.append_labels(
            asset_id_array=asset_id_array,
            json_response_array=json_response_array,
            model_name=model_name,
            label_type="PREDICTION",
            project_id=project_id,
            asset_external_id_array=None if asset_id_array is not None else external_id_array,
            overwrite=overwrite,
        )
        return {"id": project_id}

    async def create_honeypot(
        self,
        json_response: dict[str, Any],
        asset_external_id: str | None = None,
        asset_id: str | None = None,
        project_id: str | None = None,
    ) -> Label:
        """Make an asset a honeypot whose expected answer is ``json_response``; return its label.

        The answer is stored as a REVIEW label; labels of the asset then get a honeypot mark
        (their agreement with it, 0 to 1). Give ``asset_id``, or ``asset_external_id`` and
        ``project_id``.
        """
        target = await self._one_asset("create_honeypot", asset_id, "asset_id",
                                       asset_external_id, "asset_external_id", project_id)  # fmt: skip
        data = CreateHoneypotData(json_response=json_text("json_response", json_response))
        return (await self._core.gql.create_honeypot(data=data, where=AssetWhere(id=target))).data

    async def append_to_labels(
        self,
        json_response: dict[str, Any],
        author_id: str | None = None,
        label_asset_external_id: str | None = None,
        label_asset_id: str | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        project_id: str | None = None,
        seconds_to_label: float | None = 0,
    ) -> Label:
        """Deprecated (a DeprecationWarning): append one label; use :meth:`append_labels`.

        Give ``label_asset_id``, or ``label_asset_external_id`` and ``project_id``.
        ``author_id`` defaults to the API key's user; ``seconds_to_label`` to 0.
        """
        warnings.warn(
            "append_to_labels method is deprecated. Please use append_labels instead. This new "
            "function allows to import several labels 10 times faster.",
            DeprecationWarning,
            stacklevel=2,
        )
        text = json_text("json_response", json_response)
        data = build(AppendToLabelsData, author_id=author_id or "-", json_response=text,
                     label_type=label_type, seconds_to_label=seconds_to_label)  # fmt: skip
        target = await self._one_asset("append_to_labels", label_asset_id, "label_asset_id",
                                       label_asset_external_id, "label_asset_external_id",
                                       project_id)  # fmt: skip
        if author_id is None:
            viewer = (await self._core.gql.viewer()).data.id
            data = data.model_copy(update={"author_id": viewer})
        return (await self._core.gql.append_to_labels(data=data, where=AssetWhere(id=target))).data

    async def delete_labels(
        self, ids: Sequence[str], disable_tqdm: bool | None = None
    ) -> list[str]:
        """Delete labels by id; return the deleted ids, in input order.

        Only PREDICTION and INFERENCE labels can be deleted (the server refuses others,
        naming them). An empty ``ids`` warns and returns ``[]`` without a request.
        Sent in chunks of 100 (:class:`~aiokili.errors.BulkOperationError` on failures).
        """
        items = as_list("ids", ids, str)
        if not items:
            warnings.warn("delete_labels() was called with an empty ids list: nothing to delete.",
                          stacklevel=2)  # fmt: skip
            return []

        async def send(chunk: Sequence[str]) -> list[str]:
            return (await self._core.gql.delete_labels(ids=list(chunk))).data

        async def reconcile(chunk: Sequence[str]) -> list[str | None]:
            """After an unknown outcome: the labels gone were deleted; resend the others."""
            where = LabelWhere(id_in=list(chunk))
            found = await self._core.gql.labels(where=where, first=len(chunk), skip=0)
            still = {label.id for label in found.data}
            return [None if label_id in still else label_id for label_id in chunk]

        return await self._core.bulk("delete_labels", items, send, keys=items,
                                     chunk_size=C.LABELS_CHUNK, reconcile=reconcile)  # fmt: skip

    async def update_properties_in_label(
        self,
        label_id: str,
        seconds_to_label: float | None = None,
        model_name: str | None = None,
        json_response: dict[str, Any] | None = None,
    ) -> Label:
        """Change a label's time, model name or answer (the ones given); return the label.

        In the seed SDK, not in kili 26.2.4; sent as the older SDK did
        (``updatePropertiesInLabel(where: {id}, data: LabelData)``).
        """
        if not isinstance(label_id, str) or not label_id:
            raise KiliInputError(f"label_id must be a label id (a string), got {label_id!r}.")
        text = None if json_response is None else json_text("json_response", json_response)
        data = build(LabelData, seconds_to_label=seconds_to_label, model_name=model_name,
                     json_response=text)  # fmt: skip
        result = await self._core.gql.update_properties_in_label(
            where=LabelWhere(id=label_id), data=data
        )
        if result.data is None:
            raise NotFoundError.from_message(f'Label "{label_id}" not found.', "NOT_FOUND")
        return result.data

    async def _one_asset(
        self,
        method: str,
        asset_id: str | None,
        id_name: str,
        external_id: str | None,
        external_name: str,
        project_id: str | None,
    ) -> str:
        """The asset id given directly, or looked up from its external id in the project."""
        if asset_id is not None:
            if not isinstance(asset_id, str) or not asset_id:
                raise KiliInputError(f"{id_name} must be an asset id (a string), got {asset_id!r}.")
            return asset_id
        if external_id is None or not project_id:
            raise KiliInputError(f"{method}() needs {id_name}, or {external_name} and project_id.")
        return (await self._asset_ids(project_id, [external_id]))[0]

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
