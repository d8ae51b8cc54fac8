"""Uploads through Kili's signed URLs: files are streamed, never read whole into memory.

For each item Kili gives a signed URL (``createUploadBucketSignedUrls``, 30 paths per
call); the bytes are PUT to that URL without its ``id`` parameter, and the full URL is
what the asset then stores as its content. PUTs go through the client's retry policy
(a PUT is safe to resend), at most ``UPLOAD_CONCURRENCY`` at a time per client, each
streamed in 256 KiB chunks. The API key is sent only to URLs under the API's own prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from . import _constants as C
from ._bulk import chunked
from ._graphql import KiliGraphQLClient
from ._http import status_error
from ._settings import Settings
from ._tasks import gather_or_raise
from .errors import APIError, InvalidResponseError


@dataclass(frozen=True)
class UploadItem:
    """One thing to upload: a local file or bytes, to a bucket ``path``."""

    path: str
    source: Path | bytes
    content_type: str


async def _stream(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(C.UPLOAD_CHUNK_BYTES):
            yield chunk


class Uploader:
    """Uploads items to signed URLs for one client (shares its pool and limiter)."""

    def __init__(
        self,
        gql: KiliGraphQLClient,
        http: httpx.AsyncClient,
        settings: Settings,
        limiter: anyio.CapacityLimiter,
        auth_headers: dict[str, str],
    ) -> None:
        self._gql = gql
        self._http = http
        self._settings = settings
        self._limiter = limiter
        self._auth_headers = auth_headers

    async def signed_urls(self, paths: Sequence[str]) -> list[str]:
        """One signed URL per bucket path, in order."""
        urls: list[str] = []
        for batch in chunked(paths, C.SIGNED_URLS_CHUNK):
            urls.extend(
                (await self._gql.create_upload_bucket_signed_urls(file_paths=list(batch))).data
            )
        if len(urls) != len(paths):
            raise InvalidResponseError(f"Asked {len(paths)} upload URLs, got {len(urls)}.")
        return urls

    async def upload(self, items: Sequence[UploadItem]) -> list[str]:
        """Upload every item; return the URLs to store as contents, in order.

        The first failure cancels the uploads still running and is raised.
        """
        urls = await self.signed_urls([item.path for item in items])

        def job(item: UploadItem, url: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                async with self._limiter:
                    await self.put(url, item)

            return run

        jobs = [job(item, url) for item, url in zip(items, urls, strict=True)]
        await gather_or_raise(jobs, limit=max(1, len(jobs)))
        return urls

    async def put(self, signed_url: str, item: UploadItem) -> None:
        """PUT ``item`` to ``signed_url`` (without its ``id`` parameter), with retries."""
        target = httpx.URL(signed_url).copy_remove_param("id")
        headers = {"Content-Type": item.content_type}
        if isinstance(item.source, Path):
            headers["Content-Length"] = str((await anyio.Path(item.source).stat()).st_size)
        if self._settings.owns(str(target)):
            headers.update(self._auth_headers)
        if "blob.core.windows.net" in (target.host or ""):
            headers["x-ms-blob-type"] = "BlockBlob"
        source = item.source

        async def attempt() -> httpx.Response:
            content = _stream(source) if isinstance(source, Path) else source
            return await self._http.put(target, content=content, headers=headers)

        what = f"the upload of {item.path}"
        response = await self._gql.policy.send(attempt, idempotent=True, what=what)
        if not response.is_success:
            error: APIError = status_error(response, what)
            raise error
