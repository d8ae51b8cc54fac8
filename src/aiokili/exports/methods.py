"""Exports: a project's labels as a zip archive in the Kili, YOLO, COCO, Pascal VOC or GeoJSON
format (or an LLM conversation list), streamed page by page; labels as a pandas DataFrame."""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import anyio

from .._core.base import Domain
from .._core.inputs import where_from
from .._core.listing import Listing, ListingSpec
from .._core.lookups import project_not_found
from .._core.names import MAPPING, MemberNames
from .._core.tasks import gather_or_raise
from .._generated import input_types as inputs
from .._generated.fragments import ExportAsset, ExportAssetAllLabels, ExportLabel, ExportLabelRow
from .._generated.operations import (
    COUNT_EXPORT_ASSETS_GQL,
    COUNT_LABELS_GQL,
    EXPORT_ASSETS_ALL_LABELS_GQL,
    EXPORT_ASSETS_GQL,
    EXPORT_LABEL_ROWS_GQL,
)
from .._generated.scalars import serialize_datetime
from ..errors import KiliInputError, NotFoundError
from ..models import LabelTypeName
from .formats import (
    CocoAnnotationModifier,
    Context,
    ExportFormat,
    ExportFormatError,
    ExportType,
    Layout,
    LlmWriter,
    Options,
    check_options,
    check_project,
    media_dir,
    readme,
    sequence_of_str,
    writer_for,
)

if TYPE_CHECKING:
    from .archive import Archive

__all__ = [
    "CocoAnnotationModifier",
    "ExportFormat",
    "ExportFormatError",
    "ExportMethods",
    "ExportType",
    "Layout",
]

EXPORT_ASSETS = ListingSpec(
    model=ExportAsset,
    fragment="ExportAsset",
    page_document=EXPORT_ASSETS_GQL,
    page_operation="ExportAssets",
    count_document=COUNT_EXPORT_ASSETS_GQL,
    count_operation="CountExportAssets",
)
EXPORT_LABEL_ROWS = ListingSpec(
    model=ExportLabelRow,
    fragment="ExportLabelRow",
    page_document=EXPORT_LABEL_ROWS_GQL,
    page_operation="ExportLabelRows",
    count_document=COUNT_LABELS_GQL,
    count_operation="CountLabels",
)
"""Labels with every field a frame of :meth:`ExportMethods.export_labels_as_df` may take."""
EXPORT_ASSETS_ALL_LABELS = ListingSpec(
    model=ExportAssetAllLabels,
    fragment="ExportAssetAllLabels",
    page_document=EXPORT_ASSETS_ALL_LABELS_GQL,
    page_operation="ExportAssetsAllLabels",
    count_document=COUNT_EXPORT_ASSETS_GQL,
    count_operation="CountExportAssets",
)

# asset_filter_kwargs -> AssetWhere path (the official SDK's list)
_ASSET_FILTERS = {
    "consensus_mark_gte": "consensus_mark_gte",
    "consensus_mark_lte": "consensus_mark_lte",
    "external_id_strictly_in": "external_id_strictly_in",
    "external_id_in": "external_id_in",
    "honeypot_mark_gte": "honeypot_mark_gte",
    "honeypot_mark_lte": "honeypot_mark_lte",
    "inference_mark_gte": "inference_mark_gte",
    "inference_mark_lte": "inference_mark_lte",
    "label_author_in": "label.author_in",
    "label_labeler_in": "label.labeler_in",
    "label_labeler_not_in": "label.labeler_not_in",
    "label_reviewer_in": "label.reviewer_in",
    "label_reviewer_not_in": "label.reviewer_not_in",
    "assignee_in": "assignee_in",
    "assignee_not_in": "assignee_not_in",
    "skipped": "skipped",
    "status_in": "status_in",
    "label_category_search": "label.search",
    "created_at_gte": "created_at_gte",
    "created_at_lte": "created_at_lte",
    "issue_type": "issue.type",
    "issue_status": "issue.status",
    "metadata_where": "metadata",
    "step_id_in": "step_id_in",
    "step_status_in": "step_status_in",
    "group_name_in": "group_name_in",
    "group_name_not_in": "group_name_not_in",
}
DEFAULT_LABEL_TYPES = ("DEFAULT", "REVIEW")
MEDIA_CONCURRENCY = 8
Progress = Callable[[int, int], None]
"""``(assets done, assets in the export)``, called after each page."""


def _label_dict(label: ExportLabel) -> dict[str, Any]:
    author = label.author
    created = label.created_at
    return {
        "author": None
        if author is None
        else {
            "id": author.id,
            "email": author.email,
            "firstname": author.firstname,
            "lastname": author.lastname,
            "name": f"{author.firstname} {author.lastname}",
        },
        "createdAt": None
        if created is None
        else created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "isLatestLabelForUser": label.is_latest_label_for_user,
        "isSentBackToQueue": label.is_sent_back_to_queue,
        "jsonResponse": _digit_keys(label.json_response),
        "jsonResponseUrl": label.json_response_url,
        "labelType": None if label.label_type is None else label.label_type.value,
        "modelName": label.model_name,
    }


def _digit_keys(response: Any) -> Any:
    """Video frame keys ("0", "1"...) become ints, as in the official export."""
    if isinstance(response, dict) and any(isinstance(k, str) and k.isdigit() for k in response):
        return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in response.items()}
    return response if response is not None else {}


def _asset_dict(asset: ExportAsset | ExportAssetAllLabels) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": asset.id,
        "externalId": asset.external_id,
        "content": asset.content,
        "jsonContent": asset.json_content,
        "jsonMetadata": asset.json_metadata,
        "status": None if asset.status is None else asset.status.value,
        "pageResolutions": None
        if asset.page_resolutions is None
        else [
            {
                "pageNumber": p.page_number,
                "width": p.width,
                "height": p.height,
                "rotation": p.rotation,
            }
            for p in asset.page_resolutions
        ],
        "resolution": None
        if asset.resolution is None
        else {"width": asset.resolution.width, "height": asset.resolution.height},
    }
    if isinstance(asset, ExportAsset):
        latest = asset.latest_label
        out["latestLabel"] = None if latest is None else _label_dict(latest)
    else:
        out["labels"] = [_label_dict(label) for label in asset.labels or []]
    return out


def _keep(
    asset: dict[str, Any], label_types: Sequence[str], include_sent_back: bool
) -> dict[str, Any] | None:
    """The asset as exported, or None when it has no label to export."""
    if "latestLabel" in asset:
        label = asset["latestLabel"]
        if label is None or label["labelType"] not in label_types:
            return None
        if not include_sent_back and label["isSentBackToQueue"]:
            return None
        return asset
    labels = [
        label
        for label in asset["labels"]
        if label["labelType"] in label_types
        and (include_sent_back or not label["isSentBackToQueue"])
    ]
    return {**asset, "labels": labels} if labels else None


class _Media:
    """Downloads an asset's media next to the archive, a few at a time."""

    def __init__(self, core: Any, directory: Path, names: MemberNames) -> None:
        self._core = core
        self._dir = directory
        self._names = names
        self._limiter = anyio.CapacityLimiter(MEDIA_CONCURRENCY)

    async def fetch(self, asset: dict[str, Any]) -> None:
        url = asset.get("content")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return
        name = self._names.name(str(asset.get("externalId") or asset["id"]))
        what = f"Downloading the media of asset {asset.get('externalId')!r} ({url[:160]})"
        async with self._limiter:
            path = await self._core.downloads.save(url, self._dir, name, what)
        asset["_local"] = str(path)

    async def fetch_all(self, assets: list[dict[str, Any]]) -> None:
        """Download every asset's media; the first failure cancels the rest and is raised."""
        jobs = [partial(self.fetch, asset) for asset in assets]
        await gather_or_raise(jobs, limit=max(1, len(jobs)))


class ExportMethods(Domain):
    """``export_labels``, ``export_labels_as_df``."""

    async def _export_project(self, project_id: str) -> dict[str, Any]:
        found = (await self._core.gql.export_project(where=inputs.ProjectWhere(id=project_id))).data
        if not found:
            raise project_not_found(project_id)
        project = found[0]
        interface = project.json_interface
        if isinstance(interface, str):
            interface = json.loads(interface) if interface else {}
        return {
            "id": project.id,
            "title": project.title,
            "description": project.description,
            "inputType": None if project.input_type is None else project.input_type.value,
            "jsonInterface": interface or {"jobs": {}},
            "dataConnections": [c.id for c in project.data_connections or []],
        }

    async def _asset_where(
        self,
        project_id: str,
        asset_ids: list[str] | None,
        external_ids: list[str] | None,
        label_types: Sequence[str],
        asset_filter_kwargs: Mapping[str, Any] | None,
    ) -> inputs.AssetWhere:
        filters = dict(asset_filter_kwargs or {})
        unknown = sorted(set(filters) - set(_ASSET_FILTERS))
        if unknown:
            raise KiliInputError(
                f"asset_filter_kwargs: unknown filter(s) {', '.join(unknown)}. "
                f"Accepted: {', '.join(sorted(_ASSET_FILTERS))}."
            )
        given = {k: v for k, v in filters.items() if v is not None}
        where = where_from(
            inputs.AssetWhere,
            given,
            _ASSET_FILTERS,
            project={"id": project_id},
            label={"type_in": list(label_types)},
        )
        if external_ids is not None and asset_ids is None:
            found = await self._core.lookups.asset_ids_by_external_id(project_id, external_ids)
            missing = [e for e in external_ids if e not in found]
            if missing:
                raise NotFoundError.from_message(
                    f"external_ids: no asset of project {project_id!r} has the external id(s) "
                    f"{', '.join(map(repr, missing[:10]))}.",
                    "NOT_FOUND",
                )
            asset_ids = [found[e] for e in external_ids]
        if asset_ids:
            where = where.model_copy(update={"id_in": list(asset_ids)})
        return where

    async def export_labels(
        self,
        project_id: str,
        filename: str | Path | None,
        fmt: ExportFormat,
        asset_ids: list[str] | None = None,
        layout: Layout = "split",
        single_file: bool = False,
        disable_tqdm: bool | None = None,
        with_assets: bool = True,
        external_ids: list[str] | None = None,
        annotation_modifier: CocoAnnotationModifier | None = None,
        asset_filter_kwargs: dict[str, Any] | None = None,
        normalized_coordinates: bool | None = None,
        label_type_in: list[str] | None = None,
        include_sent_back_labels: bool | None = None,
        export_type: ExportType = "latest",
        *,
        progress: Progress | None = None,
    ) -> list[dict[str, Any]] | None:
        """Export the project's labels to ``filename`` (a zip archive) in format ``fmt``.

        Each asset's latest label (of type DEFAULT or REVIEW, as the platform picks it) is
        exported, or every label with ``export_type="normal"``; ``llm_v1`` exports every
        label. Pages of assets are fetched concurrently and written to the archive as they
        arrive, so memory stays flat whatever the size.

        Args:
            project_id: the project.
            filename: path of the zip archive (of the JSON file for ``llm_v1``; ``None``
                with ``llm_v1`` returns the conversations instead).
            fmt: ``kili`` (or ``raw``), ``yolo_v4``/``v5``/``v7``/``v8``, ``coco``,
                ``pascal_voc``, ``geojson``, ``llm_v1``.
            asset_ids: only these assets (internal ids).
            layout: ``split`` (one folder per job) or ``merged``; Pascal VOC and GeoJSON
                are merged only.
            single_file: one ``data.json`` (kili format) instead of one file per asset.
            disable_tqdm: accepted for compatibility (aiokili shows no bar; see ``progress``).
            with_assets: download the media into the archive (concurrently).
            external_ids: only the assets of these external ids (when ``asset_ids`` is None).
            annotation_modifier: COCO only, ``(coco_annotation, coco_image, kili_annotation)
                -> coco_annotation``.
            asset_filter_kwargs: filters of ``kili.assets()`` (``status_in``,
                ``metadata_where``, ``label_category_search``...).
            normalized_coordinates: kili format: ``True`` keeps only the normalized
                vertices; otherwise pixel coordinates are added.
            label_type_in: label types exported (default DEFAULT and REVIEW).
            include_sent_back_labels: export labels sent back to the queue (default True).
            export_type: ``"latest"`` (default): each asset's latest label, under
                ``latestLabel``; ``"normal"``: every label of each asset (of the types of
                ``label_type_in``), under ``labels``, kili (raw) format only. The step-based
                ``"latest_from_last_step"`` / ``"latest_from_all_steps"`` are refused.
            progress: called with ``(assets done, total)`` after each page.

        Raises:
            KiliInputError: a bad argument (checked before any request).
            ExportFormatError: the format cannot export this project's input type or jobs
                (before anything is written).
            NotFoundError: unknown project or external ids.
        """
        check_options(fmt, layout, single_file, normalized_coordinates, filename, export_type)
        ids, externals, types = _check_export(
            project_id,
            with_assets,
            include_sent_back_labels,
            asset_ids,
            external_ids,
            label_type_in,
            annotation_modifier,
            asset_filter_kwargs,
        )
        project = await self._export_project(project_id)
        check_project(fmt, project)
        if with_assets and project["dataConnections"]:
            raise KiliInputError(
                "with_assets=True: the project's media are in a cloud storage connection; "
                "export with with_assets=False."
            )
        where = await self._asset_where(project_id, ids, externals, types, asset_filter_kwargs)
        options = Options(
            fmt=fmt,
            layout=layout,
            single_file=single_file,
            with_assets=with_assets or fmt == "llm_v1",
            normalized_coordinates=normalized_coordinates,
            annotation_modifier=annotation_modifier,
            endpoint=self._core.settings.endpoint,
        )
        ctx = Context(project, options, export_type="normal" if fmt == "llm_v1" else export_type)
        spec = EXPORT_ASSETS_ALL_LABELS if ctx.export_type == "normal" else EXPORT_ASSETS
        listing: Listing[Any] = self._core.listing(spec, where, fields=None, first=None, skip=0)
        total = await listing.count() if progress is not None else 0
        run = _ExportRun(self._core, ctx, listing, types, include_sent_back_labels is not False)
        if fmt == "llm_v1":
            return await run.llm(filename, progress, total)
        assert filename is not None
        await run.archive(Path(filename), progress, total)
        return None

    async def export_labels_as_df(
        self,
        project_id: str,
        fields: Sequence[str] = ("author.email", "author.id", "createdAt", "id", "labelType"),
        asset_fields: Sequence[str] = ("externalId",),
    ) -> Any:
        """The project's labels as a pandas DataFrame (needs the ``pandas`` extra), shaped
        as the official SDK's: one row per label, a column per top-level field of
        ``fields`` (dotted fields nest: ``author.email`` and ``author.id`` make one
        ``author`` column of dicts), then ``asset_<field>`` for each of ``asset_fields``;
        values as the API sends them (dates as ISO-8601 text), but a ``jsonResponse`` is a
        dict."""
        pandas = _pandas()
        for name, value in (("fields", fields), ("asset_fields", asset_fields)):
            if isinstance(value, str) or not all(isinstance(f, str) and f for f in value):
                raise KiliInputError(f"{name} must be a list of field names; got {value!r}.")
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError("export_labels_as_df() needs project_id.")
        columns = [*fields, *(f"labelOf.{f}" for f in asset_fields)]
        where = inputs.LabelWhere(project=inputs.ProjectWhere(id=project_id))
        listing = self._core.listing(EXPORT_LABEL_ROWS, where, fields=columns, first=None, skip=0)
        await self._export_project(project_id)  # NotFoundError for an unknown project
        rows = [_row(label, fields, asset_fields) async for label in listing]
        return pandas.DataFrame(rows)


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError(
            "export_labels_as_df needs pandas: pip install 'aiokili[pandas]'"
        ) from None


def _row(
    label: ExportLabelRow, fields: Sequence[str], asset_fields: Sequence[str]
) -> dict[str, Any]:
    """The label's fields nested as the API sends them, then its asset's as ``asset_<f>``."""
    values = label.model_dump(by_alias=True)
    row: dict[str, Any] = {}
    for field in fields:
        _put(row, field, _as_sent(_dig(values, field)))
    asset: dict[str, Any] = {}
    for field in asset_fields:
        _put(asset, field, _as_sent(_dig(values, f"labelOf.{field}")))
    row.update({f"asset_{key}": value for key, value in asset.items()})
    return row


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
    target[last] = value


def _as_sent(value: Any) -> Any:
    """A value as the API sends it: dates in Kili's format, enums as their names."""
    if isinstance(value, datetime):
        return serialize_datetime(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


def _check_export(
    project_id: object,
    with_assets: object,
    include_sent_back_labels: object,
    asset_ids: object,
    external_ids: object,
    label_type_in: object,
    annotation_modifier: object,
    asset_filter_kwargs: object,
) -> tuple[list[str] | None, list[str] | None, list[str]]:
    """``export_labels``' arguments checked, besides the format's options: the asset ids,
    the external ids and the label types (default DEFAULT and REVIEW) to export."""
    if not isinstance(with_assets, bool):
        raise KiliInputError(f"with_assets must be True or False; got {with_assets!r}.")
    if include_sent_back_labels is not None and not isinstance(include_sent_back_labels, bool):
        raise KiliInputError(
            f"include_sent_back_labels must be True, False or None; got "
            f"{include_sent_back_labels!r}."
        )
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError("export_labels() needs project_id, the id of the project.")
    ids = sequence_of_str("asset_ids", asset_ids)
    externals = sequence_of_str("external_ids", external_ids)
    types = sequence_of_str("label_type_in", label_type_in) or list(DEFAULT_LABEL_TYPES)
    bad = [t for t in types if t not in get_args(LabelTypeName)]
    if bad:
        raise KiliInputError(
            f"label_type_in: unknown label type(s) {bad}; use one of "
            f"{', '.join(get_args(LabelTypeName))}."
        )
    if annotation_modifier is not None and not callable(annotation_modifier):
        raise KiliInputError("annotation_modifier must be a function (COCO export only).")
    if asset_filter_kwargs is not None and not isinstance(asset_filter_kwargs, Mapping):
        raise KiliInputError("asset_filter_kwargs must be a dict of kili.assets() filters.")
    return ids, externals, types


class _ExportRun:
    """One ``export_labels`` call, checked and looked up: its pages of assets, as they
    arrive, converted and kept or not (label types, sent back), their media downloaded,
    then written."""

    def __init__(
        self,
        core: Any,
        ctx: Context,
        listing: Listing[Any],
        types: Sequence[str],
        include_sent_back: bool,
    ) -> None:
        self._core, self._ctx, self._listing = core, ctx, listing
        self._types, self._include_sent_back = types, include_sent_back

    async def _pages(
        self, media: _Media | None, progress: Progress | None, total: int
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The assets to export of each page; ``progress`` is told once a page is written."""
        done = 0
        async for page in self._listing.pages():
            assets = (_keep(_asset_dict(a), self._types, self._include_sent_back) for a in page)
            kept = [asset for asset in assets if asset]
            if media is not None:
                await media.fetch_all(kept)
            yield kept
            done += len(page)
            if progress is not None:
                progress(done, total)

    async def archive(self, filename: Path, progress: Progress | None, total: int) -> None:
        """Write the zip archive (completed under a temporary name, removed on failure)."""
        from .archive import Archive  # with pickle, loaded by the first export

        ctx = self._ctx
        archive = await anyio.to_thread.run_sync(Archive, filename)
        try:
            writer = await anyio.to_thread.run_sync(writer_for, ctx, archive)
            temp = Path(archive.temp_dir)
            media = _Media(self._core, temp, ctx.names) if ctx.options.with_assets else None
            folder = media_dir(ctx.options.fmt)
            async with self._listing, aclosing(self._pages(media, progress, total)) as pages:
                async for kept in pages:
                    await anyio.to_thread.run_sync(
                        partial(_write_page, writer, archive, kept, folder)
                    )
            await anyio.to_thread.run_sync(writer.finish)
            if ctx.names.renamed:  # external ids that could not name their files as they are
                archive.write_json(MAPPING, ctx.names.renamed, indent=2)
            archive.write("README.kili.txt", readme(ctx.project, ctx.options.fmt, ctx.export_type))
            await anyio.to_thread.run_sync(archive.close)
        except BaseException:
            with anyio.CancelScope(shield=True):  # a cancelled export cleans up too
                await anyio.to_thread.run_sync(archive.discard)
            raise

    async def llm(
        self, filename: str | Path | None, progress: Progress | None, total: int
    ) -> list[dict[str, Any]] | None:
        """The conversations (``filename`` None), or write them to ``filename`` as JSON."""
        temp = await anyio.to_thread.run_sync(partial(tempfile.mkdtemp, prefix="aiokili-llm-"))
        writer = LlmWriter(self._ctx, None)
        media = _Media(self._core, Path(temp), self._ctx.names)
        try:
            async with self._listing, aclosing(self._pages(media, progress, total)) as pages:
                async for kept in pages:
                    await anyio.to_thread.run_sync(writer.add, kept)
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled export cleans up too
                await anyio.to_thread.run_sync(partial(shutil.rmtree, temp, ignore_errors=True))
        if filename is None:
            return writer.items
        text = json.dumps(writer.items, sort_keys=True, indent=4)
        await anyio.Path(filename).write_text(text, encoding="utf-8")
        return None


def _write_page(writer: Any, archive: Archive, assets: list[dict[str, Any]], folder: str) -> None:
    writer.add(assets)
    for asset in assets:
        local = asset.get("_local")
        if local:
            archive.write_file(f"{folder}/{Path(local).name}", local)
            Path(local).unlink(missing_ok=True)


def _dig(item: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item
