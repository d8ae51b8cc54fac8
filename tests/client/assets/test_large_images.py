"""Large images through AsyncKili: imported asynchronously, tiled by the local server before
the notification says SUCCESS, listed with their tiles in jsonContent, downloaded with their
tiles by download_media; refused with a clear error where libvips is missing. Test images
stay small: the server's threshold is lowered (``tile_threshold_bytes``), or the image is
wider than the threshold side (10000 px) but a few pixels high."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tile_support import expected_tiles, make_image, same_pixels

import aiokili
from aiokili.errors import BulkOperationError
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio
THRESHOLD = 100_000  # bytes: a 700 x 300 TIFF (630 kB) is above it


@pytest.fixture(scope="module")
def tiling_server() -> Iterator[LocalServer]:
    with LocalServer(tile_threshold_bytes=THRESHOLD) as server:
        yield server


@pytest.fixture
async def kili(tiling_server: LocalServer) -> aiokili.AsyncKili:
    async with aiokili.AsyncKili(
        api_key=tiling_server.api_key, api_endpoint=tiling_server.url
    ) as client:
        yield client


async def image_project(kili: aiokili.AsyncKili) -> str:
    return (await kili.create_project(title="large", input_type="IMAGE", json_interface={})).id


def reader(server: LocalServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"Authorization": f"X-API-Key: {server.api_key}"})


async def top_tiles(http: httpx.AsyncClient, layer: dict[str, Any]) -> dict[str, bytes]:
    """URL -> bytes of the tiles of the top zoom (what ``same_pixels`` reads)."""
    top, template = layer["maxZoom"], layer["tileLayerUrl"]
    urls = [template.format(z=z, x=x, y=y) for z, x, y in layer["tiles"] if z == top]
    return {url: (await http.get(url)).raise_for_status().content for url in urls}


async def test_a_large_image_is_tiled_before_its_import_succeeds(
    kili: aiokili.AsyncKili, tiling_server: LocalServer, tmp_path: Path
) -> None:
    image = make_image(tmp_path / "large.tif", 700, 300)
    small = make_image(tmp_path / "small.tif", 100, 100)  # 30 kB: kept as it is
    assert image.stat().st_size > THRESHOLD > small.stat().st_size
    project_id = await image_project(kili)
    result = await kili.append_many_to_dataset(
        project_id, content_array=[image, small], external_id_array=["large", "small"]
    )
    # append_many_to_dataset returned once the notification said SUCCESS: tiles are there
    large, kept = await kili.assets(project_id)
    assert [large.id, kept.id] == result["asset_ids"]
    assert kept.json_content == ""
    async with reader(tiling_server) as http:
        original = (await http.get(large.content)).content
        assert original == image.read_bytes()  # the original stays
        (layer,) = (await http.get(large.json_content)).json()
        assert layer["epsg"] == "TiledImage" and layer["useClassicCoordinates"] is False
        assert (layer["width"], layer["height"], layer["tileSize"]) == (700, 300, 256)
        assert (layer["minZoom"], layer["maxZoom"]) == (0, 2)
        assert layer["tiles"] == expected_tiles(700, 300)  # 3 x 2, then 2 x 1, then 1
        assert same_pixels(layer, (await top_tiles(http, layer)).__getitem__, image)
        overview = await http.get(layer["tileLayerUrl"].format(z=0, x=0, y=0))
        assert overview.headers["content-type"] == "image/png"
        async with httpx.AsyncClient() as anonymous:
            refused = await anonymous.get(layer["tileLayerUrl"].format(z=0, x=0, y=0))
        assert refused.status_code == 403  # tiles are read with the API key


async def test_an_image_wider_than_the_threshold_side_is_tiled(
    kili: aiokili.AsyncKili, tiling_server: LocalServer, tmp_path: Path
) -> None:
    image = make_image(tmp_path / "strip.tif", 10_000, 16)  # 480 kB: tiled for its width
    project_id = await image_project(kili)
    await kili.append_many_to_dataset(project_id, content_array=[image])
    (asset,) = await kili.assets(project_id)
    async with reader(tiling_server) as http:
        (layer,) = (await http.get(asset.json_content)).json()
        assert layer["maxZoom"] == 6 and layer["tiles"] == expected_tiles(10_000, 16)
        assert same_pixels(layer, (await top_tiles(http, layer)).__getitem__, image)


async def test_download_media_fetches_the_tiles(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    image = make_image(tmp_path / "large.tif", 700, 300)
    project_id = await image_project(kili)
    await kili.append_many_to_dataset(project_id, content_array=[image], external_id_array=["x"])
    media = tmp_path / "media"
    (asset,) = await kili.assets(project_id, download_media=True, local_media_dir=media)
    assert await anyio.Path(asset.content).read_bytes() == image.read_bytes()
    (layer,) = json.loads(asset.json_content)
    assert layer["tileLayerUrl"] == str(media.resolve() / "x_tiles" / "{z}" / "{x}" / "{y}.png")
    on_disk = sorted(str(p.relative_to(media)) for p in media.rglob("*.png"))
    assert on_disk == sorted(f"x_tiles/{z}/{x}/{y}.png" for z, x, y in layer["tiles"])
    assert same_pixels(layer, lambda path: Path(path).read_bytes(), image)


async def test_without_libvips_a_large_image_is_refused_naming_the_extra(
    kili: aiokili.AsyncKili, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = make_image(tmp_path / "large.tif", 700, 300)
    small = make_image(tmp_path / "small.tif", 100, 100)
    project_id = await image_project(kili)
    monkeypatch.setitem(sys.modules, "pyvips", None)  # the server's `import pyvips` fails
    with pytest.raises(BulkOperationError) as caught:
        await kili.append_many_to_dataset(project_id, content_array=[image])
    message = str(caught.value.failures[0].error)
    assert "1 image(s) of this import are large (from 100,000 bytes" in message
    assert "pip install 'aiokili[tiles]' where the server runs" in message
    assert await kili.count_assets(project_id) == 0
    await kili.append_many_to_dataset(project_id, content_array=[small])  # small: kept
    assert await kili.count_assets(project_id) == 1


async def test_tiles_stay_reachable_when_the_server_moves(tmp_path: Path) -> None:
    image = make_image(tmp_path / "large.tif", 700, 300)
    db = str(tmp_path / "kili.sqlite3")
    with LocalServer(db=db, tile_threshold_bytes=THRESHOLD) as first:
        async with aiokili.AsyncKili(api_key=first.api_key, api_endpoint=first.url) as kili:
            project_id = await image_project(kili)
            await kili.append_many_to_dataset(project_id, content_array=[image])
    with LocalServer(db=db) as second:  # another port, the same database
        assert second.port != first.port
        async with aiokili.AsyncKili(api_key=second.api_key, api_endpoint=second.url) as kili:
            (asset,) = await kili.assets(project_id)
        async with reader(second) as http:
            (layer,) = (await http.get(asset.json_content)).json()
            assert layer["tileLayerUrl"].startswith(f"http://127.0.0.1:{second.port}/")
            assert same_pixels(layer, (await top_tiles(http, layer)).__getitem__, image)


async def test_an_image_libvips_cannot_read_fails_the_import(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + bytes(THRESHOLD))  # a TIFF header, then nothing valid
    project_id = await image_project(kili)
    with pytest.raises(BulkOperationError) as caught:
        await kili.append_many_to_dataset(project_id, content_array=[broken])
    assert "the image cannot be tiled: libvips cannot read it" in str(caught.value)
    assert await kili.count_assets(project_id) == 0
