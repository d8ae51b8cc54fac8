"""Labels from geospatial files: ``append_labels_from_geojson_files`` and
``append_labels_from_shapefiles`` (the ``geo`` extra). The files are converted here, then
the label goes through :meth:`~aiokili.AsyncKili.append_labels`, checked as any label."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._core.calls import user_stacklevel
from .._core.inputs import as_list, same_length
from ..errors import KiliInputError
from ..models import LabelType, LabelTypeName
from . import geojson, shapefiles
from .mutations import LabelMutationMethods, _check_new_labels

PathLike = str | os.PathLike[str]


def _files(name: str, value: Any) -> list[Path]:
    paths = as_list(name, value, str, os.PathLike)
    if not paths:
        raise KiliInputError(f"{name} is empty: give at least one file.")
    out = [Path(p).expanduser() for p in paths]
    for index, path in enumerate(out):
        if not path.is_file():
            raise KiliInputError(f"{name}[{index}]: no such file {str(path)!r}.")
    return out


def _names(name: str, value: Any) -> list[str] | None:
    names = as_list(name, value, str)
    if names is not None and not all(names):
        raise KiliInputError(f"{name} has an empty name.")
    return names


def _asset(asset_external_id: Any) -> str:
    if not isinstance(asset_external_id, str) or not asset_external_id:
        raise KiliInputError(
            f"asset_external_id must be the asset's external id, got {asset_external_id!r}."
        )
    return asset_external_id


def _check_result(
    response: dict[str, Any], dropped: int, what: str, paths: Sequence[Path], hint: str
) -> None:
    """Warns about what was left out; refuses a label with nothing left in it."""
    if dropped:
        warnings.warn(
            f"{dropped} {what} fit no job of the project and were left out (as the official "
            "SDK does).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if not response:
        names = ", ".join(p.name for p in paths)
        raise KiliInputError(
            f"No geometry of {names} fits a job of the project: nothing was written. {hint}"
        )


def _check_label_arguments(
    project_id: Any,
    asset_external_id: str,
    label_type: Any,
    step_name: Any,
    model_name: Any,
    step_id: Any,
    group_name: Any,
) -> None:
    """The checks of ``append_labels`` on what is passed on to it, before reading files."""
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError(f"project_id must be a project's id, got {project_id!r}.")
    _check_new_labels(
        asset_id_array=None,
        json_response_array=[{}],
        author_id_array=None,
        seconds_to_label_array=None,
        model_name=model_name,
        label_type=label_type,
        project_id=project_id,
        asset_external_id_array=[asset_external_id],
        overwrite=False,
        step_name=step_name,
        reviewed_label_id_array=None,
        step_id=step_id,
        group_name=group_name,
    )


_GEOJSON_HINT = (
    "Check the jobs' tools (Point: marker, LineString: polyline, Polygon: polygon or "
    "semantic, MultiPolygon: semantic) or give job_names and category_names."
)
_SHAPEFILE_HINT = (
    "A file's geometries become its job's first tool: points a marker, lines a polyline, "
    "polygons a rectangle, polygon or semantic mask."
)


class GeoLabelMethods(LabelMutationMethods):
    """Label imports from GeoJSON files and shapefiles, for :class:`~aiokili.AsyncKili`."""

    async def append_labels_from_geojson_files(
        self,
        project_id: str,
        asset_external_id: str,
        geojson_file_paths: Sequence[PathLike],
        job_names: Sequence[str] | None = None,
        category_names: Sequence[str] | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        step_name: str | None = None,
        model_name: str | None = None,
        step_id: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """Append one label to an asset from GeoJSON FeatureCollection files; return its id.

        Each feature becomes an annotation, in one of three ways (as in the official SDK):

        1. its ``properties.kili`` says its ``job``, ``type`` (tool) and ``categories``;
        2. ``job_names`` / ``category_names`` (one of each per file) map every feature of
           a file whose geometry fits one of the job's tools;
        3. otherwise it goes to the project's first object detection job with a fitting
           tool, with that job's first category.

        Point and MultiPoint become markers, LineString and MultiLineString polylines,
        Polygon a polygon (else a semantic mask), MultiPolygon a semantic mask. Features no
        job fits are left out with a warning; if none is left, nothing is written
        (KiliInputError). Coordinates stay as in the files (GeoJSON is WGS84: ``x`` is
        the longitude, ``y`` the latitude). The files' labels are merged into one label,
        sent with :meth:`append_labels` (``label_type``, ``step_name`` / ``step_id``,
        ``model_name``: as there). Needs ``pip install 'aiokili[geo]'``.
        """
        asset = _asset(asset_external_id)
        _check_label_arguments(
            project_id, asset, label_type, step_name, model_name, step_id, group_name
        )
        paths = _files("geojson_file_paths", geojson_file_paths)
        jobs = _names("job_names", job_names)
        categories = _names("category_names", category_names)
        if (jobs is None) != (categories is None):
            raise KiliInputError(
                "Give both job_names and category_names (one of each per file), or neither."
            )
        same_length(geojson_file_paths=paths, job_names=jobs, category_names=categories)
        geojson.require_kili_formats()
        collections = [geojson.read_feature_collection(p) for p in paths]
        interface = await self._core.lookups.json_interface(project_id)
        response: dict[str, Any] = {}
        dropped = 0
        for index, (path, collection) in enumerate(zip(paths, collections, strict=True)):
            mapping = None
            if jobs is not None and categories is not None:
                where = f"job_names[{index}] / category_names[{index}]"
                geojson.check_job_and_category(interface, jobs[index], categories[index], where)
                mapping = (jobs[index], categories[index])
            features, left_out = geojson.enrich(collection, interface, mapping)
            dropped += left_out
            geojson.merge(response, geojson.to_json_response(features, str(path)))
        _check_result(response, dropped, "feature(s)", paths, _GEOJSON_HINT)
        return await self._append_one(
            project_id, asset, response, label_type, step_name, model_name, step_id, group_name
        )

    async def append_labels_from_shapefiles(
        self,
        project_id: str,
        asset_external_id: str,
        shapefile_paths: Sequence[PathLike],
        job_names: Sequence[str],
        category_names: Sequence[str],
        from_epsgs: Sequence[int] | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        step_name: str | None = None,
        model_name: str | None = None,
        step_id: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """Append one label to an asset from ESRI shapefiles (``.shp``); return its id.

        The geometries of ``shapefile_paths[i]`` become annotations of job
        ``job_names[i]`` with category ``category_names[i]``, of the job's first tool:
        points become markers, lines polylines, polygons rectangles (their bounds unless
        they have 4 corners), polygons (outer ring) or semantic masks (holes kept; the
        parts of one record share a ``mid``). Geometries that do not fit the tool are left
        out with a warning. ``from_epsgs[i]`` is the file's projection (default 4326,
        WGS84); other projections are reprojected to EPSG:4326 (``x``: longitude, ``y``:
        latitude). Z and M values are dropped. The label is sent with
        :meth:`append_labels` (``label_type``, ``step_name`` / ``step_id``, ``model_name``:
        as there). Needs ``pip install 'aiokili[geo]'``.
        """
        asset = _asset(asset_external_id)
        _check_label_arguments(
            project_id, asset, label_type, step_name, model_name, step_id, group_name
        )
        paths = _files("shapefile_paths", shapefile_paths)
        jobs = _names("job_names", job_names) or []
        categories = _names("category_names", category_names) or []
        epsgs = as_list("from_epsgs", from_epsgs, int)
        same_length(
            shapefile_paths=paths, job_names=jobs, category_names=categories, from_epsgs=epsgs
        )
        epsgs = epsgs or [shapefiles.WGS84] * len(paths)
        shapefiles.require_libraries(reproject=any(e != shapefiles.WGS84 for e in epsgs))
        geometries = [shapefiles.read_geometries(p, e) for p, e in zip(paths, epsgs, strict=True)]
        interface = await self._core.lookups.json_interface(project_id)
        response: dict[str, Any] = {}
        dropped = 0
        for index, found in enumerate(geometries):
            where = f"job_names[{index}] / category_names[{index}]"
            job = geojson.check_job_and_category(interface, jobs[index], categories[index], where)
            tool = shapefiles.job_tool(job, jobs[index], f"job_names[{index}]")
            made, left_out = shapefiles.to_annotations(found, tool, categories[index])
            dropped += left_out
            if made:
                geojson.merge(response, {jobs[index]: {"annotations": made}})
        _check_result(response, dropped, "geometries", paths, _SHAPEFILE_HINT)
        return await self._append_one(
            project_id, asset, response, label_type, step_name, model_name, step_id, group_name
        )

    async def _append_one(
        self,
        project_id: str,
        asset_external_id: str,
        response: dict[str, Any],
        label_type: LabelType | LabelTypeName,
        step_name: str | None,
        model_name: str | None,
        step_id: str | None,
        group_name: str | None,
    ) -> str:
        ids = await self.append_labels(
            json_response_array=[response],
            asset_external_id_array=[asset_external_id],
            project_id=project_id,
            label_type=label_type,
            step_name=step_name,
            model_name=model_name,
            step_id=step_id,
            group_name=group_name,
        )
        return ids[0]
