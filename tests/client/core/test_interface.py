"""The json interface as typed models: built in code or read from a project, written back
as the platform stores it, and refused (InvalidInterfaceError, before any request; the
server too) when the platform would refuse it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import aiokili
from aiokili import Interface, Job, JobCategory, JobContent

pytestmark = pytest.mark.anyio

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "data" / "label_corpus.json").read_text()
)


def pets() -> Interface:
    return Interface(jobs={
        "CLASS": Job(ml_task="CLASSIFICATION", required=1, instruction="Which pet?",
                     content=JobContent(input="radio", categories={
                         "CAT": JobCategory(name="Cat", children=["COLOR"]),
                         "DOG": JobCategory(name="Dog", color="#00ff00")})),
        "COLOR": Job(ml_task="TRANSCRIPTION", is_child=True,
                     content=JobContent(input="textField")),
        "BOX": Job(ml_task="OBJECT_DETECTION", tools=["rectangle", "polygon"],
                   content=JobContent(input="radio",
                                      categories={"CAR": JobCategory(name="Car")})),
    })  # fmt: skip


def test_a_built_interface_is_the_dict_the_platform_stores() -> None:
    stored = pets().to_json()
    assert stored["jobs"]["CLASS"] == {
        "mlTask": "CLASSIFICATION", "required": 1, "instruction": "Which pet?",
        "isChild": False, "tools": [],
        "content": {"input": "radio", "categories": {
            "CAT": {"name": "Cat", "children": ["COLOR"]},
            "DOG": {"name": "Dog", "children": [], "color": "#00ff00"}}},
    }  # fmt: skip
    assert stored["jobs"]["BOX"]["tools"] == ["rectangle", "polygon"]
    assert pets().top_level_jobs == ["CLASS", "BOX"]
    assert Interface.from_json(json.dumps(stored)) == pets()


def test_the_wire_names_and_unknown_keys_are_kept() -> None:
    interface = Interface.from_json(CORPUS["interface"])
    relations = interface.jobs["RELATIONS"].categories["LIVES_IN"]
    assert (relations.start_entities, relations.end_entities) == (["PERSON"], ["CITY"])
    assert interface.to_json()["jobs"]["POSE"]["content"]["categories"]["FACE"]["points"] == [
        {"code": "NOSE", "name": "Nose"}
    ]  # a key the models do not declare, kept as given
    assert interface.jobs["WHY"].is_child and interface.jobs["SINGLE"].ml_task == "CLASSIFICATION"


@pytest.mark.parametrize(
    ("interface", "problem"),
    [
        ({"jobs": {"J": {"mlTask": "CLASIFICATION"}}}, "jobs.J.mlTask: Input should be"),
        ({"jobs": {"J": {"mlTask": "OBJECT_DETECTION", "tools": ["box"],
                         "content": {"input": "radio", "categories": {"A": {}}}}}},
         "jobs.J.tools.0: Input should be 'rectangle'"),
        ({"jobs": {"J": {"mlTask": "OBJECT_DETECTION",
                         "content": {"input": "radio", "categories": {"A": {}}}}}},
         "jobs.J.tools: an OBJECT_DETECTION job needs at least one tool"),
        ({"jobs": {"J": {"mlTask": "CLASSIFICATION",
                         "content": {"input": "textField", "categories": {"A": {}}}}}},
         "jobs.J.content.input: a CLASSIFICATION job is answered with categories"),
        ({"jobs": {"J": {"mlTask": "TRANSCRIPTION", "content": {"input": "radio"}}}},
         "jobs.J.content.input: a TRANSCRIPTION job is answered with text"),
        ({"jobs": {"J": {"mlTask": "CLASSIFICATION", "content": {"input": "radio",
                         "categories": {"A": {"children": ["NOPE"]}}}}}},
         "jobs.J.content.categories.A.children: no job 'NOPE' in the interface"),
        ({"jobs": {"J": {"mlTask": "CLASSIFICATION", "content": {"input": "radio"}}}},
         "a CLASSIFICATION job needs at least one category"),
        ({"jobs": []}, "jobs: Input should be a valid dictionary"),
        ([], "must be an object like {'jobs': {...}}, got list"),
    ],
)  # fmt: skip
def test_what_the_platform_would_refuse_is_named(interface: Any, problem: str) -> None:
    with pytest.raises(aiokili.InvalidInterfaceError, match=r"problem|must be an object") as raised:
        Interface.from_json(interface)
    assert problem in str(raised.value)
    assert isinstance(raised.value, aiokili.KiliInputError)


def test_an_interface_read_from_the_api_keeps_values_newer_than_this_version() -> None:
    stored = {"jobs": {"J": {"mlTask": "HOLOGRAM", "tools": ["laser"], "content": {}}}}
    read = Interface.read(stored)
    assert read.jobs["J"].ml_task == "HOLOGRAM" and read.jobs["J"].tools == ["laser"]
    with pytest.raises(aiokili.InvalidInterfaceError):
        Interface.from_json(stored)  # but not written so


async def test_create_get_and_update_a_typed_interface(kili: aiokili.AsyncKili) -> None:
    project = await kili.create_project(title="pets", input_type="IMAGE", json_interface=pets())
    assert project.json_interface == pets().to_json()
    interface = await kili.get_interface(project.id)
    assert interface == pets()
    interface.jobs["CLASS"].content.categories["BIRD"] = JobCategory(name="Bird")
    interface.jobs["BOX"].tools.append("marker")
    updated = await kili.update_properties_in_project(project.id, json_interface=interface)
    assert list(updated.json_interface["jobs"]["CLASS"]["content"]["categories"]) == [
        "CAT", "DOG", "BIRD"]  # fmt: skip
    assert (await kili.get_interface(project.id)).jobs["BOX"].tools == [
        "rectangle", "polygon", "marker"]  # fmt: skip
    with pytest.raises(aiokili.NotFoundError, match="nope"):
        await kili.get_interface("nope")


async def test_an_interface_the_platform_would_refuse_is_refused_before_any_request(
    kili: aiokili.AsyncKili,
) -> None:
    before = await kili.count_projects()
    bad = {"jobs": {"J": {"mlTask": "OBJECT_DETECTION", "content": {"input": "radio"}}}}
    with pytest.raises(aiokili.InvalidInterfaceError) as refused:
        await kili.create_project(title="bad", input_type="IMAGE", json_interface=bad)
    assert str(refused.value) == (
        "json_interface: The json interface has 1 problem(s) the platform would refuse:\n"
        "  jobs.J.tools: an OBJECT_DETECTION job needs at least one tool (e.g. ['rectangle'])."
    )
    assert refused.value.problems == [
        "jobs.J.tools: an OBJECT_DETECTION job needs at least one tool (e.g. ['rectangle'])."
    ]
    assert await kili.count_projects() == before
    project = await kili.create_project(title="ok", input_type="IMAGE", json_interface=pets())
    with pytest.raises(aiokili.InvalidInterfaceError, match="no job 'GONE'"):
        await kili.update_properties_in_project(project.id, json_interface={"jobs": {
            "J": {"mlTask": "CLASSIFICATION", "content": {"input": "radio", "categories": {
                "A": {"children": ["GONE"]}}}}}})  # fmt: skip
    assert await kili.get_interface(project.id) == pets()


async def test_the_server_refuses_such_an_interface_too(kili: aiokili.AsyncKili) -> None:
    create = "mutation($d: CreateProjectData!) { createProject(data: $d) { id } }"
    bad = json.dumps({"jobs": {"J": {"mlTask": "TRANSCRIPTION", "content": {"input": "radio"}}}})
    with pytest.raises(aiokili.InvalidRequestError) as refused:
        await kili.execute(create, {"d": {"title": "x", "inputType": "TEXT", "jsonInterface": bad}})
    assert "data.jsonInterface: The json interface has 1 problem(s)" in str(refused.value)
    assert "jobs.J.content.input: a TRANSCRIPTION job is answered with text" in str(refused.value)
