"""Uploads through Kili's signed URLs: files are streamed, never read whole into memory.

For each item Kili gives a signed URL (``createUploadBucketSignedUrls``, 30 paths per
call); the bytes are PUT to that URL without its ``id`` parameter, and the full URL is
what the asset then stores as its content. PUTs go through the client's retry policy (a
PUT is safe to resend). Files larger than one chunk are streamed in 256 KiB chunks;
smaller ones are read in one go. The API key is sent only to URLs under the API's own
prefix, without the API's JSON content type.

*How many at once.* Each PUT holds one of the client's request slots (its adaptive
concurrency, ``_core.concurrency``, shared with every other request); files are read
ahead of their slot only for as many uploads as that allows plus one, so what waits in
memory stays bounded.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import anyio
import httpx

from ..errors import APIError, InvalidResponseError
from . import constants as C
from .bulk import chunked
from .concurrency import Concurrency
from .graphql import KiliGraphQLClient
from .http import status_error
from .settings import Settings
from .tasks import gather_or_raise


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


def without_id(signed_url: str) -> str:
    """``signed_url`` without its ``id`` query parameter, the rest kept as text (what the
    signature covers goes out as it came; and ``httpx.URL.copy_remove_param`` costs an
    upload ~0.1 ms of CPU, a tenth of the whole)."""
    base, question, rest = signed_url.partition("?")
    if not question:
        return signed_url
    query, hash_, fragment = rest.partition("#")
    kept = "&".join(p for p in query.split("&") if p.partition("=")[0] != "id")
    return base + (f"?{kept}" if kept else "") + hash_ + fragment


Read = tuple[int, "bytes | None"]
"""A local file's size, and its bytes when it fits in one chunk (else it is streamed)."""


def _size_or_bytes(path: Path) -> Read:
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        return size, file.read() if size <= C.UPLOAD_CHUNK_BYTES else None


def _read_batch(paths: Sequence[Path], budget: int) -> list[Read | OSError | None]:
    """``_size_or_bytes`` of each path, until ``budget`` bytes were read (None after)."""
    out: list[Read | OSError | None] = []
    for path in paths:
        if budget <= 0:
            out.append(None)
            continue
        try:
            read = _size_or_bytes(path)
        except OSError as exc:  # raised for that file only, by its own upload
            out.append(exc)
            continue
        budget -= len(read[1] or b"")
        out.append(read)
    return out


class _FileReads:
    """The local files of one upload, read several per thread hop instead of one each.

    A thread hop costs the client far more than reading a small file: the upload of a
    file asks for it, and the files after it (up to ``FILES`` of them, ``BYTES`` bytes
    read) come along in the same hop. Each read is handed out once, then forgotten.
    """

    FILES = 16
    BYTES = 1024 * 1024

    def __init__(self, items: Sequence[UploadItem]) -> None:
        self._items = items
        self._ready: dict[int, Read | OSError] = {}
        self._reading: dict[int, anyio.Event] = {}

    async def get(self, index: int) -> Read:
        while index not in self._ready:
            if (busy := self._reading.get(index)) is not None:
                await busy.wait()
                continue
            batch = [
                j
                for j in range(index, len(self._items))
                if isinstance(self._items[j].source, Path)
                and j not in self._ready
                and j not in self._reading
            ][: self.FILES]
            done = anyio.Event()
            for j in batch:
                self._reading[j] = done
            try:
                paths = [cast(Path, self._items[j].source) for j in batch]
                reads = await anyio.to_thread.run_sync(_read_batch, paths, self.BYTES)
            finally:
                for j in batch:
                    del self._reading[j]
                done.set()
            for j, read in zip(batch, reads, strict=True):
                if read is not None:
                    self._ready[j] = read
        read = self._ready.pop(index)
        if isinstance(read, OSError):
            raise read
        return read


class Uploader:
    """Uploads items to signed URLs for one client (shares its pool and concurrency)."""

    def __init__(
        self,
        gql: KiliGraphQLClient,
        http: httpx.AsyncClient,
        settings: Settings,
        gate: Concurrency,
    ) -> None:
        self._gql = gql
        self._http = http
        self._settings = settings
        self._gate = gate

    async def signed_urls(self, paths: Sequence[str]) -> list[str]:
        """One signed URL per bucket path, in order (the batches of 30 concurrently, as the
        client's adaptive concurrency allows: no burst of connections)."""

        def batch(paths: Sequence[str]) -> Callable[[], Awaitable[list[str]]]:
            async def ask() -> list[str]:
                answer = await self._gql.create_upload_bucket_signed_urls(file_paths=list(paths))
                return list(answer.data)

            return ask

        cap = self._settings.concurrency
        jobs = [batch(paths) for paths in chunked(paths, C.SIGNED_URLS_CHUNK)]
        batches = await gather_or_raise(jobs, limit=lambda: self._gate.fanout(cap))
        urls = [url for urls in batches for url in urls]
        if len(urls) != len(paths):
            raise InvalidResponseError(f"Asked {len(paths)} upload URLs, got {len(urls)}.")
        return urls

    async def upload(self, items: Sequence[UploadItem]) -> list[str]:
        """Upload every item; return the URLs to store as contents, in order.

        The first failure cancels the uploads still running and is raised.
        """
        if not items:
            return []
        urls = await self.signed_urls([item.path for item in items])
        gate, cap = self._gate, self._settings.concurrency
        files = _FileReads(items)

        def job(index: int, item: UploadItem, url: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                async with gate.working(cap):
                    read = await files.get(index) if isinstance(item.source, Path) else None
                    await self.put(url, item, read=read)

            return run

        jobs = [job(i, item, url) for i, (item, url) in enumerate(zip(items, urls, strict=True))]
        await gather_or_raise(jobs, limit=lambda: gate.fanout(cap))
        return urls

    async def put(self, signed_url: str, item: UploadItem, *, read: Read | None = None) -> None:
        """PUT ``item`` to ``signed_url`` (without its ``id`` parameter), with retries.

        ``read``: the file's size and small-file bytes when already read (see ``upload``).
        """
        target = httpx.URL(without_id(signed_url))
        headers = {"Content-Type": item.content_type}
        source = item.source
        if isinstance(source, Path):
            if read is None:
                read = await anyio.to_thread.run_sync(_size_or_bytes, source)
            size, data = read
            headers["Content-Length"] = str(size)
            if data is not None:  # fits in one chunk: no stream (one thread hop, not four)
                source = data
        headers.update(self._settings.key_header(target))
        if "blob.core.windows.net" in (target.host or ""):
            headers["x-ms-blob-type"] = "BlockBlob"

        async def attempt() -> httpx.Response:
            content = _stream(source) if isinstance(source, Path) else source
            return await self._http.put(target, content=content, headers=headers)

        what = f"the upload of {item.path}"
        response = await self._gql.policy.send(attempt, idempotent=True, what=what, kind="upload")
        if not response.is_success:
            error: APIError = status_error(response, what)
            raise error
