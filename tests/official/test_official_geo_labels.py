"""The official SDK (26.2.4, with its ``gis`` extra) imports labels from GeoJSON files and
shapefiles into the local server; aiokili, given the same files, writes the same labels."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from geo_support import MERCATOR_CITIES, comparable, write_all
from official_support import official_python, run_official

import aiokili
from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return write_all(tmp_path_factory.mktemp("geo-files"))


@pytest.fixture(scope="module")
def out(
    official_python: Path,
    local_server: LocalServer,
    files: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    folder = str(Path(files["calls"]["auto"][1]["geojson_file_paths"][0]).parent)
    return run_official(
        official_python,
        "geo_labels.py",
        local_server,
        tmp_path_factory.mktemp("geo_labels"),
        env={"AIOKILI_GEO_DIR": folder},
    )


def test_every_call_wrote_one_label(out: Any) -> None:
    assert set(out["labels"]) == {"auto", "mapped", "properties", "shapes", "mercator"}


def test_geojson_geometries_become_the_fitting_tools(out: Any) -> None:
    auto = out["labels"]["auto"]
    assert set(auto) == {"POINTS", "LINES", "AREAS", "MASKS"}
    assert [a["type"] for a in auto["POINTS"]["annotations"]] == ["marker"] * 3
    assert auto["MASKS"]["annotations"][0]["type"] == "semantic"
    assert out["labels"]["properties"]["WEATHER"] == {"categories": [{"name": "SUNNY"}]}


def test_shapefiles_reprojected_to_wgs84(out: Any) -> None:
    points = out["labels"]["mercator"]["POINTS"]["annotations"]
    found = [c for a in points for c in (a["point"]["x"], a["point"]["y"])]
    assert found == pytest.approx([c for city in MERCATOR_CITIES for c in city], abs=1e-9)


def test_an_unknown_job_is_refused_with_nothing_written(out: Any) -> None:
    assert out["refused"] == "Job 'NOPE' not found in project"
    assert "refused" not in out["labels"]


@pytest.mark.anyio
async def test_aiokili_writes_the_same_labels(
    out: Any, files: dict[str, Any], kili: aiokili.AsyncKili
) -> None:
    project = await kili.create_project(
        title="geo", input_type="IMAGE", json_interface=files["interface"]
    )
    names = list(files["calls"])
    await kili.append_many_to_dataset(
        project.id,
        content_array=[f"https://maps.example/{name}.png" for name in names],
        external_id_array=names,
    )
    for name, (method, kwargs) in files["calls"].items():
        with pytest.warns(UserWarning) if name == "mapped" else nullcontext():
            await getattr(kili, method)(project.id, name, **kwargs)
    labels = await kili.labels(project.id, fields=["jsonResponse", "labelOf.externalId"])
    ours = {lb.label_of.external_id: lb.json_response for lb in labels if lb.label_of}
    assert set(ours) == set(out["labels"])
    for name, theirs in out["labels"].items():
        assert comparable(ours[name]) == comparable(theirs), name
