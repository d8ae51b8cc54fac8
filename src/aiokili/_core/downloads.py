"""Media downloads (``assets(download_media=True)``, ``export_labels(with_assets=True)``):
GETs sent through the client's one retry policy, resent as any idempotent request; the API
key goes only where ``Settings.owns`` allows.

Deadlines: a small body (:meth:`Downloads.read`) has the client's ``timeout`` for the whole
answer, as any request. A file (:meth:`Downloads.save`) may be large: each read must bring
data within ``timeout`` seconds (a stalled server fails the attempt, which is retried), and
the whole file takes as long as it takes while data keeps coming.

A file is written under ``<name>.part`` and renamed once complete: an attempt that fails
or is cancelled leaves no partial file.
"""

from __future__ import annotations

import math
import mimetypes
from dataclasses import replace
from pathlib import Path

import anyio
import httpx

from ..errors import APIError
from . import constants as C
from .failures import status_error
from .http import RetryPolicy
from .settings import Settings


class Downloads:
    """GETs of media URLs for one client (its pool, settings and retry policy)."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, policy: RetryPolicy):
        self._http, self._settings, self._policy = http, settings, policy
        self._file_policy = replace(policy, timeout=math.inf)  # files: a deadline per read
        self._per_read = httpx.Timeout(None, connect=C.CONNECT_TIMEOUT, read=settings.timeout)

    def headers(self, url: str | httpx.URL) -> dict[str, str]:
        """The API key for the API's own URLs (``Settings.owns``), nothing for the others."""
        return self._settings.key_header(url)

    async def read(self, url: str, what: str) -> bytes:
        """The body of ``url``; ``what`` names the download in errors and logs."""

        async def attempt() -> httpx.Response:
            return await self._http.get(url, headers=self.headers(url))

        response = await self._policy.send(attempt, idempotent=True, what=what)
        _check(response, what)
        return response.content

    async def save(self, url: str, directory: Path, name: str, what: str) -> Path:
        """Download ``url`` to ``directory/name`` (plus the extension of its content type,
        when ``name`` has none); a file already there is kept. Returns its path."""
        saved: list[Path] = []

        async def attempt() -> httpx.Response:
            async with self._http.stream(
                "GET", url, headers=self.headers(url), timeout=self._per_read
            ) as response:
                if response.status_code >= 400:
                    await response.aread()  # the error names what the server said
                    return response
                path = directory / _with_extension(name, response)
                if not await anyio.Path(path).is_file():
                    part = path.with_name(path.name + ".part")
                    try:
                        async with await anyio.open_file(part, "wb") as file:
                            async for chunk in response.aiter_bytes(1 << 20):
                                await file.write(chunk)
                        await anyio.Path(part).replace(path)
                    except BaseException:  # failed, timed out or cancelled: no partial file
                        part.unlink(missing_ok=True)
                        raise
                saved[:] = [path]
                return response

        response = await self._file_policy.send(attempt, idempotent=True, what=what)
        _check(response, what)
        return saved[0]


def _with_extension(name: str, response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    suffix = Path(name).suffix.lower()
    if kind and not (suffix and suffix in mimetypes.types_map):
        return name + (mimetypes.guess_extension(kind) or "")
    return name


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        error: APIError = status_error(response, what)
        raise error
