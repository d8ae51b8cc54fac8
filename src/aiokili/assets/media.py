"""Helpers of the asset methods: the asset listing (media download, parsed labels), pandas
frames, and waiting for asynchronous imports. Uses the core only."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel

from .._core import constants as C
from .._core.base import Core
from .._core.listing import Lazy, Listing, ListingSpec
from .._core.names import MemberNames
from .._core.tasks import gather_or_raise
from .._generated import input_types as inputs
from ..errors import APIError, APITimeoutError, KiliInputError
from ..models import Asset, InputType

_TILE_SUFFIX = re.compile(r"\{y\}(\.[A-Za-z0-9]+)")
MEDIA_CONCURRENCY = 8
"""Media files downloaded at once by one listing (each page's files go concurrently)."""


class AssetListing(Listing[Asset]):
    """A :class:`~aiokili.Listing` of assets whose pages may have their media downloaded
    before they are yielded, and whose labels may be parsed against the project's interface
    (fetched once). Its ``where`` may need a look-up first, as any listing's."""

    def __init__(
        self,
        core: Core,
        spec: ListingSpec[Asset],
        where: BaseModel | Callable[[], Awaitable[BaseModel]],
        *,
        media: MediaDownloader | None = None,
        interface: Callable[[], Awaitable[Any]] | None = None,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
    ) -> None:
        super().__init__(core, spec, where, fields=fields, first=first, skip=skip)
        self._media = media
        self._interface = None if interface is None else Lazy(interface)

    async def _total(self) -> int:
        if self._media is not None:
            await self._media.prepare()  # an unknown project fails here, before counting
        return await super()._total()

    async def _fetch(self, skip: int, first: int) -> Sequence[Asset]:
        if self._media is not None:
            await self._media.prepare()
        interface = None if self._interface is None else await self._interface.get()
        page = await super()._fetch(skip, first)
        if interface is not None:
            for asset in page:
                _parse_labels(asset, interface)
        return page if self._media is None else await self._media.download(page)


def _parse_labels(asset: Asset, interface: Any) -> None:
    """Replace the asset's labels (and latest label) by their parsed form."""
    from .._core.parsed_label import parse_label  # loaded when used

    values = asset.__dict__  # set as is: the models validate assignments to their types
    if values.get("labels") is not None:
        values["labels"] = [parse_label(lb, interface) for lb in values["labels"]]
    if values.get("latest_label") is not None:
        values["latest_label"] = parse_label(values["latest_label"], interface)


class MediaDownloader:
    """Downloads each asset's media into a directory and points the asset at the files.

    ``content`` becomes the local path; for VIDEO assets with frames, ``jsonContent``
    becomes the JSON list of the frames' local paths; for TEXT rich text, the local path
    of the JSON document; for IMAGE (and GEOSPATIAL) assets whose ``jsonContent`` is a URL,
    its document, the tiles of a tiled image downloaded (``<name>_tiles/<z>/<x>/<y>.png``)
    and its ``tileLayerUrl`` the local path template. A file already there is not
    downloaded again.
    """

    def __init__(self, core: Core, project_id: str, directory: str | Path | None) -> None:
        self._core = core
        self._project_id = project_id
        default = Path.home() / ".cache" / "kili" / "projects" / project_id / "assets"
        self.directory = Path(directory) if directory is not None else default
        self._limiter = anyio.CapacityLimiter(MEDIA_CONCURRENCY)
        self._input_type: InputType | None = None
        self._prepared: Lazy[None] = Lazy(self._prepare)
        self._names = MemberNames()  # safe and unique file names from external ids

    async def prepare(self) -> None:
        """Look up the project's input type and make the directory (once)."""
        await self._prepared.get()

    async def _prepare(self) -> None:
        self._input_type = await self._core.lookups.input_type(self._project_id)
        await anyio.to_thread.run_sync(lambda: self.directory.mkdir(parents=True, exist_ok=True))

    async def download(self, page: Sequence[Asset]) -> list[Asset]:
        out: list[Asset] = list(page)

        async def one(index: int) -> None:
            out[index] = await self._asset(page[index])

        await _all([partial(one, i) for i in range(len(page))])
        return out

    async def _asset(self, asset: Asset) -> Asset:
        name = getattr(asset, "external_id", None) or getattr(asset, "id", None)
        if not name:  # fields= left both out: a name from the URL
            name = hashlib.sha1(str(getattr(asset, "content", "")).encode()).hexdigest()[:16]
        name = self._names.name(name)
        changes: dict[str, Any] = {}
        json_content = getattr(asset, "json_content", None)
        if isinstance(json_content, str) and json_content.startswith("http"):
            if self._input_type == InputType.VIDEO:
                try:
                    frames = json.loads(await self._get(json_content))
                    urls = [
                        str(u) for u in (frames.values() if isinstance(frames, dict) else frames)
                    ]
                except (ValueError, TypeError, AttributeError):
                    raise APIError(
                        f"The jsonContent of asset {name} is not a list of video frames: "
                        f"{json_content[:160]}."
                    ) from None
                width = len(str(len(urls)))
                paths: list[str] = [""] * len(urls)

                async def frame(i: int, url: str) -> None:
                    paths[i] = await self._file(url, f"{name}_{str(i + 1).zfill(width)}")

                await _all([partial(frame, i, u) for i, u in enumerate(urls)])
                return asset.model_copy(update={"json_content": json.dumps(paths)})
            if self._input_type == InputType.TEXT:
                changes["json_content"] = await self._file(json_content, f"{name}.json")
            if self._input_type in (InputType.IMAGE, InputType.GEOSPATIAL):
                changes["json_content"] = await self._layers(json_content, name)
        content = getattr(asset, "content", None)
        if isinstance(content, str) and content.startswith("http"):
            changes["content"] = await self._file(content, name)
        return asset.model_copy(update=changes) if changes else asset

    async def _layers(self, url: str, name: str) -> str:
        """An image's jsonContent document (its layers), as JSON text; the tiles of a tiled
        image downloaded to ``<name>_tiles/<z>/<x>/<y>.<ext>``, its ``tileLayerUrl`` then
        the local path template."""
        try:
            layers = json.loads(await self._get(url))
        except ValueError:
            raise APIError(f"The jsonContent of asset {name} is not JSON: {url[:160]}.") from None
        if not isinstance(layers, list):
            return json.dumps(layers)
        out = []
        for index, layer in enumerate(layers):
            tiles = layer.get("tiles") if isinstance(layer, dict) else None
            template = layer.get("tileLayerUrl") if isinstance(layer, dict) else None
            if not isinstance(tiles, list) or not isinstance(template, str):
                out.append(layer)
                continue
            folder = f"{name}_tiles" if len(layers) == 1 else f"{name}_tiles_{index}"
            suffix = _TILE_SUFFIX.search(template)
            local = f"{folder}/{{z}}/{{x}}/{{y}}{suffix.group(1) if suffix else '.png'}"
            await _all([partial(self._tile, template, local, *t) for t in tiles])
            out.append({**layer, "tileLayerUrl": str(self.directory.resolve() / local)})
        return json.dumps(out)

    async def _tile(self, template: str, local: str, z: Any, x: Any, y: Any) -> None:
        at = {"z": int(z), "x": int(x), "y": int(y)}
        path = local.format(**at)  # <name>_tiles/<z>/<x>/<y>.png: its folder first
        await anyio.Path(self.directory / path).parent.mkdir(parents=True, exist_ok=True)
        await self._file(template.format(**at), path)

    async def _get(self, url: str) -> bytes:
        async with self._limiter:
            return await self._core.downloads.read(url, f"Downloading the media {url[:160]}")

    async def _file(self, url: str, name: str) -> str:
        """Download ``url`` to ``directory/name`` (plus the extension of its type)."""
        what = f"Downloading the media {url[:160]}"
        async with self._limiter:
            path = await self._core.downloads.save(url, self.directory, name, what)
        return str(path.resolve())


async def _all(jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` concurrently; the first failure cancels the rest and is raised as is."""
    await gather_or_raise(jobs, limit=len(jobs))


async def dataframe(listing: Listing[Asset]) -> Any:
    """The listing's assets as a ``pandas.DataFrame``: one row per asset, one column per
    field (its GraphQL name, e.g. ``externalId``), nested objects as dicts."""
    pandas = _pandas()
    rows = [asset.model_dump(by_alias=True) async for asset in listing]
    return pandas.DataFrame(rows)


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError("format='pandas' needs pandas: pip install 'aiokili[pandas]'.") from None


async def wait_for_notification(core: Core, notification_id: str) -> None:
    """Wait until an asynchronous import's notification says ``SUCCESS`` (backing off from
    0.05 s to 2 s); ``FAILURE`` raises :class:`~aiokili.errors.APIError`, and still waiting
    after ``ASYNC_IMPORT_DEADLINE`` s (an hour) :class:`~aiokili.errors.APITimeoutError`."""
    delay, deadline = 0.05, anyio.current_time() + C.ASYNC_IMPORT_DEADLINE
    while True:
        found = await core.gql.notification_status(
            where=inputs.NotificationWhere(id=notification_id)
        )
        status = found.data[0].status if found.data else None
        if status == "SUCCESS":
            return
        if status == "FAILURE":
            why = found.data[0].message or "the server gave no reason"
            raise APIError(
                f"The asynchronous import {notification_id} failed on the server: "
                f"{why.rstrip('.')}. Nothing of that batch was imported."
            )
        if anyio.current_time() >= deadline:
            raise APITimeoutError(
                f"The asynchronous import {notification_id} was still {status or 'unknown'} "
                f"after {C.ASYNC_IMPORT_DEADLINE:g} s. It may still finish: count_assets() "
                "tells which assets exist; importing again skips them."
            )
        await anyio.sleep(min(delay, max(0.0, deadline - anyio.current_time())))
        delay = min(delay * 2, 2.0)


def check_media_dir(local_media_dir: Any) -> None:
    if local_media_dir is not None and not isinstance(local_media_dir, (str, os.PathLike)):
        raise KiliInputError(
            f"local_media_dir must be a directory path (str or Path), got {local_media_dir!r}."
        )
