"""Assets: list, count, import (URLs, raw text and local files via signed-URL upload)."""

from __future__ import annotations

import json
import mimetypes
import uuid
import warnings
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

import anyio
import httpx

from ._bulk import chunked, collect, run_chunks
from ._generated.input_types import (
    AppendManyAssetsData,
    AssetLabelWhere,
    AssetWhere,
    ProjectWhere,
)
from ._generated.operations import ASSETS_GQL
from ._inputs import build, duplicates, same_length
from ._transport import backoff
from .errors import APIConnectionError, APIError, KiliInputError
from .models import Asset, InputType, LabelType
from .projects import ProjectsMixin

ASSETS_CHUNK = 100
"""Assets per ``appendManyAssets`` request (Kili's own batch size)."""
SIGNED_URLS_CHUNK = 30
"""Paths per ``createUploadBucketSignedUrls`` request (Kili's limit)."""
EXTERNAL_IDS_CHUNK = 1000
"""External ids per lookup request."""

AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]


class AppendManyToDatasetResult(TypedDict):
    """What :meth:`AssetsMixin.append_many_to_dataset` returns."""

    id: str
    """The project id."""
    asset_ids: list[str]
    """Ids of the assets created by this call, in input order."""
    skipped_external_ids: list[str]
    """External ids already in the project, so not imported again."""


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _json_text(name: str, index: int, value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise KiliInputError(f"{name}[{index}] is not JSON-serializable: {exc}") from None


def _asset_where(
    project_id: str,
    asset_id: str | None = None,
    asset_id_in: Sequence[str] | None = None,
    asset_id_not_in: Sequence[str] | None = None,
    consensus_mark_gt: float | None = None,
    consensus_mark_lt: float | None = None,
    external_id_contains: Sequence[str] | None = None,
    external_id_strictly_in: Sequence[str] | None = None,
    honeypot_mark_gt: float | None = None,
    honeypot_mark_lt: float | None = None,
    label_author_in: Sequence[str] | None = None,
    label_consensus_mark_gt: float | None = None,
    label_consensus_mark_lt: float | None = None,
    label_created_at: str | None = None,
    label_created_at_gt: str | None = None,
    label_created_at_lt: str | None = None,
    label_honeypot_mark_gt: float | None = None,
    label_honeypot_mark_lt: float | None = None,
    label_type_in: Sequence[LabelType | str] | None = None,
    metadata_where: dict[str, Any] | None = None,
    skipped: bool | None = None,
    status_in: Sequence[AssetStatusName] | None = None,
    updated_at_gte: str | None = None,
    updated_at_lte: str | None = None,
    created_at_gte: str | None = None,
    created_at_lte: str | None = None,
    label_category_search: str | None = None,
) -> AssetWhere:
    if not project_id:
        raise KiliInputError("project_id is required: give the id of the project to search.")
    label = build(
        AssetLabelWhere,
        author_in=label_author_in,
        consensus_mark_gte=label_consensus_mark_gt,
        consensus_mark_lte=label_consensus_mark_lt,
        created_at=label_created_at,
        created_at_gte=label_created_at_gt,
        created_at_lte=label_created_at_lt,
        honeypot_mark_gte=label_honeypot_mark_gt,
        honeypot_mark_lte=label_honeypot_mark_lt,
        type_in=label_type_in,
        search=label_category_search,
    )
    return build(
        AssetWhere,
        project=ProjectWhere(id=project_id),
        id=asset_id,
        id_in=asset_id_in,
        id_not_in=asset_id_not_in,
        consensus_mark_gte=consensus_mark_gt,
        consensus_mark_lte=consensus_mark_lt,
        external_id_in=external_id_contains,
        external_id_strictly_in=external_id_strictly_in,
        honeypot_mark_gte=honeypot_mark_gt,
        honeypot_mark_lte=honeypot_mark_lt,
        metadata=metadata_where,
        skipped=skipped,
        status_in=status_in,
        updated_at_gte=updated_at_gte,
        updated_at_lte=updated_at_lte,
        created_at_gte=created_at_gte,
        created_at_lte=created_at_lte,
        label=label if label.model_fields_set else None,
    )


class _Upload:
    """One asset field whose value must be uploaded to the bucket first."""

    __slots__ = ("content_type", "data", "path", "slot")

    def __init__(self, slot: int, path: str, data: bytes | Path, content_type: str) -> None:
        self.slot = slot  # index of the asset in its chunk
        self.path = path  # bucket path
        self.data = data  # raw text bytes, or the local file to read
        self.content_type = content_type


class AssetsMixin(ProjectsMixin):
    """Asset methods of :class:`~aiokili.AsyncKili`."""

    _endpoint_prefix: str
    _auth_headers: dict[str, str]

    def assets(
        self,
        project_id: str,
        asset_id: str | None = None,
        skip: int = 0,
        fields: Sequence[str] | None = None,
        asset_id_in: Sequence[str] | None = None,
        consensus_mark_gt: float | None = None,
        consensus_mark_lt: float | None = None,
        disable_tqdm: bool = False,
        external_id_contains: Sequence[str] | None = None,
        first: int | None = None,
        format: str | None = None,
        honeypot_mark_gt: float | None = None,
        honeypot_mark_lt: float | None = None,
        label_author_in: Sequence[str] | None = None,
        label_consensus_mark_gt: float | None = None,
        label_consensus_mark_lt: float | None = None,
        label_created_at: str | None = None,
        label_created_at_gt: str | None = None,
        label_created_at_lt: str | None = None,
        label_honeypot_mark_gt: float | None = None,
        label_honeypot_mark_lt: float | None = None,
        label_type_in: Sequence[LabelType | str] | None = None,
        metadata_where: dict[str, Any] | None = None,
        skipped: bool | None = None,
        status_in: Sequence[AssetStatusName] | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        label_category_search: str | None = None,
        download_media: bool = False,
        local_media_dir: str | None = None,
        external_id_strictly_in: Sequence[str] | None = None,
        asset_id_not_in: Sequence[str] | None = None,
        created_at_gte: str | None = None,
        created_at_lte: str | None = None,
    ) -> AsyncIterator[Asset]:
        """Iterate over the assets of a project, oldest first.

        ``async for asset in kili.assets(project_id): asset.external_id ...``

        Args:
            project_id: the project.
            asset_id / asset_id_in / asset_id_not_in: asset ids.
            external_id_contains: external ids containing any of these strings;
                external_id_strictly_in: exactly any of these.
            status_in: e.g. ["TODO", "LABELED"].
            metadata_where: ``{"k": "v"}`` (equal), ``{"k": ["a", "b"]}`` (one of),
                ``{"k": [2, 10]}`` (numeric range, inclusive).
            consensus_mark_gt/lt, honeypot_mark_gt/lt: marks of the asset (inclusive).
            label_*: the asset has at least one label matching all of them.
            updated_at_gte/lte, created_at_gte/lte: dates, "YYYY-MM-DD".
            fields: GraphQL field paths (e.g. ``["id", "externalId", "labels.jsonResponse"]``);
                default: every field of :class:`~aiokili.Asset`, with its labels.
            first: maximum number of assets (default: all). skip: assets to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
            format, download_media, local_media_dir: not supported yet (raise).
        """
        if format is not None:
            raise KiliInputError(
                "format= is not supported: aiokili yields typed Asset models. For pandas: "
                "pd.DataFrame([a.model_dump() async for a in kili.assets(...)])."
            )
        if download_media or local_media_dir is not None:
            raise KiliInputError("download_media is not supported by aiokili yet.")
        where = _asset_where(
            project_id, asset_id, asset_id_in, asset_id_not_in, consensus_mark_gt,
            consensus_mark_lt, external_id_contains, external_id_strictly_in, honeypot_mark_gt,
            honeypot_mark_lt, label_author_in, label_consensus_mark_gt, label_consensus_mark_lt,
            label_created_at, label_created_at_gt, label_created_at_lt, label_honeypot_mark_gt,
            label_honeypot_mark_lt, label_type_in, metadata_where, skipped, status_in,
            updated_at_gte, updated_at_lte, created_at_gte, created_at_lte,
            label_category_search,
        )  # fmt: skip

        async def count() -> int:
            return (await self._gql.count_assets(where=where)).data

        async def fetch(skip: int, first: int) -> Sequence[Asset]:
            return (await self._gql.assets(where=where, first=first, skip=skip)).data

        return self._listing(
            model=Asset, fragment="AssetFields", document=ASSETS_GQL, operation="Assets",
            where=where, count=count, fetch_default=fetch, fields=fields, skip=skip, first=first,
        )  # fmt: skip

    async def count_assets(
        self,
        project_id: str,
        asset_id: str | None = None,
        asset_id_in: Sequence[str] | None = None,
        external_id_contains: Sequence[str] | None = None,
        metadata_where: dict[str, Any] | None = None,
        status_in: Sequence[AssetStatusName] | None = None,
        consensus_mark_gt: float | None = None,
        consensus_mark_lt: float | None = None,
        honeypot_mark_gt: float | None = None,
        honeypot_mark_lt: float | None = None,
        label_type_in: Sequence[LabelType | str] | None = None,
        label_author_in: Sequence[str] | None = None,
        label_consensus_mark_gt: float | None = None,
        label_consensus_mark_lt: float | None = None,
        label_created_at: str | None = None,
        label_created_at_gt: str | None = None,
        label_created_at_lt: str | None = None,
        label_honeypot_mark_gt: float | None = None,
        label_honeypot_mark_lt: float | None = None,
        skipped: bool | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        label_category_search: str | None = None,
        external_id_strictly_in: Sequence[str] | None = None,
        asset_id_not_in: Sequence[str] | None = None,
        created_at_gte: str | None = None,
        created_at_lte: str | None = None,
    ) -> int:
        """Number of assets matching the filters (same meaning as in :meth:`assets`)."""
        where = _asset_where(
            project_id, asset_id, asset_id_in, asset_id_not_in, consensus_mark_gt,
            consensus_mark_lt, external_id_contains, external_id_strictly_in, honeypot_mark_gt,
            honeypot_mark_lt, label_author_in, label_consensus_mark_gt, label_consensus_mark_lt,
            label_created_at, label_created_at_gt, label_created_at_lt, label_honeypot_mark_gt,
            label_honeypot_mark_lt, label_type_in, metadata_where, skipped, status_in,
            updated_at_gte, updated_at_lte, created_at_gte, created_at_lte,
            label_category_search,
        )  # fmt: skip
        return (await self._gql.count_assets(where=where)).data

    async def _asset_ids_by_external_id(
        self, project_id: str, external_ids: Sequence[str]
    ) -> list[str]:
        """Resolve external ids to asset ids (in order); raise naming any unknown one."""
        found: dict[str, str] = {}
        for chunk in chunked(list(dict.fromkeys(external_ids)), EXTERNAL_IDS_CHUNK):
            async for asset in self.assets(
                project_id, external_id_strictly_in=chunk, fields=["id", "externalId"]
            ):
                if asset.external_id is not None:
                    found[asset.external_id] = asset.id
        missing = [e for e in dict.fromkeys(external_ids) if e not in found]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10])
            raise KiliInputError(
                f"{len(missing)} external id(s) not found in project {project_id!r}: {shown}"
                + (" ..." if len(missing) > 10 else "")
                + ". Check the ids, or import those assets first."
            )
        return [found[e] for e in external_ids]

    async def append_many_to_dataset(
        self,
        project_id: str,
        content_array: Sequence[str] | None = None,
        external_id_array: Sequence[str] | None = None,
        id_array: Sequence[str] | None = None,
        is_honeypot_array: Sequence[bool] | None = None,
        status_array: Sequence[str] | None = None,
        json_content_array: Sequence[Any] | None = None,
        json_metadata_array: Sequence[dict[str, Any]] | None = None,
        disable_tqdm: bool = False,
    ) -> AppendManyToDatasetResult:
        """Import assets into a project; return the ids of the created assets.

        ``content_array`` items are URLs (kept as they are), paths of local files
        (uploaded through Kili's signed URLs), or, in TEXT projects, raw text (uploaded
        too). Every array has one entry per asset. Assets whose external id is already in
        the project are skipped, so an interrupted import can simply be run again.
        Assets are sent in chunks of 100, ``concurrency`` chunks at a time; on partial
        failure :class:`~aiokili.errors.BulkOperationError` lists each failed asset.

        Args:
            project_id: the project.
            content_array: URLs, local paths or raw text.
            external_id_array: your ids (default: random).
            id_array: Kili asset ids to use (default: generated client-side).
            is_honeypot_array: mark assets as honeypots.
            status_array: deprecated and ignored (every asset starts as TODO).
            json_content_array: rich content (TEXT rich text, VIDEO frame lists), sent as
                JSON text.
            json_metadata_array: one metadata dict per asset.
            disable_tqdm: accepted for compatibility; the CLI shows progress instead.
        """
        if content_array is None and json_content_array is None:
            raise KiliInputError("Give content_array (URLs, paths or text) or json_content_array.")
        if status_array is not None:
            warnings.warn(
                "status_array is ignored: imported assets always start as TODO.",
                DeprecationWarning,
                stacklevel=2,
            )
        count = same_length(
            content_array=content_array,
            external_id_array=external_id_array,
            id_array=id_array,
            is_honeypot_array=is_honeypot_array,
            json_content_array=json_content_array,
            json_metadata_array=json_metadata_array,
        )
        for name, values in (("external_id_array", external_id_array), ("id_array", id_array)):
            dup = duplicates(list(values or ()))
            if dup:
                raise KiliInputError(
                    f"{name} has duplicates: {', '.join(map(repr, dup[:10]))}. "
                    "Each asset needs its own id."
                )
        metadata = [
            _json_text("json_metadata_array", i, m) for i, m in enumerate(json_metadata_array or ())
        ]
        json_contents = [
            _json_text("json_content_array", i, c) for i, c in enumerate(json_content_array or ())
        ]
        project = await self._get_project(project_id)
        contents = list(content_array or [""] * count)
        local = self._local_contents(contents, project.input_type == InputType.TEXT)
        external_ids = list(external_id_array or [uuid.uuid4().hex for _ in range(count)])
        ids = list(id_array or [f"c{uuid.uuid4().hex}" for _ in range(count)])

        existing = await self._existing_external_ids(project_id, external_ids)
        keep = [i for i in range(count) if external_ids[i] not in existing]

        async def send(indexes: Sequence[int]) -> list[str]:
            chunk_contents = [contents[i] for i in indexes]
            uploads = [
                _Upload(slot, f"projects/{project_id}/assets/{ids[i]}/content", *local[i])
                for slot, i in enumerate(indexes)
                if i in local
            ]
            for upload, url in zip(uploads, await self._upload(uploads), strict=True):
                chunk_contents[upload.slot] = url
            data = build(
                AppendManyAssetsData,
                content_array=chunk_contents,
                external_id_array=[external_ids[i] for i in indexes],
                id_array=[ids[i] for i in indexes],
                is_honeypot_array=[is_honeypot_array[i] for i in indexes]
                if is_honeypot_array
                else None,
                json_content_array=[json_contents[i] for i in indexes] if json_contents else None,
                json_metadata_array=[metadata[i] if metadata else "{}" for i in indexes],
            )
            result = await self._gql.append_many_assets(
                data=data, where=ProjectWhere(id=project_id)
            )
            return [asset.id for asset in result.data]

        chunks = chunked(keep, ASSETS_CHUNK)
        results = await run_chunks(chunks, send, concurrency=self.concurrency)
        keys = [[external_ids[i] for i in chunk] for chunk in chunks]
        created = collect("append_many_to_dataset", results, keys, ASSETS_CHUNK)
        return {
            "id": project_id,
            "asset_ids": created,
            "skipped_external_ids": [e for e in external_ids if e in existing],
        }

    @staticmethod
    def _local_contents(
        contents: Sequence[str], is_text_project: bool
    ) -> dict[int, tuple[bytes | Path, str]]:
        """Contents to upload: index → (file or text bytes, content type).

        Raises KiliInputError listing every local file that does not exist.
        """
        local: dict[int, tuple[bytes | Path, str]] = {}
        missing: list[str] = []
        for index, content in enumerate(contents):
            if not content or _is_url(content):
                continue
            path = Path(content).expanduser()
            if len(content) < 4096 and "\n" not in content and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                local[index] = (path, mime)
            elif is_text_project:
                local[index] = (content.encode(), "text/plain; charset=utf-8")
            else:
                missing.append(content)
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            raise KiliInputError(
                f"{len(missing)} content(s) are neither URLs nor existing files: {shown}"
                + (" ..." if len(missing) > 5 else "")
                + ". Give http(s) URLs or paths of existing files. Nothing was imported."
            )
        return local

    async def _existing_external_ids(
        self, project_id: str, external_ids: Sequence[str]
    ) -> set[str]:
        existing: set[str] = set()
        for chunk in chunked(external_ids, EXTERNAL_IDS_CHUNK):
            result = await self._gql.filter_existing_assets(
                project_id=project_id, external_ids=list(chunk)
            )
            existing.update(result.data)
        return existing

    async def _upload(self, uploads: Sequence[_Upload]) -> list[str]:
        """Upload each item to a signed URL; return the URLs to store as contents."""
        urls: list[str] = []
        for batch in chunked(uploads, SIGNED_URLS_CHUNK):
            result = await self._gql.create_upload_bucket_signed_urls(
                file_paths=[u.path for u in batch]
            )
            urls.extend(result.data)
        if len(urls) != len(uploads):
            raise APIError(f"Asked {len(uploads)} upload URLs, got {len(urls)}")

        async def put(upload: _Upload, url: str) -> None:
            data = upload.data
            body = await anyio.Path(data).read_bytes() if isinstance(data, Path) else data
            target = url.split("&id=", 1)[0]
            headers = {"Content-Type": upload.content_type}
            if target.startswith(self._endpoint_prefix):
                headers.update(self._auth_headers)
            for attempt in range(self._gql.max_retries + 1):  # a PUT is safe to resend
                last = attempt == self._gql.max_retries
                try:
                    response = await self._http.put(target, content=body, headers=headers)
                except httpx.TransportError as exc:
                    if last:
                        raise APIConnectionError(
                            f"Upload of {upload.path} failed: {exc!r}"
                        ) from exc
                else:
                    if response.is_success:
                        return
                    if last or response.status_code not in (429, 500, 502, 503, 504):
                        raise APIError(
                            f"Upload of {upload.path} failed: HTTP {response.status_code}",
                            status_code=response.status_code,
                        )
                await anyio.sleep(backoff(attempt + 1))

        async with anyio.create_task_group() as tg:
            for upload, url in zip(uploads, urls, strict=True):
                tg.start_soon(put, upload, url)
        return urls
