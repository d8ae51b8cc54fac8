"""append_labels_from_geojson_files and append_labels_from_shapefiles against the local
server: real GeoJSON files and real shapefiles (written by pyshp), every geometry kind, a
reprojected shapefile, features that fit no job, bad input refused before any request."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyproj
import pytest
import shapefile
from geo_support import (
    GEO_INTERFACE,
    HOLE,
    NO_LINES,
    SQUARE,
    TRIANGLE,
    clockwise,
    counter_clockwise,
    feature,
    mixed_features,
    vertices,
    write_geojson,
    write_shapefile,
)

import aiokili
from aiokili.errors import KiliInputError

pytestmark = pytest.mark.anyio


async def geo_project(kili: aiokili.AsyncKili, interface: dict[str, Any] = GEO_INTERFACE) -> str:
    project = await kili.create_project(title="geo", input_type="IMAGE", json_interface=interface)
    await kili.append_many_to_dataset(
        project.id, content_array=["https://maps.example/paris.png"], external_id_array=["paris"]
    )
    return project.id


async def only_label(kili: aiokili.AsyncKili, project_id: str) -> dict[str, Any]:
    labels = await kili.labels(project_id)
    assert len(labels) == 1
    return labels[0].json_response


def _annotations(response: dict[str, Any], job: str) -> list[dict[str, Any]]:
    annotations: list[dict[str, Any]] = response[job]["annotations"]
    return annotations


async def test_geojson_geometries_go_to_the_first_fitting_job(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    path = write_geojson(tmp_path / "mixed.geojson", mixed_features())
    label_id = await kili.append_labels_from_geojson_files(project_id, "paris", [path])

    labels = await kili.labels(project_id)
    assert [label.id for label in labels] == [label_id]
    response = labels[0].json_response
    assert set(response) == {"POINTS", "LINES", "AREAS", "MASKS"}
    points = _annotations(response, "POINTS")  # the Point, then the MultiPoint's two
    assert [a["point"] for a in points] == [
        {"x": 2.35, "y": 48.85},
        {"x": 2.3, "y": 48.8},
        {"x": 2.4, "y": 48.9},
    ]
    assert {a["type"] for a in points} == {"marker"}
    assert all(a["categories"] == [{"name": "TREE"}] for a in points)  # the first category
    (line,) = _annotations(response, "LINES")
    assert line["type"] == "polyline"
    assert line["polyline"] == [{"x": 2.0, "y": 48.0}, {"x": 2.5, "y": 48.5}, {"x": 3.0, "y": 48.7}]
    (area,) = _annotations(response, "AREAS")  # the Polygon: a polygon job comes first
    assert area["type"] == "polygon"
    assert area["boundingPoly"] == [{"normalizedVertices": vertices(SQUARE)}]
    (mask,) = _annotations(response, "MASKS")  # the MultiPolygon: semantic only
    assert mask["type"] == "semantic"
    assert mask["boundingPoly"] == [
        [{"normalizedVertices": vertices(SQUARE)}],
        [{"normalizedVertices": vertices(TRIANGLE)}],
    ]
    mids = [a["mid"] for job in response.values() for a in job["annotations"]]
    assert all(mids) and len(set(mids)) == len(mids)


async def test_a_feature_no_job_fits_is_left_out_with_a_warning(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili, NO_LINES)
    path = write_geojson(tmp_path / "mixed.geojson", mixed_features())
    with pytest.warns(UserWarning, match=r"1 feature\(s\) fit no job") as caught:
        await kili.append_labels_from_geojson_files(project_id, "paris", [path])
    assert caught[0].filename == __file__  # the warning points at the caller's line
    response = await only_label(kili, project_id)
    assert set(response) == {"POINTS", "AREAS", "MASKS"}  # the line is gone, nothing else


async def test_kili_properties_choose_job_tool_and_categories(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    box = feature(
        "Polygon",
        [[[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0], [1.0, 1.0]]],
        kili={"job": "BOXES", "type": "rectangle", "categories": [{"name": "CAR"}]},
    )
    box["id"] = "car-1"
    weather = {
        "type": "Feature",
        "geometry": None,
        "properties": {"kili": {"job": "WEATHER", "categories": [{"name": "SUNNY"}]}},
    }
    pole = feature(
        "Point",
        [5.0, 45.0],
        kili={"job": "POINTS", "type": "marker", "categories": [{"name": "POLE"}]},
    )
    path = write_geojson(tmp_path / "props.geojson", [box, weather, pole])
    await kili.append_labels_from_geojson_files(project_id, "paris", [path])

    response = await only_label(kili, project_id)
    (car,) = _annotations(response, "BOXES")
    assert car["mid"] == "car-1"  # the feature's id
    assert car["type"] == "rectangle" and car["categories"] == [{"name": "CAR"}]
    assert {(v["x"], v["y"]) for v in car["boundingPoly"][0]["normalizedVertices"]} == {
        (1.0, 1.0),
        (1.0, 2.0),
        (2.0, 2.0),
        (2.0, 1.0),
    }
    assert response["WEATHER"] == {"categories": [{"name": "SUNNY"}]}
    assert _annotations(response, "POINTS")[0]["categories"] == [{"name": "POLE"}]


async def test_job_and_category_names_map_each_file(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    waters = write_geojson(tmp_path / "waters.geojson", [feature("Polygon", [SQUARE, HOLE])])
    fields = write_geojson(
        tmp_path / "fields.geojson",
        [feature("Polygon", [TRIANGLE]), feature("Point", [1.0, 1.0])],  # no marker in AREAS
    )
    with pytest.warns(UserWarning, match=r"1 feature\(s\)"):
        await kili.append_labels_from_geojson_files(
            project_id,
            "paris",
            [waters, fields],
            job_names=["MASKS", "AREAS"],
            category_names=["WATER", "FIELD"],
        )
    response = await only_label(kili, project_id)
    assert set(response) == {"MASKS", "AREAS"}
    (water,) = _annotations(response, "MASKS")
    assert water["categories"] == [{"name": "WATER"}]
    assert water["boundingPoly"] == [  # the hole is kept
        [{"normalizedVertices": vertices(SQUARE)}, {"normalizedVertices": vertices(HOLE)}]
    ]
    (field,) = _annotations(response, "AREAS")
    assert field["categories"] == [{"name": "FIELD"}]
    assert field["boundingPoly"] == [{"normalizedVertices": vertices(TRIANGLE)}]


async def test_files_merge_into_one_label_on_the_step_asked(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    first = write_geojson(tmp_path / "a.geojson", [feature("Point", [1.0, 2.0])])
    second = write_geojson(tmp_path / "b.geojson", [feature("Point", [3.0, 4.0])])
    await kili.append_labels_from_geojson_files(
        project_id, "paris", [first, str(second)], label_type="PREDICTION", model_name="gis"
    )
    (prediction,) = await kili.predictions(project_id)
    assert prediction.model_name == "gis"
    points = _annotations(prediction.json_response, "POINTS")
    assert [a["point"] for a in points] == [{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 4.0}]


async def test_nothing_written_when_no_feature_fits(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili, NO_LINES)
    path = write_geojson(tmp_path / "roads.geojson", [feature("LineString", [[0, 0], [1, 1]])])
    with (
        pytest.raises(KiliInputError, match=r"No geometry of roads\.geojson fits a job"),
        pytest.warns(UserWarning),
    ):
        await kili.append_labels_from_geojson_files(project_id, "paris", [path])
    assert await kili.count_labels(project_id) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"job_names": ["POINTS"]}, "Give both job_names and category_names"),
        (
            {"job_names": ["POINTS", "AREAS"], "category_names": ["TREE", "FIELD"]},
            "geojson_file_paths has 1, job_names has 2",
        ),
        (
            {"job_names": ["NOPE"], "category_names": ["TREE"]},
            r"'NOPE' is not an object detection job of the project \(its object detection "
            r"jobs: POINTS, LINES, AREAS, MASKS, BOXES\)",
        ),
        (
            {"job_names": ["POINTS"], "category_names": ["CAR"]},
            r"job 'POINTS' has no category 'CAR' \(its categories: TREE, POLE\)",
        ),
        (
            {"job_names": ["WEATHER"], "category_names": ["SUNNY"]},
            "'WEATHER' is not an object detection job",
        ),
        ({"group_name": "g"}, "multi-group"),
    ],
)
async def test_bad_mappings_are_refused_with_nothing_written(
    kili: aiokili.AsyncKili, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    project_id = await geo_project(kili)
    path = write_geojson(tmp_path / "p.geojson", [feature("Point", [1.0, 2.0])])
    with pytest.raises(KiliInputError, match=message):
        await kili.append_labels_from_geojson_files(project_id, "paris", [path], **kwargs)
    assert await kili.count_labels(project_id) == 0


async def test_bad_files_are_refused_before_any_request(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    not_a_collection = tmp_path / "feature.geojson"
    not_a_collection.write_text('{"type": "Feature"}')
    not_json = tmp_path / "broken.geojson"
    not_json.write_text("{")
    cases = [
        ([tmp_path / "missing.geojson"], "geojson_file_paths\\[0\\]: no such file"),
        ([not_a_collection], "a GeoJSON FeatureCollection is expected, got 'Feature'"),
        ([not_json], "broken.geojson: not a readable GeoJSON file"),
        ([], "geojson_file_paths is empty"),
        ("one.geojson", "geojson_file_paths must be a list"),
    ]
    # no such project: any request would fail with NotFoundError instead
    for paths, message in cases:
        with pytest.raises(KiliInputError, match=message):
            await kili.append_labels_from_geojson_files("no-such-project", "a", paths)


async def test_shapefiles_become_markers_polylines_and_polygons(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    points = write_shapefile(tmp_path / "trees", shapefile.POINT, [(2.1, 48.1), (2.2, 48.2)])
    roads = write_shapefile(  # one record of two parts: two polylines
        tmp_path / "roads", shapefile.POLYLINE, [[[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]]]
    )
    lakes = write_shapefile(  # a polygon with a hole, and a record of two polygons
        tmp_path / "lakes",
        shapefile.POLYGON,
        [
            [clockwise(SQUARE), counter_clockwise(HOLE)],
            [clockwise(TRIANGLE), clockwise([[5, 5], [5, 6], [6, 6], [6, 5], [5, 5]])],
        ],
    )
    cars = write_shapefile(tmp_path / "cars", shapefile.POLYGON, [[clockwise(TRIANGLE)]])
    label_id = await kili.append_labels_from_shapefiles(
        project_id,
        "paris",
        [points, roads, lakes, cars],
        job_names=["POINTS", "LINES", "MASKS", "BOXES"],
        category_names=["POLE", "ROAD", "WATER", "CAR"],
    )
    (label,) = await kili.labels(project_id)
    assert label.id == label_id
    response = label.json_response
    poles = _annotations(response, "POINTS")
    assert [a["point"] for a in poles] == [{"x": 2.1, "y": 48.1}, {"x": 2.2, "y": 48.2}]
    assert all(a["type"] == "marker" and a["categories"] == [{"name": "POLE"}] for a in poles)
    assert [a["polyline"] for a in _annotations(response, "LINES")] == [
        [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
        [{"x": 2, "y": 2}, {"x": 3, "y": 3}, {"x": 4, "y": 2}],
    ]
    lake, *parts = _annotations(response, "MASKS")
    assert lake["type"] == "semantic"
    rings = [ring["normalizedVertices"] for ring in lake["boundingPoly"]]
    assert len(rings) == 2  # the outer ring, then the hole
    assert {(v["x"], v["y"]) for v in rings[1]} == {tuple(p) for p in HOLE}
    assert len(parts) == 2 and parts[0]["mid"] == parts[1]["mid"] != lake["mid"]
    (car,) = _annotations(response, "BOXES")  # a triangle: its bounds
    assert car["boundingPoly"][0]["normalizedVertices"] == [
        {"x": 3.0, "y": 49.0},
        {"x": 3.0, "y": 49.2},
        {"x": 3.2, "y": 49.2},
        {"x": 3.2, "y": 49.0},
    ]


@pytest.mark.filterwarnings("error::DeprecationWarning")  # pyproj 3.7.1 warned on a point
async def test_shapefiles_in_another_projection_are_reprojected_to_wgs84(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    to_mercator = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    lon_lat = [(2.3522, 48.8566), (-0.1276, 51.5072)]  # Paris, London
    mercator = [to_mercator.transform(*p) for p in lon_lat]
    assert abs(mercator[0][0] - 261845.7) < 1  # metres: really another projection
    path = write_shapefile(tmp_path / "cities", shapefile.POINT, mercator)
    await kili.append_labels_from_shapefiles(
        project_id, "paris", [path], ["POINTS"], ["TREE"], from_epsgs=[3857]
    )
    found = [a["point"] for a in _annotations(await only_label(kili, project_id), "POINTS")]
    got = [c for p in found for c in (p["x"], p["y"])]
    assert got == pytest.approx([c for p in lon_lat for c in p], abs=1e-9)


async def test_shapefile_geometries_that_do_not_fit_the_tool_are_left_out(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    path = write_shapefile(tmp_path / "pts", shapefile.MULTIPOINT, [[[1, 1], [2, 2]]])
    lines = write_shapefile(tmp_path / "lines", shapefile.POLYLINE, [[[[0, 0], [1, 1]]]])
    with pytest.warns(UserWarning, match="1 geometries fit no job"):
        await kili.append_labels_from_shapefiles(
            project_id, "paris", [path, lines], ["POINTS", "AREAS"], ["TREE", "FIELD"]
        )
    response = await only_label(kili, project_id)
    assert set(response) == {"POINTS"}  # the multipoint's two markers; the line fits no polygon
    assert len(_annotations(response, "POINTS")) == 2


async def test_bad_shapefile_input_is_refused(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    project_id = await geo_project(kili)
    good = write_shapefile(tmp_path / "pts", shapefile.POINT, [(1, 1)])
    garbage = tmp_path / "garbage.shp"
    garbage.write_bytes(b"not a shapefile")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"shapefile_paths": [garbage]}, "garbage.shp: not a readable shapefile"),
        ({"from_epsgs": [999999]}, "EPSG:999999 is not a known projection"),
        ({"from_epsgs": [4326, 3857]}, "shapefile_paths has 1, job_names has 1, category"),
        ({"job_names": ["LINES2"]}, "'LINES2' is not an object detection job"),
        ({"category_names": ["ROAD"]}, "job 'POINTS' has no category 'ROAD'"),
    ]
    for changes, message in cases:
        kwargs: dict[str, Any] = {
            "shapefile_paths": [good],
            "job_names": ["POINTS"],
            "category_names": ["TREE"],
            **changes,
        }
        with pytest.raises(KiliInputError, match=message):
            await kili.append_labels_from_shapefiles(project_id, "paris", **kwargs)
    assert await kili.count_labels(project_id) == 0


async def test_a_missing_library_names_the_extra(
    kili: aiokili.AsyncKili, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_shapefile(tmp_path / "pts", shapefile.POINT, [(1, 1)])
    geojson = write_geojson(tmp_path / "p.geojson", [feature("Point", [1.0, 2.0])])
    monkeypatch.setitem(sys.modules, "shapefile", None)  # import shapefile: ImportError
    monkeypatch.setitem(sys.modules, "kili_formats.format.geojson", None)
    with pytest.raises(ImportError, match=r"needs pyshp: pip install 'aiokili\[geo\]'"):
        await kili.append_labels_from_shapefiles("no-such-project", "a", [path], ["J"], ["C"])
    with pytest.raises(ImportError, match=r"needs kili-formats: pip install 'aiokili\[geo\]'"):
        await kili.append_labels_from_geojson_files("no-such-project", "a", [geojson])


async def test_nothing_written_when_no_shapefile_geometry_fits(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await geo_project(kili)
    lines = write_shapefile(tmp_path / "lines", shapefile.POLYLINE, [[[[0, 0], [1, 1]]]])
    with (
        pytest.raises(KiliInputError, match=r"No geometry of lines\.shp .* points a marker"),
        pytest.warns(UserWarning, match="1 geometries"),
    ):
        await kili.append_labels_from_shapefiles(project_id, "paris", [lines], ["POINTS"], ["TREE"])
    assert await kili.count_labels(project_id) == 0
