"""Assets: list, count, import (URLs, raw text and local files via signed-URL upload)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import anyio
from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from .._core import constants as C
from .._core.base import Domain
from .._core.inputs import (
    FILTERS_CONFIG,
    as_list,
    check_bools,
    check_filters,
    where_from,
)
from .._core.listing import Lazy, Listing, ListingSpec
from .._core.steps import warn_deprecated_step_statuses
from .._generated import input_types as inputs
from .._generated.operations import ASSETS_GQL, COUNT_ASSETS_GQL
from ..errors import BulkOperationError, KiliInputError, NotFoundError
from ..models import (
    Asset,
    AssetStatusName,
    InputType,
    IssueStatusName,
    IssueTypeName,
    LabelType,
    LabelTypeName,
    Status,
    StatusInStep,
    StepStatusName,
)
from .media import AssetListing, MediaDownloader, check_media_dir, dataframe

if TYPE_CHECKING:
    from .imports import Importer, Outcome

StepAndStatus = tuple[str, StatusInStep | StepStatusName]


@with_config(FILTERS_CONFIG)
class AssetFilters(TypedDict, total=False):
    """Filters of :meth:`AssetMethods.assets` and :meth:`AssetMethods.count_assets`.

    Names and meanings of ``kili==26.2.4``. The older seed's names are accepted too and
    mean the same (bounds included): ``consensus_mark_gt``/``_lt`` → ``consensus_mark_gte``/
    ``_lte``, and likewise ``honeypot_mark_*``, ``label_consensus_mark_*``,
    ``label_honeypot_mark_*``, ``label_created_at_gt``/``_lt`` → ``label_created_at_gte``/
    ``_lte``; ``external_id_contains`` → ``external_id_in``. Giving both spellings of one
    filter is a :class:`~aiokili.errors.KiliInputError`. Dates: ``"YYYY-MM-DD"`` (the whole
    day) or ISO-8601. ``label_*`` filters: one label must match all of them.
    """

    asset_id: str
    asset_id_in: Sequence[str]
    asset_id_not_in: Sequence[str]
    external_id_in: Sequence[str]
    """External ids containing any of these strings."""
    external_id_contains: Sequence[str]
    external_id_strictly_in: Sequence[str]
    """External ids equal to any of these."""
    status_in: Sequence[Status | AssetStatusName]
    skipped: bool
    metadata_where: dict[str, Any]
    """``{"k": "v"}`` (equal), ``{"k": ["a", "b"]}`` (one of), ``{"k": [2, 10]}`` (range)."""
    consensus_mark_gte: float
    consensus_mark_lte: float
    consensus_mark_gt: float
    consensus_mark_lt: float
    honeypot_mark_gte: float
    honeypot_mark_lte: float
    honeypot_mark_gt: float
    honeypot_mark_lt: float
    inference_mark_gte: float
    inference_mark_lte: float
    assignee_in: Sequence[str]
    """Assigned to one of these users (id, email or name)."""
    assignee_not_in: Sequence[str]
    updated_at_gte: str
    updated_at_lte: str
    created_at_gte: str
    created_at_lte: str
    issue_type: IssueTypeName
    """Has an issue of this type..."""
    issue_status: IssueStatusName
    """...and/or of this status."""
    step_id_in: Sequence[str]
    """Workflow (V2/V3) filters on the asset's current step; names are looked up as ids."""
    step_id_not_in: Sequence[str]
    step_name_in: Sequence[str]
    step_name_not_in: Sequence[str]
    step_status_in: Sequence[StatusInStep | StepStatusName]
    step_status_not_in: Sequence[StatusInStep | StepStatusName]
    step_id_and_status_in: Sequence[StepAndStatus]
    step_id_and_status_not_in: Sequence[StepAndStatus]
    step_name_and_status_in: Sequence[StepAndStatus]
    step_name_and_status_not_in: Sequence[StepAndStatus]
    group_name_in: Sequence[str]
    group_name_not_in: Sequence[str]
    label_author_in: Sequence[str]
    """The asset has a label by one of these authors (name, email or id)..."""
    label_labeler_in: Sequence[str]
    label_labeler_not_in: Sequence[str]
    label_reviewer_in: Sequence[str]
    label_reviewer_not_in: Sequence[str]
    label_consensus_mark_gte: float
    label_consensus_mark_lte: float
    label_consensus_mark_gt: float
    label_consensus_mark_lt: float
    label_honeypot_mark_gte: float
    label_honeypot_mark_lte: float
    label_honeypot_mark_gt: float
    label_honeypot_mark_lt: float
    label_created_at: str
    label_created_at_gte: str
    label_created_at_lte: str
    label_created_at_gt: str
    label_created_at_lt: str
    label_type_in: Sequence[LabelType | LabelTypeName]
    label_category_search: str
    """...or a label matching ``"JOB.CATEGORY.count > 0 AND ..."``."""


_SEED_NAMES = {
    "external_id_contains": "external_id_in",
    **{
        f"{mark}_mark_{old}": f"{mark}_mark_{old}e"
        for mark in ("consensus", "honeypot", "label_consensus", "label_honeypot")
        for old in ("gt", "lt")
    },
    "label_created_at_gt": "label_created_at_gte",
    "label_created_at_lt": "label_created_at_lte",
}
"""The older seed's filter names → their ``kili==26.2.4`` names."""
_STEP_NAMES = {
    "step_name_in": "step_id_in",
    "step_name_not_in": "step_id_not_in",
    "step_name_and_status_in": "step_id_and_status_in",
    "step_name_and_status_not_in": "step_id_and_status_not_in",
}
_WHERE = {
    "asset_id": "id",
    "asset_id_in": "id_in",
    "asset_id_not_in": "id_not_in",
    "external_id_in": "external_id_in",
    "external_id_strictly_in": "external_id_strictly_in",
    "status_in": "status_in",
    "skipped": "skipped",
    "metadata_where": "metadata",
    "consensus_mark_gte": "consensus_mark_gte",
    "consensus_mark_lte": "consensus_mark_lte",
    "honeypot_mark_gte": "honeypot_mark_gte",
    "honeypot_mark_lte": "honeypot_mark_lte",
    "inference_mark_gte": "inference_mark_gte",
    "inference_mark_lte": "inference_mark_lte",
    "assignee_in": "assignee_in",
    "assignee_not_in": "assignee_not_in",
    "updated_at_gte": "updated_at_gte",
    "updated_at_lte": "updated_at_lte",
    "created_at_gte": "created_at_gte",
    "created_at_lte": "created_at_lte",
    "issue_type": "issue.type",
    "issue_status": "issue.status",
    "step_id_in": "step_id_in",
    "step_id_not_in": "step_id_not_in",
    "step_status_in": "step_status_in",
    "step_status_not_in": "step_status_not_in",
    "step_id_and_status_in": "step_id_and_status_in",
    "step_id_and_status_not_in": "step_id_and_status_not_in",
    "group_name_in": "group_name_in",
    "group_name_not_in": "group_name_not_in",
    "label_author_in": "label.author_in",
    "label_labeler_in": "label.labeler_in",
    "label_labeler_not_in": "label.labeler_not_in",
    "label_reviewer_in": "label.reviewer_in",
    "label_reviewer_not_in": "label.reviewer_not_in",
    "label_consensus_mark_gte": "label.consensus_mark_gte",
    "label_consensus_mark_lte": "label.consensus_mark_lte",
    "label_honeypot_mark_gte": "label.honeypot_mark_gte",
    "label_honeypot_mark_lte": "label.honeypot_mark_lte",
    "label_created_at": "label.created_at",
    "label_created_at_gte": "label.created_at_gte",
    "label_created_at_lte": "label.created_at_lte",
    "label_type_in": "label.type_in",
    "label_category_search": "label.search",
}
_WHERE.update({old: _WHERE[new] for old, new in _SEED_NAMES.items()})
_WHERE.update({name: _WHERE[ids] for name, ids in _STEP_NAMES.items()})

ASSETS = ListingSpec(
    model=Asset,
    fragment="Asset",
    page_document=ASSETS_GQL,
    page_operation="Assets",
    count_document=COUNT_ASSETS_GQL,
    count_operation="CountAssets",
)


class _AssetsOptions(AssetFilters, total=False):
    """The options of :meth:`AssetMethods.assets` besides ``format``, and its filters."""

    fields: Sequence[str] | None
    first: int | None
    skip: int
    disable_tqdm: bool | None
    download_media: bool
    local_media_dir: str | os.PathLike[str] | None
    label_output_format: Literal["dict", "parsed_label"]
    as_generator: bool


_OPTIONS = frozenset(_AssetsOptions.__annotations__) - frozenset(AssetFilters.__annotations__)


class AppendManyToDatasetResult(TypedDict):
    """What :meth:`AssetMethods.append_many_to_dataset` returns."""

    id: str
    """The project id."""
    asset_ids: list[str]
    """Ids of the assets created by this call, in input order."""
    skipped_external_ids: list[str]
    """External ids already in the project, so not imported again."""


def _checked(method: str, project_id: Any, filters: dict[str, Any]) -> dict[str, Any]:
    """Filters checked locally, the seed's names turned into 26.2.4's."""
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError(f"{method}() needs project_id, the id of the project to search.")
    checked: dict[str, Any] = dict(check_filters(AssetFilters, filters, method))
    if "label_category_search" in checked:
        from .._core.category_search import check_category_search  # the parser, when used

        check_category_search("label_category_search", checked["label_category_search"])
    for old, new in (*_SEED_NAMES.items(), *_STEP_NAMES.items()):
        if old in checked and new in checked:
            raise KiliInputError(
                f"{method}() got both {old} and {new}, two spellings of one filter: give one."
            )
        if old in checked and old in _SEED_NAMES:
            checked[new] = checked.pop(old)
    for key in ("step_status_in", "step_status_not_in"):
        warn_deprecated_step_statuses(key, checked.get(key, ()))
    for key in ("step_id_and_status_in", "step_id_and_status_not_in"):
        if key in checked:
            checked[key] = [{"step_id": i, "status": s} for i, s in checked[key]]
    return checked


def _build(project_id: str, checked: dict[str, Any]) -> inputs.AssetWhere:
    return where_from(inputs.AssetWhere, checked, _WHERE, project={"id": project_id})


def _check_options(format: object, options: dict[str, Any]) -> None:
    """The options of :meth:`AssetMethods.assets` besides its filters, checked together."""
    if format not in (None, "pandas"):
        raise KiliInputError(f"format must be None or 'pandas', got {format!r}.")
    if format == "pandas" and options.get("as_generator"):
        raise KiliInputError(
            'Argument values as_generator==True and format=="pandas" are not compatible.'
        )
    parsed = options.get("label_output_format", "dict")
    if parsed not in ("dict", "parsed_label"):
        raise KiliInputError(
            f"label_output_format must be 'dict' or 'parsed_label', got {parsed!r}."
        )
    label_fields = [
        field
        for field in options.get("fields") or ("labels.jsonResponse",)
        if field.startswith(("labels.", "latestLabel."))
    ]
    if parsed == "parsed_label" and not any(f.endswith(".jsonResponse") for f in label_fields):
        raise KiliInputError(
            "label_output_format='parsed_label' needs 'labels.jsonResponse' (or "
            "'latestLabel.jsonResponse') in fields: add it."
        )
    check_bools(download_media=options.get("download_media"))
    check_media_dir(options.get("local_media_dir"))
    fields = options.get("fields")
    if options.get("download_media") and fields is not None and "content" not in fields:
        raise KiliInputError(
            "download_media needs 'content' in fields= (and 'jsonContent' for video "
            "frames, rich text or image tiles): it is what points at the media."
        )


class AssetMethods(Domain):
    """Asset methods of :class:`~aiokili.AsyncKili`."""

    @overload
    def assets(
        self, project_id: str, *, format: None = None, **kwargs: Unpack[_AssetsOptions]
    ) -> Listing[Asset]: ...
    @overload
    def assets(
        self, project_id: str, *, format: Literal["pandas"], **kwargs: Unpack[_AssetsOptions]
    ) -> Coroutine[Any, Any, Any]: ...
    def assets(
        self,
        project_id: str,
        *,
        format: Literal["pandas"] | None = None,
        **kwargs: Unpack[_AssetsOptions],
    ) -> Listing[Asset] | Coroutine[Any, Any, Any]:
        """Assets of a project matching the filters, oldest first (see :class:`AssetFilters`).

        ``async for asset in kili.assets(project_id): ...`` streams them, ``await`` gives a
        list; with ``format="pandas"``, ``await`` gives a ``pandas.DataFrame``
        (``pip install 'aiokili[pandas]'``).

        Args:
            project_id: the project.
            fields: field paths (e.g. ``["id", "externalId", "labels.jsonResponse"]``);
                default: every field of :class:`~aiokili.Asset`, with its labels.
            first: maximum number of assets (default: all). skip: assets to skip.
            download_media: download each asset's media (content; video frames; rich
                text; the tiles of a tiled image) into ``local_media_dir`` (default ``~/.cache/kili/projects/<id>/assets``),
                files of a page fetched concurrently; the assets then point at the files.
            label_output_format: ``"parsed_label"`` gives each asset's ``labels`` (and
                ``latestLabel``) as :class:`~aiokili.ParsedLabel` (``isinstance`` narrows);
                default ``"dict"``: plain :class:`~aiokili.Label` models.
            as_generator, disable_tqdm: accepted for compatibility; the result streams
                with ``async for`` and lists with ``await`` either way.
        """
        filters = {k: v for k, v in kwargs.items() if k not in _OPTIONS}
        options = cast(dict[str, Any], {k: v for k, v in kwargs.items() if k in _OPTIONS})
        _check_options(format, options)
        where = self._where("assets", project_id, filters)
        paging: dict[str, Any] = {
            "fields": options.get("fields"),
            "first": options.get("first"),
            "skip": options.get("skip", 0),
        }
        media = interface = None
        if options.get("download_media"):
            media = MediaDownloader(self._core, project_id, options.get("local_media_dir"))
        if options.get("label_output_format") == "parsed_label":
            interface = partial(self._core.lookups.interface, project_id)
        if media is None and interface is None and format is None:
            return self._core.listing(ASSETS, where, **paging)
        listing = AssetListing(
            self._core, ASSETS, where, media=media, interface=interface, **paging
        )
        return dataframe(listing) if format == "pandas" else listing

    async def count_assets(self, project_id: str, **filters: Unpack[AssetFilters]) -> int:
        """Number of assets matching the filters (see :class:`AssetFilters`)."""
        where = await Lazy(self._where("count_assets", project_id, dict(filters))).get()
        return (await self._core.gql.count_assets(where=where)).data

    def _where(
        self, method: str, project_id: str, filters: dict[str, Any]
    ) -> inputs.AssetWhere | Callable[[], Awaitable[inputs.AssetWhere]]:
        """The filters' where, checked now; with step names, a coroutine function that
        first looks their ids up."""
        checked = _checked(method, project_id, filters)
        if any(name in checked for name in _STEP_NAMES):
            return partial(self._step_ids, project_id, checked)
        return _build(project_id, checked)

    async def _step_ids(self, project_id: str, checked: dict[str, Any]) -> inputs.AssetWhere:
        """``step_name_*`` filters turned into ``step_id_*`` with the project's steps."""
        checked = dict(checked)
        for name_key, id_key in _STEP_NAMES.items():
            if name_key not in checked:
                continue
            values = checked.pop(name_key)  # names, or (name, status) pairs
            names = [value if isinstance(value, str) else value[0] for value in values]
            steps = await self._core.lookups.step_ids(project_id, names, name_key)
            checked[id_key] = [
                step_id if isinstance(value, str) else {"step_id": step_id, "status": value[1]}
                for value, ids in zip(values, steps, strict=True)
                for step_id in ids
            ]
        return _build(project_id, checked)

    async def get_asset(self, asset_id: str) -> Asset:
        """The asset with this id (any project); NotFoundError naming it if there is none."""
        if not isinstance(asset_id, str) or not asset_id:
            raise KiliInputError(f"asset_id must be a non-empty string, got {asset_id!r}.")
        found = (
            await self._core.gql.assets(where=inputs.AssetWhere(id=asset_id), first=1, skip=0)
        ).data
        if not found:
            raise NotFoundError.from_message(
                f'Asset "{asset_id}" not found. Check the id.', "NOT_FOUND"
            )
        return found[0]

    async def get_asset_ids_for_external_ids(
        self, project_id: str, external_ids: Sequence[str]
    ) -> dict[str, str]:
        """External id → asset id for those of ``external_ids`` in the project (the others
        are left out); NotFoundError naming the project if it does not exist."""
        wanted = as_list("external_ids", external_ids, str) or []
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError("project_id must be the id of the project to search.")
        await self._core.lookups.input_type(project_id)  # NotFoundError naming the project
        return await self._core.lookups.asset_ids_by_external_id(project_id, wanted)

    async def append_many_to_dataset(
        self,
        project_id: str,
        content_array: Sequence[str | os.PathLike[str]] | None = None,
        *,
        multi_layer_content_array: Sequence[Sequence[dict[str, Any]]] | None = None,
        external_id_array: Sequence[str] | None = None,
        id_array: Sequence[str] | None = None,
        is_honeypot_array: Sequence[bool] | None = None,
        status_array: Sequence[str] | None = None,
        json_content_array: Sequence[Any] | None = None,
        json_metadata_array: Sequence[dict[str, Any]] | None = None,
        disable_tqdm: bool | None = None,
        wait_until_availability: bool = True,
        from_csv: str | os.PathLike[str] | None = None,
        csv_separator: str = ",",
    ) -> AppendManyToDatasetResult:
        """Import assets into a project; return the ids of the created assets.

        ``content_array`` items are URLs (kept as they are), local files (a path, or a
        ``pathlib.Path``; uploaded through Kili's signed URLs), or, in TEXT projects, raw
        text (uploaded too). Every array has one entry per asset. Assets whose external id
        is already in the project are skipped, so an interrupted import can be run again.
        Assets go in chunks of 100, ``concurrency`` chunks at a time; on partial failure
        :class:`~aiokili.errors.BulkOperationError` lists each failed asset.

        Video files, GEOSPATIAL assets, image layers and large or TIFF/JP2/NITF local images
        take Kili's asynchronous import (``appendManyAssetsAsynchronously``), as with the
        official SDK; the call waits for each such batch's notification to say SUCCESS
        (unless ``wait_until_availability=False``), so the assets exist when it returns.

        Arguments after ``content_array`` are keyword-only: the third positional one was
        ``external_id_array`` in older Kili SDKs and ``multi_layer_content_array`` in 26.x, so
        a positional call could not mean the same thing to both.

        Args:
            project_id: the project.
            content_array: URLs, local paths or raw text.
            external_id_array: your ids, non-empty strings (default: random).
            id_array: Kili asset ids to use (default: generated client-side).
            is_honeypot_array: True/False per asset.
            status_array: deprecated and ignored (every asset starts as TODO).
            json_content_array: VIDEO: a list of frames per asset (URLs or local images,
                uploaded); TEXT: a rich-text document (dict or list); else JSON sent as text.
            json_metadata_array: one metadata dict per asset.
            disable_tqdm: accepted for compatibility; ``aiokili assets import`` shows progress.
            multi_layer_content_array: IMAGE/GEOSPATIAL: per asset, a list of layer dicts
                ``{"path": local file, "name": ...}``.
            wait_until_availability: wait for asynchronous imports to finish (default).
            from_csv, csv_separator: TEXT assets from a CSV file with ``content`` and
                ``externalId`` columns (instead of content_array / external_id_array).
        """
        from .imports import Importer, check_import, plan_import  # loaded by the first import

        arrays = check_import(
            content_array=content_array,
            external_id_array=external_id_array,
            id_array=id_array,
            is_honeypot_array=is_honeypot_array,
            status_array=status_array,
            json_content_array=json_content_array,
            json_metadata_array=json_metadata_array,
            multi_layer_content_array=multi_layer_content_array,
            from_csv=from_csv,
            csv_separator=csv_separator,
            wait_until_availability=wait_until_availability,
        )
        input_type, existing = await self._input_type_and_existing(project_id, arrays.external_ids)
        plan = plan_import(project_id, input_type, arrays)
        if existing is None:  # external ids made by the plan: looked up once made
            existing = await self._core.lookups.existing_external_ids(project_id, plan.external_ids)
        new = [i for i, external_id in enumerate(plan.external_ids) if external_id not in existing]
        if id_array is not None:
            await self._refuse_taken_ids(project_id, [plan.ids[i] for i in new])
        importer = Importer(self._core, project_id, input_type, plan, wait_until_availability)
        outcome = await self._import(importer, new)
        raced = {i for i, asset_id in outcome if asset_id is None}
        return {
            "id": project_id,
            "asset_ids": [asset_id for _, asset_id in outcome if asset_id is not None],
            "skipped_external_ids": [
                e for i, e in enumerate(plan.external_ids) if e in existing or i in raced
            ],
        }

    async def _input_type_and_existing(
        self, project_id: str, external_ids: list[str] | None
    ) -> tuple[InputType | None, set[str] | None]:
        """The project's input type and, when ``external_ids`` are given, which of them it
        has: asked at once (one round trip instead of two), the input type's error (e.g.
        no such project) raised first. Without ``external_ids``, None for the second."""
        lookups = self._core.lookups
        if external_ids is None:
            return await lookups.input_type(project_id), None
        found: list[set[str] | Exception] = []
        failed: Exception | None = None

        async def existing() -> None:
            try:
                found.append(await lookups.existing_external_ids(project_id, external_ids))
            except Exception as exc:  # raised below, after the input type's own error
                found.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(existing)
            try:
                input_type = await lookups.input_type(project_id)
            except Exception as exc:
                failed = exc
                tg.cancel_scope.cancel()
        if failed is not None:
            raise failed
        if isinstance(found[0], Exception):
            raise found[0]
        return input_type, found[0]

    async def _refuse_taken_ids(self, project_id: str, ids: list[str]) -> None:
        """A KiliInputError naming the ones of ``ids`` already used in the project."""
        taken = await self._core.lookups.existing_asset_ids(project_id, ids)
        if taken:
            shown = ", ".join(map(repr, sorted(taken)[:5]))
            raise KiliInputError(
                f"id_array: asset id(s) already in project {project_id!r}: {shown}. "
                "Give new ids. Nothing was imported."
            )

    async def _import(self, importer: Importer, indexes: list[int]) -> list[Outcome]:
        """Import the plan's assets ``indexes``: one bulk run per import path, so that each
        chunk goes one way; the outcomes in input order. A path that fails does not stop
        the others: one :class:`BulkOperationError` at the end lists every failed asset
        and carries the outcome of every asset that was imported, whatever its path. The
        paths share the client's deadline."""
        plan, outcome, failures = importer.plan, [], []
        with self._core.deadline():  # one deadline for all the paths
            for path in dict.fromkeys(plan.kinds[i] for i in indexes):
                chosen = [i for i in indexes if plan.kinds[i] == path]
                try:
                    outcome += await self._core.bulk(
                        "append_many_to_dataset",
                        chosen,
                        importer.send,
                        keys=[plan.external_ids[i] for i in chosen],
                        indexes=chosen,
                        chunk_size=C.ASSETS_CHUNK,
                        reconcile=importer.reconcile,
                    )
                except BulkOperationError as exc:
                    outcome += exc.succeeded
                    failures += exc.failures
                    operation = exc.operation
        if failures:
            failures.sort(key=lambda f: f.index)
            raise BulkOperationError(operation, failures, sorted(outcome))
        return sorted(outcome)
