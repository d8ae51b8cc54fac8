"""``fields=`` pages parsed straight from the bytes give exactly what the dict path gives."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from support import answer, import_images, new_project

import aiokili
from aiokili._listing import SelectionParser
from aiokili._selection import build_selection, parse_items, with_selection
from aiokili.assets import ASSETS
from aiokili.labels import LABELS

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


def same(a: Any, b: Any) -> None:
    """Equal values, types and fields-set, all the way down."""
    assert type(a) is type(b)
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    elif isinstance(a, BaseModel):
        assert a == b
        assert a.model_fields_set == b.model_fields_set
        assert a.__pydantic_extra__ == b.__pydantic_extra__
        assert list(a.__dict__) == list(b.__dict__)
        for name in type(a).model_fields:
            same(getattr(a, name), getattr(b, name))
    else:
        assert a == b


async def test_fast_parse_matches_the_dict_path(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 5)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 5)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("B")] * 2)
    for spec, fields in SELECTIONS:
        selection = build_selection(spec.model, fields)
        document = with_selection(spec.page_document, spec.fragment, selection.text)
        variables = {"where": {"project": {"id": project_id}}, "first": 10, "skip": 0}
        response = await kili.graphql.execute(document, spec.page_operation, variables)
        parser = SelectionParser.create(spec.model, selection)
        assert parser is not None
        fast = parser.parse(response)
        slow = parse_items(spec.model, json.loads(response.content)["data"]["data"], selection)
        assert fast is not None and len(fast) > 0, fields
        same(fast, slow)
        # the dict path marks every field as set; so does the fast path
        assert fast[0].model_fields_set == set(spec.model.model_fields)


def test_anything_but_a_clean_answer_takes_the_slow_path() -> None:
    selection = build_selection(aiokili.Label, ("id", "author.email"))
    parser = SelectionParser.create(aiokili.Label, selection)
    assert parser is not None
    good = {"data": {"data": [{"id": "l1", "author": {"id": "u", "email": "e@x"}}]}}
    assert parser.parse(httpx.Response(200, json=good)) is not None
    for status, body in [
        (200, {"data": None, "errors": [{"message": "boom"}]}),
        (200, {"data": {"data": [{"id": "l1"}]}, "errors": [{"message": "partial"}]}),
        (200, {"data": None}),
        (200, {"data": {"data": [{"author": {"id": "u"}}]}}),  # id missing
        (200, {"data": {"data": "not a list"}}),
        (500, good),
    ]:
        assert parser.parse(httpx.Response(status, json=body)) is None, body
    assert parser.parse(httpx.Response(200, content=b"not json")) is None


def test_parsers_are_cached_per_selection() -> None:
    first = build_selection(aiokili.Label, ("id", "jsonResponse"))
    again = build_selection(aiokili.Label, ("jsonResponse", "id"))
    parser = SelectionParser.create(aiokili.Label, first)
    assert parser is SelectionParser.create(aiokili.Label, first)
    assert (parser is SelectionParser.create(aiokili.Label, again)) == (first.text == again.text)
