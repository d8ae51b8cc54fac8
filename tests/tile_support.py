"""Images for the tiling tests (made by libvips) and what a tiled asset must satisfy: the
document lists every tile of the pyramid, and the tiles of the top zoom put side by side
give back the image, pixel for pixel."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips


def make_image(path: Path, width: int, height: int) -> Path:
    """An RGB image whose pixels all differ from their neighbours (saved by its suffix)."""
    xyz = pyvips.Image.xyz(width, height)
    red = (xyz[0] * 3 + xyz[1] * 5).cast("uchar")  # wraps around: a pattern, not a gradient
    image = red.bandjoin([(xyz[1] * 7).cast("uchar"), (xyz[0] + xyz[1]).cast("uchar")])
    image.write_to_file(str(path))
    return path


def expected_tiles(width: int, height: int, tile: int = 256) -> list[list[int]]:
    """Every ``[z, x, y]`` of the XYZ pyramid of a ``width`` x ``height`` image."""
    top = max(0, math.ceil(math.log2(max(width, height) / tile)))
    out = []
    for z in range(top + 1):
        scale = 2 ** (top - z)
        columns = math.ceil(math.ceil(width / scale) / tile)
        rows = math.ceil(math.ceil(height / scale) / tile)
        out += [[z, x, y] for x in range(columns) for y in range(rows)]
    return sorted(out)


def same_pixels(layer: dict[str, Any], read: Callable[[str], bytes], original: Path) -> bool:
    """Whether the top zoom's tiles (read by ``read(url or path)``), side by side and cut
    to the image's size, are the original image."""
    top = layer["maxZoom"]
    tiles = sorted((y, x) for z, x, y in layer["tiles"] if z == top)
    columns = 1 + max(x for _, x in tiles)
    images = [
        pyvips.Image.new_from_buffer(read(layer["tileLayerUrl"].format(z=top, x=x, y=y)), "")
        for y, x in tiles
    ]
    whole = pyvips.Image.arrayjoin(images, across=columns)
    rebuilt = whole.crop(0, 0, layer["width"], layer["height"])
    source = pyvips.Image.new_from_file(str(original))
    return bool(
        (rebuilt.width, rebuilt.height, rebuilt.bands)
        == (source.width, source.height, source.bands)
        and (rebuilt - source).abs().max() == 0
    )
