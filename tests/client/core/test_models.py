"""What the models give a user without casts: enums that print as their value, JSON documents
that are dicts (``{}`` when empty), the fields always fetched filled in."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili._core.graphql import read_result
from aiokili._core.selection import build_selection, page_model

pytestmark = pytest.mark.anyio


async def test_statuses_print_as_their_value(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A")] * 2)
    assets = await kili.assets(project_id)
    asset = assets[0]
    assert str(asset.status) == "LABELED" and f"{asset.status}" == "LABELED"
    assert f"{asset.status:>8}|" == " LABELED|" and "|".join([asset.status]) == "LABELED"
    assert asset.status.value == "LABELED" and asset.status.name == "LABELED"
    assert asset.status == aiokili.Status.LABELED == "LABELED"  # equality as before
    assert asset.status is aiokili.Status("LABELED")
    assert repr(asset.status) == "<Status.LABELED: 'LABELED'>"
    assert Counter(f"{a.status}" for a in assets) == {"LABELED": 2, "TODO": 1}
    (label, _) = await kili.labels(project_id)
    assert str(label.label_type) == "DEFAULT" and f"{aiokili.InputType.TEXT}" == "TEXT"


async def test_json_documents_are_dicts_and_always_fetched_fields_are_set(
    kili: aiokili.AsyncKili,
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 1)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("B")])
    (label,) = await kili.labels(project_id)
    assert label.json_response["JOB"]["categories"][0]["name"] == "B"
    assert isinstance(label.created_at, datetime) and label.label_type == "DEFAULT"
    assert label.asset_id == ids[0] and label.is_sent_back_to_queue is False
    (asset,) = await kili.assets(project_id)
    assert asset.json_metadata["n"] == 0 and set(asset.json_metadata) == {"split", "n"}
    assert asset.external_id == "img-0000" and isinstance(asset.content, str)
    assert [lb.id for lb in asset.labels] == [label.id] and asset.priority == 0
    (project,) = await kili.projects(project_id=project_id)
    assert project.json_interface["jobs"]["JOB"]["mlTask"] == "CLASSIFICATION"
    assert project.title and project.archived is False and project.steps


def _page(label: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"data": {"data": [{"id": "L1", **label}]}})


@pytest.mark.parametrize(
    ("sent", "decoded"),
    [('{"JOB": {}}', {"JOB": {}}), ("", {}), (None, {}), ({"JOB": {}}, {"JOB": {}})],
)
def test_a_json_document_decodes_to_a_dict_and_empty_to_an_empty_one(
    sent: Any, decoded: dict[str, Any]
) -> None:
    model = page_model(aiokili.Label, build_selection(aiokili.Label, ("jsonResponse",)))
    (label,) = read_result(_page({"jsonResponse": sent}), "Labels", model).data
    assert label.json_response == decoded


@pytest.mark.parametrize("sent", ["[1, 2]", '"text"', "not json", 3])
def test_a_json_document_that_is_not_an_object_is_an_invalid_response(sent: Any) -> None:
    """Never a value of another type than the declared ``dict``."""
    model = page_model(aiokili.Label, build_selection(aiokili.Label, ("jsonResponse",)))
    with pytest.raises(aiokili.InvalidResponseError):
        read_result(_page({"jsonResponse": sent}), "Labels", model)
