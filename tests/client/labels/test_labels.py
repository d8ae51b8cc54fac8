"""Labels end to end against the local server: append, list, filters, bulk failures."""

from __future__ import annotations

import pytest
from support import answer, import_images, new_project

import aiokili

pytestmark = pytest.mark.anyio


async def test_append_and_list_labels(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 50)
    by_id = await kili.append_labels(
        asset_id_array=ids[:30],
        json_response_array=[answer("A")] * 30,
        seconds_to_label_array=[3] * 30,
        project_id=project_id,
    )
    by_external = await kili.append_labels(
        asset_external_id_array=[f"img-{i:04d}" for i in range(30, 50)],
        json_response_array=[answer("B")] * 20,
        project_id=project_id,
        label_type="REVIEW",
    )
    assert len(by_id) == 30 and len(by_external) == 20

    labels = await kili.labels(project_id)
    assert [label.id for label in labels] == by_id + by_external
    first = labels[0]
    assert isinstance(first, aiokili.Label)
    assert first.json_response == answer("A")
    assert first.author is not None and "@" in first.author.email
    assert first.seconds_to_label == 3
    assert first.label_type == aiokili.LabelType.DEFAULT
    assert labels[30].asset_id == ids[30]

    assert await kili.count_labels(project_id, type_in=["REVIEW"]) == 20
    assert await kili.count_labels(project_id, type_in=[aiokili.LabelType.REVIEW]) == 20
    assert await kili.count_labels(project_id, asset_external_id_strictly_in=["img-0031"]) == 1
    assert await kili.count_labels(project_id, category_search="JOB.B.count > 0") == 20
    labelled = await kili.assets(project_id, status_in=["LABELED", "REVIEWED"])
    assert len(labelled) == 50


async def test_fields_selection(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 3)
    labels = await kili.labels(project_id, fields=["labelOf.externalId", "author.email"])
    assert [label.label_of.external_id for label in labels if label.label_of] == [
        "img-0000",
        "img-0001",
        "img-0002",
    ]
    assert labels[0].id  # ids are always selected
    with pytest.raises(AttributeError, match="add 'jsonResponse' to fields="):
        _ = labels[0].json_response  # not selected: not there (never a {} that looks empty)
    assert labels[0].author is not None and "firstname" not in labels[0].author.model_fields_set

    with pytest.raises(aiokili.KiliInputError, match="jsonRespons"):
        kili.labels(project_id, fields=["jsonRespons"])
    with pytest.raises(aiokili.KiliInputError, match="list of field names"):
        kili.labels(project_id, fields="id")


async def test_bulk_partial_failure_reports_each_item(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 150)
    bad = [*ids[:120], "no-such-asset", *ids[121:]]
    with pytest.raises(aiokili.BulkOperationError) as info:
        await kili.append_labels(asset_id_array=bad, json_response_array=[answer("A")] * 150)
    err = info.value
    assert len(err.succeeded) == 100  # the first chunk of 100 went through
    assert [f.index for f in err.failures] == list(range(100, 150))
    assert err.failures[20].key == "no-such-asset"
    assert await kili.count_labels(project_id) == 100  # nothing of the failed chunk written


async def test_bad_label_input_writes_nothing(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    with pytest.raises(aiokili.KiliInputError, match="json_response_array has 1"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")])
    with pytest.raises(aiokili.KiliInputError, match="empty"):
        await kili.append_labels(asset_id_array=ids)
    with pytest.raises(aiokili.KiliInputError, match="not found"):
        await kili.append_labels(
            asset_external_id_array=["img-0000", "nope"],
            json_response_array=[answer("A")] * 2,
            project_id=project_id,
        )
    with pytest.raises(aiokili.KiliInputError, match=r"json_response_array\[0\] must be dict"):
        await kili.append_labels(
            asset_id_array=ids[:1],
            json_response_array=['{"JOB": {}}'],  # type: ignore[list-item]
        )
    with pytest.raises(aiokili.KiliInputError, match="asset_id_array must be a list"):
        await kili.append_labels(asset_id_array=ids[0], json_response_array=[answer("A")])
    with pytest.raises(aiokili.KiliInputError, match=r"type_in\[0\]"):
        kili.labels(project_id, type_in=["DONE"])  # type: ignore[list-item]
    with pytest.raises(aiokili.KiliInputError, match="type_in"):
        kili.labels(project_id, type_in="DEFAULT")  # type: ignore[typeddict-item]
    assert await kili.count_labels(project_id) == 0
