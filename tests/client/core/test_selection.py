"""``fields=`` selections: checked against the models, answers parsed straight from the
bytes into subclasses of the public models without the fields left out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili._core.graphql import read_result
from aiokili._core.selection import build_selection, page_model, with_selection
from aiokili.assets.methods import ASSETS
from aiokili.labels.methods import LABELS

pytestmark = pytest.mark.anyio

SELECTIONS = [
    (LABELS, ("author.email", "author.id", "id", "jsonResponse", "labelType", "secondsToLabel",
              "isLatestLabelForUser", "assetId")),
    (LABELS, ("labelOf.externalId", "author.email")),
    (LABELS, ("id",)),
    (LABELS, ("createdAt", "labelOf")),
    (ASSETS, ("externalId", "labels.jsonResponse", "labels.author.email")),
    (ASSETS, ("jsonMetadata", "status", "resolution.width", "currentStep.name")),
    (ASSETS, ("labels",)),
]  # fmt: skip


async def test_selected_pages_equal_the_full_models_of_the_same_data(
    kili: aiokili.AsyncKili,
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 5)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 5)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("B")] * 2)
    for spec, fields in SELECTIONS:
        selection = build_selection(spec.model, fields)
        document = with_selection(spec.page_document, spec.fragment, selection.text)
        variables = {"where": {"project": {"id": project_id}}, "first": 10, "skip": 0}
        response = await kili.graphql.execute(document, spec.page_operation, variables)
        items = read_result(response, spec.page_operation, page_model(spec.model, selection)).data
        raw = json.loads(response.content)["data"]["data"]
        assert len(items) == len(raw) > 0
        for item, sent in zip(items, raw, strict=True):
            assert isinstance(item, spec.model)
            selected = {spec.model.model_fields[n].alias or n: v for n, v in item if v is not None}
            assert set(selected) <= set(sent), fields  # what is set came in the answer
            assert item.model_fields_set == {  # and it says what was selected
                name for name, f in spec.model.model_fields.items() if (f.alias or name) in sent
            }


async def test_a_field_left_out_is_not_there_and_says_what_to_select(
    kili: aiokili.AsyncKili,
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2)
    (asset, _) = await kili.assets(project_id, fields=["externalId", "labels.author.email"])
    assert asset.external_id == "img-0000" and asset.id == ids[0]  # ids are always fetched
    assert "@" in asset.labels[0].author.email  # type: ignore[union-attr]
    # Not None, {} or a default: whatever its type, a field left out raises, naming the fix.
    with pytest.raises(AttributeError, match=r"^status was not fetched: add 'status' to fields="):
        _ = asset.status
    with pytest.raises(AttributeError, match=r"add 'jsonMetadata' to fields="):
        _ = asset.json_metadata
    with pytest.raises(AttributeError, match=r"add 'content' to fields="):
        _ = asset.content  # Optional in the model: still not a silent None
    with pytest.raises(AttributeError, match=r"add 'labels.jsonResponse' to fields="):
        _ = asset.labels[0].json_response
    with pytest.raises(AttributeError, match=r"add 'labels.author.firstname' to fields="):
        _ = asset.labels[0].author.firstname  # type: ignore[union-attr]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = asset.nope  # type: ignore[attr-defined]
    assert not hasattr(asset, "status") and getattr(asset, "status", "absent") == "absent"
    assert asset.model_dump(by_alias=True) == {
        "id": ids[0], "externalId": "img-0000",
        "labels": [{"id": asset.labels[0].id, "author": asset.labels[0].author.model_dump()}],  # type: ignore[union-attr]
    }  # fmt: skip
    asset.priority = 3  # assigning a field makes it there
    assert asset.priority == 3

    (bare,) = await kili.labels(project_id, fields=["author"], first=1)  # an object alone: all
    assert bare.author is not None and bare.author.email
    assert bare.author.model_fields_set == {"id", "email", "firstname", "lastname"}


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"data": [{"author": {"id": "u", "email": "e"}}]}},  # id missing
        {"data": {"data": "not a list"}},
        {"data": {"data": [{"id": "l1", "labelType": "FINAL"}]}},  # not an enum value
    ],
)
def test_an_answer_that_does_not_match_is_invalid_response(body: dict[str, Any]) -> None:
    selection = build_selection(aiokili.Label, ("id", "author.email", "labelType"))
    with pytest.raises(aiokili.InvalidResponseError):
        read_result(httpx.Response(200, json=body), "Labels", page_model(aiokili.Label, selection))


def test_page_models_are_cached_per_selection() -> None:
    first = build_selection(aiokili.Label, ("id", "jsonResponse"))
    again = build_selection(aiokili.Label, ("id", "jsonResponse"))
    assert page_model(aiokili.Label, first) is page_model(aiokili.Label, again)
    other = build_selection(aiokili.Label, ("id",))
    assert page_model(aiokili.Label, first) is not page_model(aiokili.Label, other)
