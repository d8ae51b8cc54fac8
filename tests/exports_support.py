"""The export tests' projects: an IMAGE project with every job type, a TEXT one with named
entities, small PNG media (also used by the benchmark and the official-SDK comparison)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import aiokili

CATS = {"A": {"name": "A"}, "B": {"name": "B"}}
IMAGE_INTERFACE: dict[str, Any] = {
    "jobs": {
        "CLASSIF": {"mlTask": "CLASSIFICATION", "required": 0, "isChild": False,
                    "content": {"input": "radio", "categories": CATS}},
        "BBOX": {"mlTask": "OBJECT_DETECTION", "tools": ["rectangle"], "required": 0,
                 "isChild": False, "content": {"input": "radio", "categories": CATS}},
        "POLY": {"mlTask": "OBJECT_DETECTION", "tools": ["polygon"], "required": 0,
                 "isChild": False, "content": {"input": "radio", "categories": CATS}},
        "SEG": {"mlTask": "OBJECT_DETECTION", "tools": ["semantic"], "required": 0,
                "isChild": False, "content": {"input": "radio", "categories": CATS}},
        "POINT": {"mlTask": "OBJECT_DETECTION", "tools": ["marker"], "required": 0,
                  "isChild": False, "content": {"input": "radio", "categories": CATS}},
        "LINE": {"mlTask": "OBJECT_DETECTION", "tools": ["polyline"], "required": 0,
                 "isChild": False, "content": {"input": "radio", "categories": CATS}},
    }
}  # fmt: skip
TEXT_INTERFACE: dict[str, Any] = {
    "jobs": {
        "NER": {"mlTask": "NAMED_ENTITIES_RECOGNITION", "required": 0, "isChild": False,
                "content": {"input": "radio", "categories": {"PER": {"name": "Person"}}}},
    }
}  # fmt: skip


def vertices(*points: tuple[float, float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in points]


def image_response(category: str = "A") -> dict[str, Any]:
    """A label answering every job; coordinates are exact binary fractions."""
    square = vertices((0.25, 0.25), (0.25, 0.75), (0.75, 0.75), (0.75, 0.25))
    triangle = vertices((0.5, 0.25), (0.75, 0.75), (0.25, 0.75))
    cat = [{"name": category, "confidence": 100}]
    return {
        "CLASSIF": {"categories": [{"name": category}]},
        "BBOX": {"annotations": [{"mid": "bbox-1", "type": "rectangle", "categories": cat,
                                  "boundingPoly": [{"normalizedVertices": square}]}]},
        "POLY": {"annotations": [{"mid": "poly-1", "type": "polygon", "categories": cat,
                                  "boundingPoly": [{"normalizedVertices": triangle}]}]},
        "SEG": {"annotations": [{"mid": "seg-1", "type": "semantic", "categories": cat,
                                 "boundingPoly": [{"normalizedVertices": square}]}]},
        "POINT": {"annotations": [{"mid": "point-1", "type": "marker", "categories": cat,
                                   "point": {"x": 0.5, "y": 0.5}}]},
        "LINE": {"annotations": [{"mid": "line-1", "type": "polyline", "categories": cat,
                                  "polyline": vertices((0.25, 0.25), (0.75, 0.75))}]},
    }  # fmt: skip


def png(width: int, height: int) -> bytes:
    """A grey PNG of this size (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def write_media(folder: Path, names: list[str]) -> list[Path]:
    """A 200x100 PNG per name in ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png" for name in names]
    for path in paths:
        path.write_bytes(png(200, 100))
    return paths


async def image_project(
    kili: aiokili.AsyncKili, media: Path | None = None, *, title: str = "export test"
) -> tuple[str, list[str]]:
    """An IMAGE project with assets img-1 (label A), img-2 (label B, then a REVIEW label A),
    img-3 (only a PREDICTION) and img-4 (no label), all 200x100.

    With ``media``, the assets are PNG files uploaded to the server (so ``with_assets``
    downloads them); otherwise URLs that nothing serves."""
    project = await kili.create_project(
        title=title, input_type="IMAGE", json_interface=IMAGE_INTERFACE
    )
    names = ["img-1", "img-2", "img-3", "img-4"]
    if media is not None:
        content: list[Any] = write_media(media, names)
    else:
        content = [f"https://images.example/{n}.png" for n in names]
    result = await kili.append_many_to_dataset(
        project.id, content_array=content, external_id_array=names
    )
    ids = result["asset_ids"]
    await kili.update_properties_in_assets(
        asset_ids=ids, resolution_array=[{"width": 200, "height": 100}] * len(ids)
    )
    await kili.append_labels(
        asset_id_array=[ids[0], ids[1]],
        json_response_array=[image_response("A"), image_response("B")],
    )
    await kili.append_labels(
        asset_id_array=[ids[1]], json_response_array=[image_response("A")], label_type="REVIEW"
    )
    await kili.append_labels(
        asset_id_array=[ids[2]], json_response_array=[image_response("B")],
        label_type="PREDICTION", model_name="m1",
    )  # fmt: skip
    return project.id, ids


_VOLATILE = {"createdAt", "date_created", "exportDate", "year"}
_IDS = {"id", "assetId"}


def normalize(value: Any) -> Any:
    """Ids and dates replaced by placeholders (they change with every run)."""
    if isinstance(value, dict):
        return {
            k: f"<{k}>" if (k in _VOLATILE or (k in _IDS and isinstance(v, str))) else normalize(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value
