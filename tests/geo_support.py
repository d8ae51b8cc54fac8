"""Geospatial files for the label import tests (GeoJSON written as JSON, shapefiles written
by pyshp) and the project interface they are imported into."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import shapefile


def _job(tool: str, *categories: str) -> dict[str, Any]:
    return {
        "mlTask": "OBJECT_DETECTION",
        "tools": [tool],
        "required": 0,
        "isChild": False,
        "instruction": tool,
        "content": {"input": "radio", "categories": {c: {"name": c.title()} for c in categories}},
    }


GEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "POINTS": _job("marker", "TREE", "POLE"),
        "LINES": _job("polyline", "ROAD"),
        "AREAS": _job("polygon", "BUILDING", "FIELD"),
        "MASKS": _job("semantic", "WATER"),
        "BOXES": _job("rectangle", "CAR"),
        "WEATHER": {
            "mlTask": "CLASSIFICATION",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"SUNNY": {"name": "Sunny"}}},
        },
    }
}
"""One job per tool (the first category of each is what automatic mapping picks)."""

NO_LINES = {"jobs": {k: v for k, v in GEO_INTERFACE["jobs"].items() if k != "LINES"}}
"""The same without a polyline job: lines fit nothing."""

SQUARE = [[2.0, 48.0], [2.0, 48.1], [2.1, 48.1], [2.1, 48.0], [2.0, 48.0]]
HOLE = [[2.02, 48.02], [2.04, 48.02], [2.04, 48.04], [2.02, 48.04], [2.02, 48.02]]
TRIANGLE = [[3.0, 49.0], [3.2, 49.0], [3.1, 49.2], [3.0, 49.0]]


def feature(geometry_type: str, coordinates: Any, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": geometry_type, "coordinates": coordinates},
        "properties": properties,
    }


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def mixed_features() -> list[dict[str, Any]]:
    """A point, a multipoint, a line, a polygon with a hole and a multipolygon."""
    return [
        feature("Point", [2.35, 48.85]),
        feature("MultiPoint", [[2.3, 48.8], [2.4, 48.9]]),
        feature("LineString", [[2.0, 48.0], [2.5, 48.5], [3.0, 48.7]]),
        feature("Polygon", [SQUARE, HOLE]),
        feature("MultiPolygon", [[SQUARE], [TRIANGLE]]),
    ]


def write_shapefile(path: Path, shape_type: int, shapes: list[Any]) -> Path:
    """A shapefile (``.shp``, ``.shx``, ``.dbf``) of ``shapes``, one record each, by pyshp."""
    writer = shapefile.Writer(str(path), shapeType=shape_type)
    writer.field("name", "C")
    for index, shape in enumerate(shapes):
        if shape_type == shapefile.POINT:
            writer.point(*shape)
        elif shape_type == shapefile.MULTIPOINT:
            writer.multipoint(shape)
        elif shape_type == shapefile.POLYLINE:
            writer.line(shape)
        else:
            writer.poly(shape)
        writer.record(f"shape {index}")
    writer.close()
    return path.with_suffix(".shp")


def clockwise(ring: list[list[float]]) -> list[list[float]]:
    """A shapefile's outer rings are clockwise, its holes counter-clockwise."""
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))
    return ring if area < 0 else ring[::-1]


def counter_clockwise(ring: list[list[float]]) -> list[list[float]]:
    return clockwise(ring)[::-1]


def vertices(points: list[list[float]]) -> list[dict[str, float]]:
    """``[{"x", "y"}]`` of a ring, without its closing point."""
    ring = points[:-1] if points[0] == points[-1] else points
    return [{"x": x, "y": y} for x, y in ring]


MERCATOR_CITIES = [(2.3522, 48.8566), (-0.1276, 51.5072)]
"""Paris and London (longitude, latitude), written in EPSG:3857 by :func:`write_all`."""


def write_all(folder: Path) -> dict[str, Any]:
    """Every file of the compatibility tests, in ``folder``, and the calls to make with them:
    ``{"interface": ..., "calls": {asset external id: (method, kwargs)}}`` (paths as str),
    also written to ``folder / "calls.json"`` for the official SDK's script."""
    import pyproj

    to_mercator = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    mixed = write_geojson(folder / "mixed.geojson", mixed_features())
    waters = write_geojson(folder / "waters.geojson", [feature("Polygon", [SQUARE, HOLE])])
    props = write_geojson(
        folder / "props.geojson",
        [
            feature(
                "Point",
                [5.0, 45.0],
                kili={"job": "POINTS", "type": "marker", "categories": [{"name": "POLE"}]},
            ),
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"kili": {"job": "WEATHER", "categories": [{"name": "SUNNY"}]}},
            },
        ],
    )
    trees = write_shapefile(folder / "trees", shapefile.POINT, [(2.1, 48.1), (2.2, 48.2)])
    roads = write_shapefile(
        folder / "roads", shapefile.POLYLINE, [[[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]]]
    )
    lakes = write_shapefile(
        folder / "lakes", shapefile.POLYGON, [[clockwise(SQUARE), counter_clockwise(HOLE)]]
    )
    cars = write_shapefile(folder / "cars", shapefile.POLYGON, [[clockwise(TRIANGLE)]])
    cities = write_shapefile(
        folder / "cities",
        shapefile.POINT,
        [to_mercator.transform(*p) for p in MERCATOR_CITIES],
    )
    calls: dict[str, Any] = {
        "auto": ("append_labels_from_geojson_files", {"geojson_file_paths": [mixed]}),
        "mapped": (
            "append_labels_from_geojson_files",
            {
                "geojson_file_paths": [waters, mixed],
                "job_names": ["MASKS", "AREAS"],
                "category_names": ["WATER", "FIELD"],
            },
        ),
        "properties": ("append_labels_from_geojson_files", {"geojson_file_paths": [props]}),
        "shapes": (
            "append_labels_from_shapefiles",
            {
                "shapefile_paths": [trees, roads, lakes, cars],
                "job_names": ["POINTS", "LINES", "MASKS", "BOXES"],
                "category_names": ["POLE", "ROAD", "WATER", "CAR"],
            },
        ),
        "mercator": (
            "append_labels_from_shapefiles",
            {
                "shapefile_paths": [cities],
                "job_names": ["POINTS"],
                "category_names": ["TREE"],
                "from_epsgs": [3857],
            },
        ),
    }
    plan = json.loads(json.dumps({"interface": GEO_INTERFACE, "calls": calls}, default=str))
    (folder / "calls.json").write_text(json.dumps(plan))
    return plan


def comparable(response: dict[str, Any]) -> dict[str, Any]:
    """A json response without what differs between two imports of the same files: mids
    (random), and the keys one SDK writes and the other leaves out (``children: {}``,
    ``labelVersion``)."""
    out: dict[str, Any] = {}
    for job, answer in response.items():
        out[job] = {
            key: [
                {k: v for k, v in a.items() if k not in ("mid", "children", "labelVersion")}
                for a in value
            ]
            if key == "annotations"
            else value
            for key, value in answer.items()
        }
    return out
