"""Large images tiled, as the platform does for the asynchronous ``TILED_IMAGE`` import.

An uploaded image of at least ``Settings.tile_threshold_bytes`` (30 MiB, the platform's
threshold), or with a side of at least ``Settings.tile_threshold_side`` pixels (10000), is
cut by libvips (``pyvips``, the ``tiles`` extra) into a pyramid of PNG tiles in the XYZ
scheme: zoom ``maxZoom`` is the image at full size in tiles of ``tileSize`` pixels (those
of the right and bottom edges padded), each zoom below halves it, zoom 0 is one tile.
libvips streams the image (sequential access), so memory stays bounded whatever its size.

The tiles are stored as uploaded files (``tiles/<asset>/<nonce>/<z>/<x>/<y>.png``), next to
a JSON document that becomes the asset's ``jsonContent`` (a URL, as on the platform)::

    [{"epsg": "TiledImage", "useClassicCoordinates": false, "initEpsg": -1,
      "tileLayerUrl": "<server>/api/label/v2/files?id=tiles/.../{z}/{x}/{y}.png",
      "width": W, "height": H, "tileSize": 256, "minZoom": 0, "maxZoom": Z,
      "tiles": [[z, x, y], ...]}]

The tile URLs are read with the API key (as the platform's video frame URLs). Without
pyvips, such images are refused with an error naming the extra; smaller images, and images
of several layers, are kept as they are.
"""

from __future__ import annotations

import importlib
import json
import secrets
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ServerError
from .files import stored_key
from .settings import PREFIX, Settings

if TYPE_CHECKING:
    from .store import Store
    from .store.assets import AssetRow

TILES_EXTRA = "pip install 'aiokili[tiles]'"
_ONE_AT_A_TIME = threading.Lock()  # one image tiled at once: the memory of one pyramid


@dataclass(frozen=True)
class Pyramid:
    """The tiles libvips wrote under ``folder`` (``<z>/<y>/<x>.png``)."""

    folder: Path
    width: int
    height: int
    tile_size: int
    max_zoom: int
    tiles: list[tuple[int, int, int]]  # (z, x, y)


@dataclass(frozen=True)
class Candidate:
    """An imported asset whose uploaded content is tiled."""

    index: int  # in the import's arrays
    key: str  # the upload's object key
    source: Path


def pixel_size(path: Path) -> tuple[int, int] | None:
    """Width and height from the image's header (None if it is not an image we know, or
    imagesize, of the ``server`` extra, is missing: then only the bytes count)."""
    try:
        imagesize = importlib.import_module("imagesize")
    except ImportError:
        return None
    try:
        width, height = imagesize.get(str(path))
    except (OSError, ValueError):
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


def is_large(path: Path, size: int, settings: Settings) -> bool:
    """Whether an uploaded image is tiled: its bytes or one of its sides over the threshold."""
    if size >= settings.tile_threshold_bytes:
        return True
    pixels = pixel_size(path)
    return pixels is not None and max(pixels) >= settings.tile_threshold_side


def candidates(
    store: Store, data: Mapping[str, Any], assets: Sequence[AssetRow], settings: Settings
) -> list[Candidate]:
    """The assets of an asynchronous import to tile (read from disk: run in a thread).

    Only single-layer ``TILED_IMAGE`` imports of files uploaded here count. If some need
    tiling and pyvips is missing, ServerError naming the extra (nothing is imported).
    """
    if data.get("uploadType") != "TILED_IMAGE" or data.get("multiLayerContentArray"):
        return []
    found: list[Candidate] = []
    for index, asset in enumerate(assets):
        key = stored_key(asset.content)
        row = store.files.get(key) if key else None
        if key and row is not None:
            blob = store.files.blob(key)
            if is_large(blob, row.size, settings):
                found.append(Candidate(index, key, blob))
    if found and not _pyvips_installed():
        raise ServerError(
            f"{len(found)} image(s) of this import are large (from "
            f"{settings.tile_threshold_bytes:,} bytes, or a side of "
            f"{settings.tile_threshold_side:,} pixels) and the local server tiles them with "
            f"libvips, which is not installed: {TILES_EXTRA} where the server runs. Nothing "
            "was imported.",
            "TILING_UNAVAILABLE",
        )
    return found


def _pyvips_installed() -> bool:
    try:
        _pyvips()
    except (ImportError, OSError):  # OSError: pyvips without the libvips library
        return False
    return True


def _pyvips() -> Any:
    return importlib.import_module("pyvips")


def make_pyramid(source: Path, folder: Path, tile_size: int) -> Pyramid:
    """Cut ``source`` into tiles under ``folder`` (one image at a time, streamed)."""
    pyvips = _pyvips()
    with _ONE_AT_A_TIME:
        pyvips.cache_set_max(0)  # no operation cache: nothing of the image outlives the call
        image = pyvips.Image.new_from_file(str(source), access="sequential")
        if image.interpretation not in ("srgb", "b-w", "rgb16", "grey16"):
            image = image.colourspace("srgb")  # CMYK, Lab... as PNG can hold them
        image.dzsave(
            str(folder / "pyramid"),
            layout="google",
            tile_size=tile_size,
            overlap=0,
            suffix=".png",
            depth="onetile",
            skip_blanks=-1,  # every tile is written, blank or not
        )
    tiles: list[tuple[int, int, int]] = []
    root = folder / "pyramid"
    for path in root.glob("*/*/*.png"):
        z, y, x = path.relative_to(root).with_suffix("").parts
        tiles.append((int(z), int(x), int(y)))
    tiles.sort()
    max_zoom = max(z for z, _, _ in tiles)
    return Pyramid(root, image.width, image.height, tile_size, max_zoom, tiles)


def tile_asset(
    store: Store, candidate: Candidate, asset_id: str, base_url: str, settings: Settings
) -> str:
    """Tile one asset's image into the files store; return the key of its jsonContent
    document (blocking: run in a thread)."""
    prefix = f"tiles/{asset_id}/{secrets.token_hex(6)}"
    work = store.db.files_dir / f".{prefix.replace('/', '-')}.part"
    work.mkdir(parents=True)
    try:
        try:
            pyramid = make_pyramid(candidate.source, work, settings.tile_size)
        except _pyvips().Error as exc:  # not an image libvips can read: the user's file
            raise ServerError(
                f"contentArray[{candidate.index}]: the image cannot be tiled: libvips cannot "
                f"read it ({str(exc).strip().splitlines()[0][:200]})."
            ) from None
        files = [
            (
                f"{prefix}/{z}/{x}/{y}.png",
                "image/png",
                pyramid.folder / str(z) / str(y) / f"{x}.png",
            )
            for z, x, y in pyramid.tiles
        ]
        document = work / "tiles.json"
        layer = {
            "epsg": "TiledImage",
            "useClassicCoordinates": False,
            "initEpsg": -1,
            "tileLayerUrl": f"{base_url}{PREFIX}/files?id={prefix}/{{z}}/{{x}}/{{y}}.png",
            "width": pyramid.width,
            "height": pyramid.height,
            "tileSize": pyramid.tile_size,
            "minZoom": 0,
            "maxZoom": pyramid.max_zoom,
            "tiles": [list(t) for t in pyramid.tiles],
        }
        document.write_text(json.dumps([layer]), encoding="utf-8")
        files.append((f"{prefix}/tiles.json", "application/json", document))
        source = store.files.get(candidate.key)  # the tiles are its organization's
        store.files.commit_many(files, source.organization_id if source else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return f"{prefix}/tiles.json"
