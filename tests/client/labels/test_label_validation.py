"""Labels checked against their project's json interface, as the platform does: aiokili
refuses a malformed label before any write (MalformedLabelError naming the item, the job,
the culprit and what the interface accepts), and the server refuses it too
(``[jsonResponseMalformed]``), writing nothing of the call. The corpus
(tests/data/label_corpus.json) is shared with the official SDK's test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import import_images

import aiokili

pytestmark = pytest.mark.anyio

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "data" / "label_corpus.json").read_text()
)
MALFORMED = CORPUS["malformed"]
APPEND = (
    "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
    "{ data: appendManyLabels(data: $d, where: $w) { id } }"
)


async def corpus_project(kili: aiokili.AsyncKili, n: int = 3) -> tuple[str, list[str]]:
    project = await kili.create_project(
        title="validated", input_type="IMAGE", json_interface=CORPUS["interface"]
    )
    return project.id, await import_images(kili, project.id, n)


async def test_a_valid_label_of_every_job_type_is_accepted_and_parses(
    kili: aiokili.AsyncKili,
) -> None:
    project_id, assets = await corpus_project(kili, 2)
    await kili.append_labels(asset_id_array=assets, json_response_array=CORPUS["valid"])
    labels = await kili.labels(project_id, output_format="parsed_label")
    jobs = labels[0].jobs
    assert jobs["POSE"].annotations[0].type == "pose"
    assert jobs["LINKS"].annotations[0].start_entities == ["b1"]
    assert jobs["VECTOR"].annotations[0].polyline[1].y == 0.4
    assert "ROTATION_JOB" not in jobs  # written by the labeling interface: no job
    assert labels[1].jobs["SINGLE"].categories == []


@pytest.mark.parametrize("case", MALFORMED, ids=[c["case"] for c in MALFORMED])
async def test_append_labels_refuses_a_malformed_label_before_writing(
    kili: aiokili.AsyncKili, case: dict[str, Any]
) -> None:
    project_id, assets = await corpus_project(kili)
    good = CORPUS["valid"][0]
    with pytest.raises(aiokili.MalformedLabelError) as refused:
        await kili.append_labels(
            asset_id_array=assets, json_response_array=[good, case["response"], good]
        )
    error = refused.value
    assert (error.index, error.job, error.name) == (1, case["job"], case["name"])
    message = str(error)
    assert message.startswith("append_labels(): json_response_array[1]: ")
    assert message.endswith("Nothing was written.")
    if case["name"] is not None:
        assert repr(case["name"]) in message
    assert await kili.count_labels(project_id) == 0  # not even the good ones


async def test_the_error_names_what_the_interface_accepts(kili: aiokili.AsyncKili) -> None:
    project_id, assets = await corpus_project(kili, 1)
    bad = {"BBOX": {"annotations": [{"type": "polygon", "categories": [{"name": "CAR"}]}]}}
    with pytest.raises(aiokili.MalformedLabelError) as refused:
        await kili.create_predictions(
            project_id, asset_id_array=assets, json_response_array=[bad], model_name="m"
        )
    assert refused.value.accepted == ("rectangle",)
    assert refused.value.path == "BBOX.annotations[0].type"
    assert str(refused.value) == (
        "create_predictions(): json_response_array[0]: job 'BBOX': annotations[0] is a "
        "'polygon'; the job's tools are rectangle. Nothing was written."
    )
    with pytest.raises(aiokili.MalformedLabelError) as unknown:
        await kili.append_labels(
            asset_external_id_array=["img-0000"], project_id=project_id,
            json_response_array=[{"NOPE": {}}],
        )  # fmt: skip
    assert unknown.value.accepted == tuple(CORPUS["interface"]["jobs"])
    assert isinstance(unknown.value, aiokili.KiliInputError)
    assert await kili.count_labels(project_id) == 0


async def test_single_label_calls_are_checked_too(kili: aiokili.AsyncKili) -> None:
    project_id, assets = await corpus_project(kili, 2)
    bad = {"MULTI": {"categories": [{"name": "PINK"}]}}
    with pytest.raises(aiokili.MalformedLabelError, match=r"^create_honeypot\(\): json_response"):
        await kili.create_honeypot(bad, asset_id=assets[0])
    with pytest.warns(DeprecationWarning), pytest.raises(aiokili.MalformedLabelError):
        await kili.append_to_labels(bad, label_asset_id=assets[0])
    (label_id,) = await kili.append_labels(
        asset_id_array=assets[:1], json_response_array=[CORPUS["valid"][0]]
    )
    with pytest.raises(aiokili.MalformedLabelError, match="no category 'PINK'"):
        await kili.update_properties_in_label(label_id, json_response=bad)
    (label,) = await kili.labels(project_id)
    assert label.json_response == CORPUS["valid"][0]  # unchanged
    assert [a.is_honeypot for a in await kili.assets(project_id, fields=["isHoneypot"])] == [
        False,
        False,
    ]


async def test_assets_of_two_projects_are_each_checked_against_their_own(
    kili: aiokili.AsyncKili,
) -> None:
    _, corpus_assets = await corpus_project(kili, 1)
    other = await kili.create_project(
        title="other", input_type="IMAGE",
        json_interface={"jobs": {"NOTE": {"mlTask": "TRANSCRIPTION",
                                          "content": {"input": "textField"}}}},
    )  # fmt: skip
    other_assets = await import_images(kili, other.id, 1)
    ids = await kili.append_labels(
        asset_id_array=[*corpus_assets, *other_assets],
        json_response_array=[CORPUS["valid"][0], {"NOTE": {"text": "fine"}}],
    )
    assert len(ids) == 2
    with pytest.raises(aiokili.MalformedLabelError) as refused:
        await kili.append_labels(
            asset_id_array=[*corpus_assets, *other_assets],
            json_response_array=[CORPUS["valid"][0], {"MULTI": {"categories": []}}],
        )
    assert (refused.value.index, refused.value.name) == (1, "MULTI")  # other has no MULTI


async def test_the_server_refuses_malformed_labels_and_writes_nothing(
    kili: aiokili.AsyncKili,
) -> None:
    """Past the client's check (another client, a raw request): the server's own."""
    project_id, assets = await corpus_project(kili, 2)
    items = [
        {"assetID": assets[0], "jsonResponse": json.dumps(CORPUS["valid"][0])},
        {"assetID": assets[1], "jsonResponse": json.dumps({"MULTI": {"text": "red"}})},
    ]
    with pytest.raises(aiokili.InvalidRequestError) as refused:
        await kili.execute(APPEND, {"d": {"labelType": "DEFAULT", "labelsData": items},
                                    "w": {"idIn": assets}})  # fmt: skip
    assert str(refused.value).startswith(
        "execute(): [jsonResponseMalformed] labelsData[1].jsonResponse: job 'MULTI' is a "
        "CLASSIFICATION job: it is answered with categories, not text. Nothing was written."
    )
    assert refused.value.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert await kili.count_labels(project_id) == 0
    assert {a.status.value for a in await kili.assets(project_id)} == {"TODO"}

    bad = json.dumps({"UNKNOWN": {}})
    writes = [
        ("mutation($w: AssetWhere!, $d: AppendToLabelsData!) "
         "{ appendToLabels(where: $w, data: $d) { id } }",
         {"w": {"id": assets[0]}, "d": {"jsonResponse": bad, "labelType": "DEFAULT",
                                        "authorID": "x"}}),
        ("mutation($w: AssetWhere!, $d: CreateHoneypotData!) "
         "{ createHoneypot(where: $w, data: $d) { id } }",
         {"w": {"id": assets[0]}, "d": {"jsonResponse": bad}}),
    ]  # fmt: skip
    for document, variables in writes:
        with pytest.raises(aiokili.InvalidRequestError, match=r"\[jsonResponseMalformed\] data"):
            await kili.execute(document, variables)
    assert await kili.count_labels(project_id) == 0

    (label_id,) = await kili.append_labels(
        asset_id_array=assets[:1], json_response_array=[CORPUS["valid"][1]]
    )
    update = ("mutation($w: LabelWhere!, $d: LabelData!) "
              "{ updatePropertiesInLabel(where: $w, data: $d) { id } }")  # fmt: skip
    with pytest.raises(aiokili.InvalidRequestError, match=r"jsonResponseMalformed.*'UNKNOWN'"):
        await kili.execute(update, {"w": {"id": label_id}, "d": {"jsonResponse": bad}})
    (label,) = await kili.labels(project_id)
    assert label.json_response == {}


async def test_video_labels_are_checked_frame_by_frame_and_parse_by_frame(
    kili: aiokili.AsyncKili,
) -> None:
    interface = {"jobs": {k: CORPUS["interface"]["jobs"][k] for k in ("SINGLE", "WHY", "BBOX")}}
    project = await kili.create_project(title="video", input_type="VIDEO", json_interface=interface)
    assets = await import_images(kili, project.id, 2)
    box = CORPUS["valid"][0]["BBOX"]
    frames = {"0": {"BBOX": box}, "1": {}, "2": {"BBOX": box},
              "assetLevel": {"SINGLE": {"categories": [{"name": "NO"}]}}}  # fmt: skip
    await kili.append_labels(asset_id_array=assets[:1], json_response_array=[frames])
    with pytest.raises(aiokili.MalformedLabelError) as refused:
        await kili.append_labels(
            asset_id_array=assets[1:], json_response_array=[{"0": {}, "1": {"MULTI": {}}}]
        )
    assert refused.value.path == "1.MULTI"
    (label,) = await kili.labels(project.id, output_format="parsed_label")
    assert [len(f["BBOX"].annotations) for f in label.frames] == [1, 0, 1]
    assert label.jobs["SINGLE"].category.name == "NO"


async def test_a_listing_skips_labels_that_no_longer_parse_and_says_which(
    kili: aiokili.AsyncKili,
) -> None:
    """Labels written before the interface changed: raise (default) or skip and report."""
    interface = {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "required": 1, "content": {
        "input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}}}}  # fmt: skip
    project = await kili.create_project(title="drift", input_type="IMAGE", json_interface=interface)
    assets = await import_images(kili, project.id, 3)
    answers = [{"JOB": {"categories": [{"name": n}]}} for n in "ABA"]
    ids = await kili.append_labels(asset_id_array=assets, json_response_array=answers)
    del interface["jobs"]["JOB"]["content"]["categories"]["A"]
    await kili.update_properties_in_project(project.id, json_interface=interface)

    with pytest.raises(aiokili.LabelParsingError, match=f"label '{ids[0]}': job 'JOB' has no"):
        await kili.labels(project.id, output_format="parsed_label")
    listing = kili.labels(project.id, output_format="parsed_label", on_unparsable="skip")
    kept = await listing
    assert [label.id for label in kept] == [ids[1]]
    assert [s.id for s in listing.skipped] == [ids[0], ids[2]]
    first = listing.skipped[0].error
    assert (first.label_id, first.job, first.name, first.accepted) == (ids[0], "JOB", "A", ("B",))
    assert listing.skipped == [s for s in listing.skipped]
    paged = kili.labels(project.id, output_format="parsed_label", on_unparsable="skip")
    assert [[lb.id for lb in page] async for page in paged.pages()] == [[ids[1]]]
    assert len(paged.skipped) == 2


async def test_on_unparsable_is_checked(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(aiokili.KiliInputError, match='on_unparsable must be "raise" or "skip"'):
        kili.labels("p", output_format="parsed_label", on_unparsable="ignore")  # type: ignore[call-overload]
    with pytest.raises(aiokili.KiliInputError, match='is for output_format="parsed_label"'):
        kili.labels("p", on_unparsable="skip")  # type: ignore[call-overload]
