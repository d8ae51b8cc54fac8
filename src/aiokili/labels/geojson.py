"""GeoJSON FeatureCollections as one Kili json response, for
``append_labels_from_geojson_files``: each feature gets its job, tool and category (those
given, its own ``properties.kili``, or the first job whose tool fits its geometry), then
``kili-formats`` (the platform's own conversions) turns it into annotations."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import KiliInputError

GEO_EXTRA = "pip install 'aiokili[geo]'"

TOOLS_OF_GEOMETRY: dict[str, tuple[str, ...]] = {
    "Point": ("marker",),
    "MultiPoint": ("marker",),
    "LineString": ("polyline",),
    "MultiLineString": ("polyline",),
    "Polygon": ("polygon", "semantic"),
    "MultiPolygon": ("semantic",),
}
"""The tools a geometry can become, in the order the official SDK tries them."""


def read_feature_collection(path: Path) -> dict[str, Any]:
    """The FeatureCollection in ``path`` (KiliInputError naming the file if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KiliInputError(f"{path}: not a readable GeoJSON file ({exc}).") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise KiliInputError(
            f"{path}: a GeoJSON FeatureCollection is expected, got {kind!r}: wrap the "
            'features in {"type": "FeatureCollection", "features": [...]}.'
        )
    if not isinstance(data.get("features"), list):
        raise KiliInputError(f'{path}: "features" must be a list of GeoJSON features.')
    return data


def object_jobs(interface: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The OBJECT_DETECTION jobs of an interface, in its order."""
    jobs = interface.get("jobs") or {}
    return {
        name: job
        for name, job in jobs.items()
        if isinstance(job, Mapping) and job.get("mlTask") == "OBJECT_DETECTION"
    }


def _categories(job: Mapping[str, Any]) -> list[str]:
    return list(((job.get("content") or {}).get("categories")) or {})


def check_job_and_category(
    interface: Mapping[str, Any], job_name: str, category: str, where: str
) -> Mapping[str, Any]:
    """The object detection job ``job_name``, having ``category``; else KiliInputError."""
    jobs = object_jobs(interface)
    if job_name not in jobs:
        others = ", ".join(jobs) or "none"
        raise KiliInputError(
            f"{where}: {job_name!r} is not an object detection job of the project "
            f"(its object detection jobs: {others})."
        )
    names = _categories(jobs[job_name])
    if category not in names:
        raise KiliInputError(
            f"{where}: job {job_name!r} has no category {category!r} (its categories: "
            f"{', '.join(names) or 'none'})."
        )
    return jobs[job_name]


def _kili(job: str, tool: str, category: str) -> dict[str, Any]:
    return {"job": job, "type": tool, "categories": [{"name": category}], "children": {}}


def _fitting_tool(geometry: Any, tools: Sequence[str]) -> str | None:
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    return next((t for t in TOOLS_OF_GEOMETRY.get(str(kind), ()) if t in tools), None)


def _automatic(interface: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Tool -> (job, category): the first object detection job with that tool, and its
    first category (jobs without categories are passed over)."""
    found: dict[str, tuple[str, str]] = {}
    for name, job in object_jobs(interface).items():
        categories = _categories(job)
        for tool in job.get("tools") or []:
            if categories and tool not in found:
                found[tool] = (name, categories[0])
    return found


def enrich(
    collection: Mapping[str, Any],
    interface: Mapping[str, Any],
    mapping: tuple[str, str] | None,
) -> tuple[list[dict[str, Any]], int]:
    """The features that become annotations, each with ``properties.kili``, and how many
    were left out (no job fits them).

    ``mapping`` (job, category) maps every feature whose geometry fits one of that job's
    tools; without it, a feature keeps its own ``properties.kili`` or goes to the first job
    whose tool fits its geometry. Features without geometry are kept only when they carry
    ``properties.kili`` (classification or transcription answers) and no mapping is given.
    """
    kept: list[dict[str, Any]] = []
    dropped = 0
    automatic = _automatic(interface) if mapping is None else {}
    tools = (
        list(object_jobs(interface)[mapping[0]].get("tools") or []) if mapping is not None else []
    )
    for raw in collection.get("features") or []:
        feature = dict(raw) if isinstance(raw, Mapping) else {}
        properties = dict(feature.get("properties") or {})
        geometry = feature.get("geometry")
        kili: dict[str, Any] | None = None
        if mapping is not None:
            tool = _fitting_tool(geometry, tools) if geometry else None
            kili = _kili(mapping[0], tool, mapping[1]) if tool else None
        elif properties.get("kili") is not None:
            kili = properties["kili"]
        elif geometry:
            tool = _fitting_tool(geometry, list(automatic))
            kili = _kili(automatic[tool][0], tool, automatic[tool][1]) if tool else None
        if kili is None:
            dropped += 1
            continue
        properties["kili"] = kili
        feature["properties"] = properties
        feature.setdefault("id", uuid.uuid4().hex)  # the annotation's mid
        kept.append(feature)
    return kept, dropped


def to_json_response(features: Sequence[dict[str, Any]], where: str) -> dict[str, Any]:
    """The json response of ``features`` (with ``properties.kili``), converted one by one
    by kili-formats so that an error names the feature."""
    convert = _kili_formats().geojson_feature_collection_to_kili_json_response
    response: dict[str, Any] = {}
    for index, feature in enumerate(features):
        try:
            one = convert({"type": "FeatureCollection", "features": [feature]})
        except (AssertionError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise KiliInputError(
                f"{where}: feature {index} cannot become an annotation: {exc or type(exc).__name__}"
            ) from None
        merge(response, one)
    return response


def merge(into: dict[str, Any], response: Mapping[str, Any]) -> None:
    """Add ``response``'s jobs to ``into``: annotations are appended, other answers
    (categories, text) replace the previous ones (as the official SDK merges files)."""
    for job, answer in response.items():
        target = into.setdefault(job, {})
        for key, value in answer.items():
            if key == "annotations":
                target.setdefault("annotations", []).extend(value)
            else:
                target[key] = value


def _kili_formats() -> Any:
    try:
        return importlib.import_module("kili_formats.format.geojson")
    except ImportError:
        raise ImportError(
            f"append_labels_from_geojson_files() needs kili-formats: {GEO_EXTRA}."
        ) from None


def require_kili_formats() -> None:
    """ImportError naming the extra if kili-formats is missing (checked before requests)."""
    _kili_formats()
