"""Label queries: list (as models or parsed against the interface), count, predictions and
inferences. The mutations (append, honeypots, updates, deletion) are in :mod:`.mutations`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from .._core.base import Core, Domain
from .._core.inputs import FILTERS_CONFIG, project_where
from .._core.listing import Listing, ListingSpec
from .._core.steps import warn_deprecated_step_statuses
from .._generated import input_types as inputs
from .._generated.operations import COUNT_LABELS_GQL, LABELS_GQL
from ..errors import KiliInputError
from ..models import (
    AssetStatusName,
    Label,
    LabelType,
    LabelTypeName,
    Status,
    StatusInStep,
    StepStatusName,
)

if TYPE_CHECKING:
    from .._core.parsed_label import OnUnparsable, ParsedLabelListing

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
    asset_step_name_in: Sequence[str]
    """The asset is in one of the steps of these names (e.g. ``["Review"]``); turned into
    step ids with one look-up of the project's steps. Not with ``asset_step_id_in``."""
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
    asset_step_name_in: Sequence[str]
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
    "asset_step_name_in": "asset.step_id_in",  # names become ids first (_lookup_where)
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


def _where(method: str, project_id: str, filters: dict[str, Any]) -> inputs.LabelWhere:
    for name in _EMPTY_MEANS_ALL:
        if isinstance(filters.get(name), (list, tuple)) and not filters[name]:
            del filters[name]
    if filters.get("category_search") is not None:
        from .._core.category_search import check_category_search  # the parser, when used

        check_category_search("category_search", filters["category_search"])
    return project_where(inputs.LabelWhere, LabelFilters, _WHERE, method, project_id, filters)


def _lookup_where(
    core: Core, method: str, project_id: str, filters: dict[str, Any]
) -> inputs.LabelWhere | Callable[[], Awaitable[inputs.LabelWhere]]:
    """The where of the filters, checked now; with ``asset_step_name_in``, a coroutine
    function that first turns the names into step ids."""
    filters = dict(filters)
    if "asset_step_name_in" in filters and "asset_step_id_in" in filters:
        raise KiliInputError(
            f"{method}() got both asset_step_name_in and asset_step_id_in: give one (step "
            "names are turned into step ids)."
        )
    where = _where(method, project_id, dict(filters))
    if "asset_step_name_in" not in filters:
        return where
    names = list(filters.pop("asset_step_name_in"))

    async def resolve() -> inputs.LabelWhere:
        steps = await core.lookups.step_ids(project_id, names, "asset_step_name_in")
        ids = list(dict.fromkeys(i for ids in steps for i in ids))
        return _where(method, project_id, {**filters, "asset_step_id_in": ids})

    return resolve


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
        on_unparsable: OnUnparsable = "raise",
        **filters: Unpack[LabelFilters],
    ) -> ParsedLabelListing: ...

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
        on_unparsable: OnUnparsable = "raise",
        **filters: Unpack[LabelFilters],
    ) -> Listing[Label] | ParsedLabelListing:
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
            on_unparsable: with ``"parsed_label"``, what to do with a label that does not
                match the interface (written before labels were checked, or by another
                tool): ``"raise"`` (default) :class:`~aiokili.LabelParsingError`;
                ``"skip"`` leaves it out and lists it in the listing's ``skipped``
                (:class:`~aiokili.SkippedLabel`: ``.id``, ``.error``).
        """
        if output_format not in ("dict", "parsed_label"):
            raise KiliInputError(
                f'output_format must be "dict" or "parsed_label", got {output_format!r}.'
            )
        if on_unparsable not in ("raise", "skip"):
            raise KiliInputError(f'on_unparsable must be "raise" or "skip", got {on_unparsable!r}.')
        if on_unparsable != "raise" and output_format != "parsed_label":
            raise KiliInputError(
                'on_unparsable is for output_format="parsed_label": a "dict" listing parses '
                "nothing."
            )
        warn_deprecated_step_statuses(
            "asset_step_status_in", filters.get("asset_step_status_in") or ()
        )
        where = _lookup_where(self._core, "labels", project_id, dict(filters))
        listing = self._core.listing(LABELS, where, fields=fields, first=first, skip=skip)
        if output_format == "dict":
            return listing
        if fields is not None and "jsonResponse" not in fields:
            raise KiliInputError(
                'output_format="parsed_label" needs "jsonResponse" in fields: add it.'
            )
        from .._core.parsed_label import ParsedLabelListing  # loaded when used

        return ParsedLabelListing(
            self._core,
            listing,
            lambda: self._core.lookups.interface(project_id),
            on_unparsable,
        )

    async def count_labels(self, project_id: str, **filters: Unpack[LabelFilters]) -> int:
        """Number of labels matching the filters (see :class:`LabelFilters`)."""
        warn_deprecated_step_statuses(
            "asset_step_status_in", filters.get("asset_step_status_in") or ()
        )
        where = _lookup_where(self._core, "count_labels", project_id, dict(filters))
        where = where if isinstance(where, inputs.LabelWhere) else await where()
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
        return self._typed_labels(
            "predictions", "PREDICTION", project_id, fields, first, skip, dict(filters)
        )

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
        return self._typed_labels(
            "inferences", "INFERENCE", project_id, fields, first, skip, dict(filters)
        )

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
        warn_deprecated_step_statuses(
            "asset_step_status_in", filters.get("asset_step_status_in") or ()
        )
        where = _lookup_where(self._core, method, project_id, {**filters, "type_in": [kind]})
        return self._core.listing(LABELS, where, fields=fields, first=first, skip=skip)
