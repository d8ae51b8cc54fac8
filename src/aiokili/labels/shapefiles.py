"""ESRI shapefiles as one Kili json response, for ``append_labels_from_shapefiles``: pyshp
reads the geometries, shapely shapes them, pyproj brings them to WGS84 (EPSG:4326: ``x`` is
the longitude, ``y`` the latitude), and each becomes an annotation of the file's job with
the job's first tool, as the official SDK does: points become markers, lines polylines,
polygons rectangles, polygons or semantic masks. What does not fit the tool is left out."""

from __future__ import annotations

import importlib
import struct
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import KiliInputError
from .geojson import GEO_EXTRA

WGS84 = 4326
_POLYGON_TOOLS = ("rectangle", "polygon", "semantic")
_PACKAGES = {"shapefile": "pyshp"}  # module -> the package that brings it


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        top = name.partition(".")[0]
        raise ImportError(
            f"append_labels_from_shapefiles() needs {_PACKAGES.get(top, top)}: {GEO_EXTRA}."
        ) from None


def require_libraries(reproject: bool) -> None:
    """ImportError naming the extra if a library is missing (checked before requests)."""
    for name in ("shapefile", "shapely.geometry") + (("pyproj",) if reproject else ()):
        _module(name)


def read_geometries(path: Path, epsg: int) -> list[Any]:
    """The shapely geometries of the shapefile ``path``, in EPSG:4326 (from ``epsg``)."""
    shapefile = _module("shapefile")
    geometry = _module("shapely.geometry")
    try:
        with shapefile.Reader(str(path)) as reader:
            shapes = [s.__geo_interface__ for s in reader.iterShapes() if s.points]
    except (OSError, struct.error, ValueError, shapefile.ShapefileException) as exc:
        raise KiliInputError(f"{path}: not a readable shapefile ({exc}).") from None
    geometries = [geometry.shape(s) for s in shapes]
    if epsg == WGS84:
        return geometries
    pyproj, shapely = _module("pyproj"), _module("shapely")
    try:
        to_wgs84 = pyproj.Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    except pyproj.exceptions.CRSError as exc:
        raise KiliInputError(f"{path}: EPSG:{epsg} is not a known projection ({exc}).") from None

    def reproject(x: Any, y: Any) -> Any:
        # Lists, not arrays: pyproj < 3.7.2 first tries an array as one point, and a point's
        # one-element array then warns (NumPy 1.25 deprecates making it a float).
        return to_wgs84.transform(x.tolist(), y.tolist())

    return [shapely.transform(g, reproject, interleaved=False) for g in geometries]


def to_annotations(
    geometries: list[Any], tool: str, category: str
) -> tuple[list[dict[str, Any]], int]:
    """The annotations of ``tool`` made from ``geometries``, and how many geometries did
    not fit the tool (left out)."""
    out: list[dict[str, Any]] = []
    dropped = 0
    for shape in geometries:
        made = _annotations_of(shape, tool)
        if not made:
            dropped += 1
        for annotation in made:
            out.append({**annotation, "categories": [{"name": category}], "children": {}})
    return out, dropped


def _annotations_of(shape: Any, tool: str) -> list[dict[str, Any]]:
    kind = shape.geom_type
    if tool == "marker" and kind in ("Point", "MultiPoint"):
        return [
            {"type": "marker", "mid": _mid(), "point": {"x": p.x, "y": p.y}} for p in _parts(shape)
        ]
    if tool == "polyline" and kind in ("LineString", "MultiLineString"):
        return [
            {"type": "polyline", "mid": _mid(), "polyline": _vertices(line.coords)}
            for line in _parts(shape)
        ]
    if tool in _POLYGON_TOOLS and kind in ("Polygon", "MultiPolygon"):
        record_mid = _mid()  # the parts of one semantic object share it
        return [
            {
                "type": tool,
                "mid": record_mid if tool == "semantic" else _mid(),
                "boundingPoly": _bounding_poly(polygon, tool),
            }
            for polygon in _parts(shape)
        ]
    return []


def _bounding_poly(polygon: Any, tool: str) -> list[dict[str, Any]]:
    exterior = _vertices(polygon.exterior.coords)
    if tool == "rectangle" and len(exterior) != 4:
        minx, miny, maxx, maxy = polygon.bounds
        exterior = [
            {"x": minx, "y": miny},
            {"x": minx, "y": maxy},
            {"x": maxx, "y": maxy},
            {"x": maxx, "y": miny},
        ]
    rings = [exterior]
    if tool == "semantic":  # the holes follow the outer ring
        rings += [_vertices(ring.coords) for ring in polygon.interiors]
    return [{"normalizedVertices": ring} for ring in rings]


def _parts(shape: Any) -> Iterator[Any]:
    yield from getattr(shape, "geoms", [shape])


def _vertices(coords: Any) -> list[dict[str, float]]:
    """``[{"x", "y"}]`` of a line or ring, without the closing repeat of the first point."""
    points = [(float(c[0]), float(c[1])) for c in coords]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return [{"x": x, "y": y} for x, y in points]


def _mid() -> str:
    return uuid.uuid4().hex


def job_tool(job: Mapping[str, Any], job_name: str, where: str) -> str:
    """The tool a shapefile's geometries become: the job's first (KiliInputError if it has
    none that a geometry can be)."""
    tools = list(job.get("tools") or [])
    if not tools or tools[0] not in ("marker", "polyline", *_POLYGON_TOOLS):
        raise KiliInputError(
            f"{where}: job {job_name!r}'s first tool is {tools[0] if tools else None!r}; "
            "shapefiles become marker, polyline, rectangle, polygon or semantic annotations."
        )
    return str(tools[0])
