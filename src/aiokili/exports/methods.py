"""Exports: a project's labels as a zip archive in the Kili, YOLO, COCO, Pascal VOC or GeoJSON
format (or an LLM conversation list), streamed page by page; labels as a pandas DataFrame."""

from __future__ import annotations

import importlib
import json
import mimetypes
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, get_args

import anyio
import httpx

from .._core.base import Domain, auth_headers
from .._core.inputs import where_from
from .._core.listing import ListingSpec
from .._core.lookups import project_not_found
from .._generated.fragments import ExportAsset, ExportAssetAllLabels, ExportLabel
from .._generated.input_types import AssetWhere, LabelWhere, ProjectWhere
from .._generated.operations import (
    COUNT_EXPORT_ASSETS_GQL,
    EXPORT_ASSETS_ALL_LABELS_GQL,
    EXPORT_ASSETS_GQL,
)
from ..errors import APIError, KiliInputError, NotFoundError
from ..models import LabelTypeName
from .archive import Archive
from .formats import (
    CocoAnnotationModifier,
    Context,
    ExportFormat,
    ExportFormatError,
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

__all__ = ["CocoAnnotationModifier", "ExportFormat", "ExportFormatError", "ExportMethods", "Layout"]

EXPORT_ASSETS = ListingSpec(
    model=ExportAsset,
    fragment="ExportAsset",
    page_document=EXPORT_ASSETS_GQL,
    page_operation="ExportAssets",
    count_document=COUNT_EXPORT_ASSETS_GQL,
    count_operation="CountExportAssets",
)
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
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")

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

    def __init__(self, core: Any, directory: Path) -> None:
        self._core = core
        self._dir = directory
        self._limiter = anyio.CapacityLimiter(MEDIA_CONCURRENCY)

    def _headers(self, url: str) -> dict[str, str]:
        """The API key for the API's own URLs only (``Settings.owns``)."""
        if self._core.settings.owns(url):
            return auth_headers(self._core.settings.api_key)
        return {}

    async def fetch(self, asset: dict[str, Any]) -> None:
        url = asset.get("content")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return
        name = _UNSAFE.sub("_", str(asset.get("externalId") or asset["id"]))
        for attempt in (1, 2):
            try:
                async with (
                    self._limiter,
                    self._core.runtime.http.stream("GET", url, headers=self._headers(url)) as r,
                ):
                    if r.status_code >= 400:
                        raise APIError(
                            f"Downloading the media of asset {asset.get('externalId')!r} "
                            f"({url}) failed: HTTP {r.status_code}."
                        )
                    kind = r.headers.get("content-type", "").split(";")[0].strip()
                    suffix = Path(name).suffix.lower()
                    full = name
                    if kind and not (suffix and suffix in mimetypes.types_map):
                        full += mimetypes.guess_extension(kind) or ""
                    path = self._dir / full
                    async with await anyio.open_file(path, "wb") as file:
                        async for chunk in r.aiter_bytes(1 << 20):
                            await file.write(chunk)
                asset["_local"] = str(path)
                return
            except httpx.TransportError as exc:
                if attempt == 2:
                    raise APIError(
                        f"Downloading the media of asset {asset.get('externalId')!r} ({url}) "
                        f"failed: {exc}."
                    ) from exc

    async def fetch_all(self, assets: list[dict[str, Any]]) -> None:
        async with anyio.create_task_group() as group:
            for asset in assets:
                group.start_soon(self.fetch, asset)


class ExportMethods(Domain):
    """``export_labels``, ``export_labels_as_df``."""

    async def _export_project(self, project_id: str) -> dict[str, Any]:
        found = (await self._core.gql.export_project(where=ProjectWhere(id=project_id))).data
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
    ) -> AssetWhere:
        filters = dict(asset_filter_kwargs or {})
        unknown = sorted(set(filters) - set(_ASSET_FILTERS))
        if unknown:
            raise KiliInputError(
                f"asset_filter_kwargs: unknown filter(s) {', '.join(unknown)}. "
                f"Accepted: {', '.join(sorted(_ASSET_FILTERS))}."
            )
        given = {k: v for k, v in filters.items() if v is not None}
        where = where_from(
            AssetWhere, given, _ASSET_FILTERS, project={"id": project_id},
            label={"type_in": list(label_types)},
        )  # fmt: skip
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
        *,
        progress: Progress | None = None,
    ) -> list[dict[str, Any]] | None:
        """Export the project's labels to ``filename`` (a zip archive) in format ``fmt``.

        Each asset's latest label (of type DEFAULT or REVIEW, as the platform picks it) is
        exported; ``llm_v1`` exports every label. Pages of assets are fetched concurrently
        and written to the archive as they arrive, so memory stays flat whatever the size.

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
            progress: called with ``(assets done, total)`` after each page.

        Raises:
            KiliInputError: a bad argument (checked before any request).
            ExportFormatError: the format cannot export this project's input type or jobs
                (before anything is written).
            NotFoundError: unknown project or external ids.
        """
        check_options(fmt, layout, single_file, normalized_coordinates, filename)
        for name, flag in (("with_assets", with_assets),):
            if not isinstance(flag, bool):
                raise KiliInputError(f"{name} must be True or False; got {flag!r}.")
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
        include_sent_back = include_sent_back_labels is not False

        project = await self._export_project(project_id)
        check_project(fmt, project)
        if with_assets and project["dataConnections"]:
            raise KiliInputError(
                "with_assets=True: the project's media are in a cloud storage connection; "
                "export with with_assets=False."
            )
        where = await self._asset_where(project_id, ids, externals, types, asset_filter_kwargs)
        export_type = "normal" if fmt == "llm_v1" else "latest"
        spec: ListingSpec[Any] = (
            EXPORT_ASSETS_ALL_LABELS if export_type == "normal" else EXPORT_ASSETS
        )
        options = Options(
            fmt=fmt, layout=layout, single_file=single_file,
            with_assets=with_assets or fmt == "llm_v1",
            normalized_coordinates=normalized_coordinates,
            annotation_modifier=annotation_modifier, endpoint=self._core.settings.endpoint,
        )  # fmt: skip
        ctx = Context(project=project, options=options, export_type=export_type)
        listing = self._core.listing(spec, where, fields=None, first=None, skip=0)
        total = await listing.count() if progress is not None else 0

        if fmt == "llm_v1":
            return await self._export_llm(ctx, listing, filename, types, include_sent_back,
                                          progress, total)  # fmt: skip

        assert filename is not None
        archive = await anyio.to_thread.run_sync(Archive, Path(filename))
        try:
            writer = await anyio.to_thread.run_sync(writer_for, ctx, archive)
            media = _Media(self._core, Path(archive.temp_dir)) if with_assets else None
            done = 0
            async with listing:
                async for page in listing.pages():
                    assets = [_asset_dict(a) for a in page]
                    kept = [a for a in (_keep(a, types, include_sent_back) for a in assets) if a]
                    if media is not None:
                        await media.fetch_all(kept)
                    await anyio.to_thread.run_sync(
                        partial(_write_page, writer, archive, kept, media_dir(fmt))
                    )
                    done += len(page)
                    if progress is not None:
                        progress(done, total)
            await anyio.to_thread.run_sync(writer.finish)
            archive.write("README.kili.txt", readme(project, fmt, export_type))
            await anyio.to_thread.run_sync(archive.close)
        except BaseException:
            await anyio.to_thread.run_sync(archive.discard)
            raise
        return None

    async def _export_llm(
        self,
        ctx: Context,
        listing: Any,
        filename: str | Path | None,
        types: Sequence[str],
        include_sent_back: bool,
        progress: Progress | None,
        total: int,
    ) -> list[dict[str, Any]] | None:
        import tempfile

        temp = await anyio.to_thread.run_sync(partial(tempfile.mkdtemp, prefix="aiokili-llm-"))
        writer = LlmWriter(ctx, None)
        media = _Media(self._core, Path(temp))
        done = 0
        try:
            async with listing:
                async for page in listing.pages():
                    kept = [
                        a
                        for a in (_keep(_asset_dict(a), types, include_sent_back) for a in page)
                        if a
                    ]
                    await media.fetch_all(kept)
                    await anyio.to_thread.run_sync(writer.add, kept)
                    done += len(page)
                    if progress is not None:
                        progress(done, total)
        finally:
            import shutil

            await anyio.to_thread.run_sync(partial(shutil.rmtree, temp, ignore_errors=True))
        if filename is None:
            return writer.items
        text = json.dumps(writer.items, sort_keys=True, indent=4)
        await anyio.Path(filename).write_text(text, encoding="utf-8")
        return None

    async def export_labels_as_df(
        self,
        project_id: str,
        fields: Sequence[str] = ("author.email", "author.id", "createdAt", "id", "labelType"),
        asset_fields: Sequence[str] = ("externalId",),
    ) -> Any:
        """The project's labels as a pandas DataFrame (needs the ``pandas`` extra): one row
        per label, columns ``fields`` (dotted, as the API names them) then ``labelOf.<f>``
        for each of ``asset_fields``."""
        try:
            pd = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "export_labels_as_df needs pandas: pip install 'aiokili[pandas]'"
            ) from None
        for name, value in (("fields", fields), ("asset_fields", asset_fields)):
            if isinstance(value, str) or not all(isinstance(f, str) and f for f in value):
                raise KiliInputError(f"{name} must be a list of field names; got {value!r}.")
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError("export_labels_as_df() needs project_id.")
        await self._export_project(project_id)  # NotFoundError for an unknown project
        document, columns = _df_document(list(fields), list(asset_fields))
        where = LabelWhere.model_validate({"project": {"id": project_id}})
        where_json = where.model_dump(by_alias=True, exclude_none=True)
        rows: list[dict[str, Any]] = []
        skip, size = 0, self._core.settings.page_size
        while True:
            data = await self._core.gql.run(
                document, "ExportLabelsFrame", {"where": where_json, "first": size, "skip": skip}
            )
            page = data["data"]
            rows.extend({c: _dig(item, c) for c in columns} for item in page)
            if len(page) < size:
                break
            skip += size
        return pd.DataFrame(rows, columns=columns)


def _write_page(writer: Any, archive: Archive, assets: list[dict[str, Any]], folder: str) -> None:
    writer.add(assets)
    for asset in assets:
        local = asset.get("_local")
        if local:
            archive.write_file(f"{folder}/{Path(local).name}", local)
            Path(local).unlink(missing_ok=True)


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _df_document(fields: list[str], asset_fields: list[str]) -> tuple[str, list[str]]:
    columns = [*fields, *(f"labelOf.{f}" for f in asset_fields)]
    tree: dict[str, Any] = {}
    for column in columns:
        if not _FIELD.match(column):
            raise KiliInputError(f"fields: {column!r} is not a field name.")
        node = tree
        for part in column.split("."):
            node = node.setdefault(part, {})

    def render(node: dict[str, Any]) -> str:
        return " ".join(k + (" { " + render(v) + " }" if v else "") for k, v in node.items())

    document = (
        "query ExportLabelsFrame($where: LabelWhere!, $first: PageSize!, $skip: Int!) "
        "{ data: labels(where: $where, first: $first, skip: $skip) { " + render(tree) + " } }"
    )
    return document, columns


def _dig(item: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item
