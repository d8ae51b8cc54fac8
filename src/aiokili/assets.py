"""Assets: list, count, import (URLs, raw text and local files via signed-URL upload)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from . import _constants as C
from ._contents import Content, classify
from ._core import Domain
from ._generated.input_types import AppendManyAssetsData, AssetWhere, ProjectWhere
from ._generated.operations import ASSETS_GQL, COUNT_ASSETS_GQL
from ._inputs import (
    FILTERS_CONFIG,
    as_list,
    build,
    json_text,
    no_duplicates,
    project_where,
    same_length,
)
from ._listing import Listing, ListingSpec
from ._uploads import UploadItem
from .errors import KiliInputError
from .models import Asset, InputType, LabelType, Status

AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]
"""Names of :class:`~aiokili.Status` (a test keeps the two in step)."""
LabelTypeName = Literal["AUTOSAVE", "DEFAULT", "INFERENCE", "PREDICTION", "REVIEW"]
"""Names of :class:`~aiokili.LabelType`."""


@with_config(FILTERS_CONFIG)
class AssetFilters(TypedDict, total=False):
    """Filters of :meth:`AssetMethods.assets` and :meth:`AssetMethods.count_assets`."""

    asset_id: str
    asset_id_in: Sequence[str]
    asset_id_not_in: Sequence[str]
    external_id_contains: Sequence[str]
    """External ids containing any of these strings."""
    external_id_strictly_in: Sequence[str]
    """External ids equal to any of these."""
    status_in: Sequence[Status | AssetStatusName]
    metadata_where: dict[str, Any]
    """``{"k": "v"}`` (equal), ``{"k": ["a", "b"]}`` (one of), ``{"k": [2, 10]}`` (range)."""
    consensus_mark_gt: float
    consensus_mark_lt: float
    honeypot_mark_gt: float
    honeypot_mark_lt: float
    skipped: bool
    updated_at_gte: str
    """Dates: ``"YYYY-MM-DD"`` or ISO-8601, bounds included."""
    updated_at_lte: str
    created_at_gte: str
    created_at_lte: str
    label_author_in: Sequence[str]
    """The asset has a label by one of these authors (name, email or id)..."""
    label_consensus_mark_gt: float
    label_consensus_mark_lt: float
    label_created_at: str
    label_created_at_gt: str
    label_created_at_lt: str
    label_honeypot_mark_gt: float
    label_honeypot_mark_lt: float
    label_type_in: Sequence[LabelType | LabelTypeName]
    label_category_search: str
    """...or a label matching ``"JOB.CATEGORY.count > 0 AND ..."``."""


_WHERE = {
    "asset_id": "id",
    "asset_id_in": "id_in",
    "asset_id_not_in": "id_not_in",
    "external_id_contains": "external_id_in",
    "external_id_strictly_in": "external_id_strictly_in",
    "status_in": "status_in",
    "metadata_where": "metadata",
    "consensus_mark_gt": "consensus_mark_gte",
    "consensus_mark_lt": "consensus_mark_lte",
    "honeypot_mark_gt": "honeypot_mark_gte",
    "honeypot_mark_lt": "honeypot_mark_lte",
    "skipped": "skipped",
    "updated_at_gte": "updated_at_gte",
    "updated_at_lte": "updated_at_lte",
    "created_at_gte": "created_at_gte",
    "created_at_lte": "created_at_lte",
    "label_author_in": "label.author_in",
    "label_consensus_mark_gt": "label.consensus_mark_gte",
    "label_consensus_mark_lt": "label.consensus_mark_lte",
    "label_created_at": "label.created_at",
    "label_created_at_gt": "label.created_at_gte",
    "label_created_at_lt": "label.created_at_lte",
    "label_honeypot_mark_gt": "label.honeypot_mark_gte",
    "label_honeypot_mark_lt": "label.honeypot_mark_lte",
    "label_type_in": "label.type_in",
    "label_category_search": "label.search",
}

ASSETS = ListingSpec(
    model=Asset,
    fragment="Asset",
    page_document=ASSETS_GQL,
    page_operation="Assets",
    count_document=COUNT_ASSETS_GQL,
    count_operation="CountAssets",
)


class AppendManyToDatasetResult(TypedDict):
    """What :meth:`AssetMethods.append_many_to_dataset` returns."""

    id: str
    """The project id."""
    asset_ids: list[str]
    """Ids of the assets created by this call, in input order."""
    skipped_external_ids: list[str]
    """External ids already in the project, so not imported again."""


def _where(method: str, project_id: str, filters: dict[str, Any]) -> AssetWhere:
    return project_where(AssetWhere, AssetFilters, _WHERE, method, project_id, filters)


def _random_hex(count: int, digits: int) -> list[str]:
    """``count`` random hex strings of ``digits`` characters, from one read of the OS's
    random source (a uuid4 per asset costs more than the rest of a URL import)."""
    blob = os.urandom(count * digits // 2).hex()
    return [blob[i : i + digits] for i in range(0, count * digits, digits)]


def _classify(contents: Sequence[str | os.PathLike[str]]) -> list[Content]:
    """Classify every content; one error listing every problem found."""
    classified: list[Content] = []
    problems: list[str] = []
    for index, value in enumerate(contents):
        try:
            classified.append(classify(index, value))
        except KiliInputError as exc:
            problems.append(str(exc))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise KiliInputError(" ".join(problems[:5]) + more + " Nothing was imported.")
    return classified


class AssetMethods(Domain):
    """Asset methods of :class:`~aiokili.AsyncKili`."""

    def assets(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        format: None = None,
        download_media: Literal[False] = False,
        local_media_dir: None = None,
        **filters: Unpack[AssetFilters],
    ) -> Listing[Asset]:
        """Assets of a project matching the filters, oldest first (see :class:`AssetFilters`).

        ``async for asset in kili.assets(project_id): ...``, or ``await`` it for a list.

        Args:
            project_id: the project.
            fields: field paths (e.g. ``["id", "externalId", "labels.jsonResponse"]``);
                default: every field of :class:`~aiokili.Asset`, with its labels.
            first: maximum number of assets (default: all). skip: assets to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
            format, download_media, local_media_dir: not supported yet (raise).
        """
        if format is not None:
            raise KiliInputError(
                "format= is not supported: aiokili yields typed Asset models. For pandas: "
                "pd.DataFrame([a.model_dump() for a in await kili.assets(...)])."
            )
        if download_media or local_media_dir is not None:
            raise KiliInputError("download_media is not supported by aiokili yet.")
        where = _where("assets", project_id, dict(filters))
        return self._core.listing(ASSETS, where, fields=fields, first=first, skip=skip)

    async def count_assets(self, project_id: str, **filters: Unpack[AssetFilters]) -> int:
        """Number of assets matching the filters (see :class:`AssetFilters`)."""
        where = _where("count_assets", project_id, dict(filters))
        return (await self._core.gql.count_assets(where=where)).data

    async def append_many_to_dataset(
        self,
        project_id: str,
        content_array: Sequence[str | os.PathLike[str]] | None = None,
        external_id_array: Sequence[str] | None = None,
        id_array: Sequence[str] | None = None,
        is_honeypot_array: Sequence[bool] | None = None,
        status_array: Sequence[str] | None = None,
        json_content_array: Sequence[Any] | None = None,
        json_metadata_array: Sequence[dict[str, Any]] | None = None,
        disable_tqdm: bool | None = None,
    ) -> AppendManyToDatasetResult:
        """Import assets into a project; return the ids of the created assets.

        ``content_array`` items are URLs (kept as they are), local files (a path, or a
        ``pathlib.Path``; uploaded through Kili's signed URLs), or, in TEXT projects, raw
        text (uploaded too). Every array has one entry per asset. Assets whose external id
        is already in the project are skipped, so an interrupted import can be run again.
        Assets go in chunks of 100, ``concurrency`` chunks at a time; on partial failure
        :class:`~aiokili.errors.BulkOperationError` lists each failed asset.

        Args:
            project_id: the project.
            content_array: URLs, local paths or raw text.
            external_id_array: your ids, non-empty strings (default: random).
            id_array: Kili asset ids to use (default: generated client-side).
            is_honeypot_array: True/False per asset.
            status_array: deprecated and ignored (every asset starts as TODO).
            json_content_array: rich content (TEXT rich text, VIDEO frame lists), sent as
                JSON text.
            json_metadata_array: one metadata dict per asset.
            disable_tqdm: accepted for compatibility; ``aiokili assets import`` shows progress.
        """
        contents = as_list("content_array", content_array, str, os.PathLike)
        external_ids = as_list("external_id_array", external_id_array, str)
        ids = as_list("id_array", id_array, str)
        honeypots = as_list("is_honeypot_array", is_honeypot_array, bool)
        metadata = as_list("json_metadata_array", json_metadata_array, dict)
        json_contents = as_list("json_content_array", json_content_array, str, dict, list)
        if contents is None and json_contents is None:
            raise KiliInputError("Give content_array (URLs, paths or text) or json_content_array.")
        if status_array is not None:
            warnings.warn(
                "status_array is ignored: imported assets always start as TODO.",
                DeprecationWarning,
                stacklevel=2,
            )
        count = same_length(
            content_array=contents, external_id_array=external_ids, id_array=ids,
            is_honeypot_array=honeypots, json_content_array=json_contents,
            json_metadata_array=metadata,
        )  # fmt: skip
        for name, values in (("external_id_array", external_ids), ("id_array", ids)):
            empty = [i for i, v in enumerate(values or ()) if not v.strip()]
            if empty:
                raise KiliInputError(f"{name}[{empty[0]}] is empty: give a non-empty id.")
            no_duplicates(name, values)
        metadata_text = [
            json_text(f"json_metadata_array[{i}]", m) for i, m in enumerate(metadata or ())
        ]
        content_text = [
            c
            if isinstance(c, str)
            else json_text(f"json_content_array[{i}]", c, objects_only=False)
            for i, c in enumerate(json_contents or ())
        ]
        classified = _classify(contents if contents is not None else [""] * count)

        input_type = await self._core.lookups.input_type(project_id)
        texts = [i for i, c in enumerate(classified) if c.kind == "text"]
        if texts and input_type != InputType.TEXT:
            raise KiliInputError(
                f"content_array[{texts[0]}] is neither a URL nor an existing file, and project "
                f"{project_id!r} is a {input_type.value if input_type else '?'} project (raw "
                "text is only for TEXT projects). Nothing was imported."
            )
        external_ids = external_ids or _random_hex(count, 32)
        ids = ids or ["c" + h for h in _random_hex(count, 24)]  # client-side, cuid-like
        existing = await self._core.lookups.existing_external_ids(project_id, external_ids)
        keep = [i for i in range(count) if external_ids[i] not in existing]
        if id_array is not None:
            taken = await self._core.lookups.existing_asset_ids(project_id, [ids[i] for i in keep])
            if taken:
                shown = ", ".join(map(repr, sorted(taken)[:5]))
                raise KiliInputError(
                    f"id_array: asset id(s) already in project {project_id!r}: {shown}. "
                    "Give new ids. Nothing was imported."
                )

        async def send(indexes: Sequence[int]) -> list[tuple[int, str | None]]:
            row = [classified[i].value for i in indexes]
            uploads = [
                (slot, UploadItem(
                    path=f"projects/{project_id}/assets/{ids[i]}/content",
                    source=classified[i].path or classified[i].value.encode(),
                    content_type=classified[i].content_type,
                ))
                for slot, i in enumerate(indexes) if classified[i].kind in ("file", "text")
            ]  # fmt: skip
            urls = await self._core.uploads.upload([item for _, item in uploads])
            for (slot, _), url in zip(uploads, urls, strict=True):
                row[slot] = url
            data = build(
                AppendManyAssetsData,
                content_array=row,
                external_id_array=[external_ids[i] for i in indexes],
                id_array=[ids[i] for i in indexes],
                is_honeypot_array=[honeypots[i] for i in indexes] if honeypots else None,
                json_content_array=[content_text[i] for i in indexes] if content_text else None,
                json_metadata_array=[metadata_text[i] if metadata_text else "{}" for i in indexes],
            )
            result = await self._core.gql.append_many_assets(
                data=data, where=ProjectWhere(id=project_id)
            )
            created = {asset.id for asset in result.data}
            return [(i, ids[i] if ids[i] in created else None) for i in indexes]

        outcome = await self._core.bulk(
            "append_many_to_dataset", keep, send,
            keys=[external_ids[i] for i in keep], indexes=keep, chunk_size=C.ASSETS_CHUNK,
        )  # fmt: skip
        raced = {i for i, asset_id in outcome if asset_id is None}
        return {
            "id": project_id,
            "asset_ids": [asset_id for _, asset_id in outcome if asset_id is not None],
            "skipped_external_ids": [
                e for i, e in enumerate(external_ids) if e in existing or i in raced
            ],
        }
