"""labels(output_format="parsed_label"): each job type of the seeds' interfaces, typed."""

from __future__ import annotations

from typing import Any

import pytest
from support import import_images

import aiokili
from aiokili._core.parsed_label import Point, parse_label

pytestmark = pytest.mark.anyio


def classification(input_: str, *names: str, children: dict[str, list[str]] | None = None) -> Any:
    cats = {n: {"name": f"{n.title()} label", "children": (children or {}).get(n, [])}
            for n in names}  # fmt: skip
    return {"mlTask": "CLASSIFICATION", "content": {"input": input_, "categories": cats},
            "required": 0, "isChild": False}  # fmt: skip


def objects(*tools: str, names: tuple[str, ...] = ("CAR", "TREE")) -> Any:
    return {"mlTask": "OBJECT_DETECTION", "tools": list(tools), "isChild": False,
            "content": {"input": "radio", "categories": {n: {"name": n} for n in names}}}  # fmt: skip


INTERFACE: dict[str, Any] = {"jobs": {
    "SINGLE": classification("radio", "YES", "NO", children={"YES": ["WHY"]}),
    "WHY": {**classification("checkbox", "PRICE", "SPEED"), "isChild": True},
    "MULTI": classification("checkbox", "RED", "GREEN", "BLUE"),
    "TRANSCRIPTION": {"mlTask": "TRANSCRIPTION", "content": {"input": "textField"},
                      "isChild": False},
    "BBOX": objects("rectangle"),
    "POLYGON": objects("polygon"),
    "POINT": objects("marker"),
    "LINE": objects("polyline"),
    "SEMANTIC": objects("semantic"),
    "NER": {"mlTask": "NAMED_ENTITIES_RECOGNITION", "isChild": False, "content": {
        "input": "radio", "categories": {"PERSON": {"name": "Person", "children": ["ROLE"]},
                                         "CITY": {"name": "City"}}}},
    "ROLE": {"mlTask": "TRANSCRIPTION", "content": {"input": "textField"}, "isChild": True},
    "RELATIONS": {"mlTask": "NAMED_ENTITIES_RELATION", "isChild": False, "content": {
        "input": "radio", "categories": {"LIVES_IN": {"name": "Lives in",
                                                      "startEntities": ["PERSON"],
                                                      "endEntities": ["CITY"]}}}},
}}  # fmt: skip

SQUARE = [{"x": 0.1, "y": 0.1}, {"x": 0.1, "y": 0.4}, {"x": 0.4, "y": 0.4}, {"x": 0.4, "y": 0.1}]
RESPONSE: dict[str, Any] = {
    "SINGLE": {"categories": [{"name": "YES", "confidence": 80,
                               "children": {"WHY": {"categories": [{"name": "PRICE"},
                                                                   {"name": "SPEED"}]}}}]},
    "MULTI": {"categories": [{"name": "RED"}, {"name": "BLUE"}]},
    "TRANSCRIPTION": {"text": "hello world"},
    "BBOX": {"annotations": [{"mid": "b1", "type": "rectangle", "categories": [{"name": "CAR"}],
                              "boundingPoly": [{"normalizedVertices": SQUARE}]}]},
    "POLYGON": {"annotations": [{"mid": "p1", "type": "polygon", "categories": [{"name": "TREE"}],
                                 "boundingPoly": [{"normalizedVertices": SQUARE[:3]}]}]},
    "POINT": {"annotations": [{"mid": "m1", "type": "marker", "categories": [{"name": "CAR"}],
                               "point": {"x": 0.5, "y": 0.25}}]},
    "LINE": {"annotations": [{"mid": "l1", "type": "polyline", "categories": [{"name": "TREE"}],
                              "polyline": SQUARE[:2]}]},
    "SEMANTIC": {"annotations": [{"mid": "s1", "type": "semantic",
                                  "categories": [{"name": "CAR"}],
                                  "boundingPoly": [{"normalizedVertices": SQUARE},
                                                   {"normalizedVertices": SQUARE[1:]}]}]},
    "NER": {"annotations": [
        {"mid": "e1", "categories": [{"name": "PERSON"}], "beginOffset": 0, "content": "Ada",
         "children": {"ROLE": {"text": "engineer"}}},
        {"mid": "e2", "categories": [{"name": "CITY"}], "beginOffset": 12, "endOffset": 17,
         "content": "Paris"}]},
    "RELATIONS": {"annotations": [{"mid": "r1", "categories": [{"name": "LIVES_IN"}],
                                   "startEntities": [{"mid": "e1"}],
                                   "endEntities": [{"mid": "e2"}]}]},
}  # fmt: skip


async def test_every_job_type_parses_typed(kili: aiokili.AsyncKili) -> None:
    project = await kili.create_project(
        title="parsed", input_type="IMAGE", json_interface=INTERFACE
    )
    ids = await import_images(kili, project.id, 2)
    await kili.append_labels(asset_id_array=ids, json_response_array=[RESPONSE, {}])
    labels = await kili.labels(project.id, output_format="parsed_label")
    assert len(labels) == 2
    label = labels[0]
    assert isinstance(label, aiokili.ParsedLabel) and isinstance(label, aiokili.Label)
    assert label.json_response == RESPONSE and label.asset_id == ids[0]
    jobs = label.jobs
    assert set(jobs) == set(INTERFACE["jobs"]) - {"WHY", "ROLE"}  # child jobs live under parents

    single = jobs["SINGLE"].category
    assert (single.name, single.display_name, single.confidence) == ("YES", "Yes label", 80.0)
    assert [c.name for c in single.children["WHY"].categories] == ["PRICE", "SPEED"]
    assert jobs["SINGLE"].ml_task == "CLASSIFICATION"
    assert [c.name for c in jobs["MULTI"].categories] == ["RED", "BLUE"]
    with pytest.raises(aiokili.LabelParsingError, match="categories"):
        jobs["MULTI"].category  # noqa: B018
    assert jobs["TRANSCRIPTION"].text == "hello world"

    box = jobs["BBOX"].annotations[0]
    assert (box.type, box.category.name, box.mid) == ("rectangle", "CAR", "b1")
    assert box.bounding_poly[0].normalized_vertices[2] == Point(0.4, 0.4)
    assert len(jobs["POLYGON"].annotations[0].bounding_poly[0].normalized_vertices) == 3
    assert jobs["POINT"].annotations[0].point == Point(0.5, 0.25)
    assert jobs["LINE"].annotations[0].polyline == [Point(0.1, 0.1), Point(0.1, 0.4)]
    semantic = jobs["SEMANTIC"].annotations[0]
    assert [len(p.normalized_vertices) for p in semantic.bounding_poly] == [4, 3]

    person, city = jobs["NER"].annotations
    assert (person.content, person.begin_offset, person.end_offset) == ("Ada", 0, 3)
    assert (city.category.display_name, city.end_offset) == ("City", 17)
    assert person.children["ROLE"].text == "engineer"
    relation = jobs["RELATIONS"].annotation("r1")
    assert (relation.start_entities, relation.end_entities) == (["e1"], ["e2"])
    assert jobs["NER"].annotation(relation.end_entities[0]).content == "Paris"

    empty = labels[1].jobs
    assert empty["MULTI"].categories == [] and empty["TRANSCRIPTION"].text is None
    assert empty["BBOX"].annotations == []
    with pytest.raises(KeyError, match="SINGLE"):
        empty["NOPE"]

    some = await kili.labels(project.id, output_format="parsed_label", fields=["jsonResponse"],
                             first=1)  # fmt: skip
    assert some[0].jobs["POINT"].annotations[0].point == Point(0.5, 0.25)
    with pytest.raises(AttributeError, match="author was not fetched: add 'author' to fields="):
        _ = some[0].author  # not selected: not there, as on the labels it is parsed from
    async for streamed in kili.labels(project.id, output_format="parsed_label", as_generator=True):
        assert streamed.jobs["SINGLE"] is not None


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"UNKNOWN": {}}, "'UNKNOWN' is not in the project's json interface"),
        ({"MULTI": {"categories": [{"name": "PINK"}]}}, "no category 'PINK'"),
        ({"SINGLE": {"categories": [{"name": "YES"}, {"name": "NO"}]}}, "single-choice"),
        ({"BBOX": {"annotations": [{"type": "polygon", "categories": [{"name": "CAR"}]}]}},
         "tools are rectangle"),
        ({"MULTI": {"categories": "RED"}}, "categories must be a list"),
    ],
)  # fmt: skip
def test_labels_that_do_not_match_the_interface(response: Any, message: str) -> None:
    label = aiokili.Label.model_validate({
        "id": "L1", "assetId": "A1", "labelType": "DEFAULT", "jsonResponse": response,
        "modelName": None, "secondsToLabel": None, "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z", "isLatestLabelForUser": True,
        "isLastForStep": None, "isSentBackToQueue": False,
        "consensusMark": None, "honeypotMark": None, "inferenceMark": None, "author": None,
        "labelOf": None})  # fmt: skip
    with pytest.raises(aiokili.LabelParsingError, match=message) as raised:
        parse_label(label, INTERFACE)
    assert "'L1'" in str(raised.value)


async def test_parsed_label_of_an_unknown_project(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(aiokili.NotFoundError, match="no-such-project"):
        await kili.labels("no-such-project", output_format="parsed_label")
