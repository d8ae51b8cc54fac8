"""The official SDK (26.2.4, with its ``image`` extra) imports a large image into the local
server: sent to the asynchronous path (a side of 10000 px or more), tiled before the import
succeeds, its tiles listed in jsonContent; ``download_media`` reads that document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from official_support import official_python, run_official
from tile_support import expected_tiles, make_image, same_pixels

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large-images")
    make_image(folder / "strip.png", 10_000, 16)  # small in bytes, large in pixels
    make_image(folder / "small.tif", 300, 200)  # a TIFF: asynchronous too, not large
    return folder


@pytest.fixture(scope="module")
def out(
    official_python: Path,
    local_server: LocalServer,
    images: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    return run_official(
        official_python,
        "large_images.py",
        local_server,
        tmp_path_factory.mktemp("large_images"),
        env={"AIOKILI_IMAGES_DIR": str(images)},
    )


def test_the_import_took_the_asynchronous_path(out: Any) -> None:
    assert out["asset_ids"] == []  # as the SDK returns for asynchronous imports
    assert set(out["assets"]) == {"strip", "small"}


def test_the_large_image_was_tiled(out: Any, local_server: LocalServer, images: Path) -> None:
    strip = out["assets"]["strip"]
    headers = {"Authorization": f"X-API-Key: {local_server.api_key}"}
    with httpx.Client(headers=headers) as http:
        (layer,) = http.get(strip["jsonContent"]).json()
        assert (layer["epsg"], layer["width"], layer["height"]) == ("TiledImage", 10_000, 16)
        assert layer["tiles"] == expected_tiles(10_000, 16)
        assert same_pixels(layer, lambda url: http.get(url).content, images / "strip.png")


def test_a_small_image_is_kept_as_it_is(out: Any) -> None:
    assert out["assets"]["small"]["jsonContent"] == ""


def test_download_media_reads_the_tiles_document(out: Any, images: Path) -> None:
    strip = out["downloaded"]["strip"]
    (layer,) = strip["jsonContent"]  # the SDK replaces the URL by the document
    assert layer["tiles"] == expected_tiles(10_000, 16)
    assert Path(strip["content"]).read_bytes() == (images / "strip.png").read_bytes()
