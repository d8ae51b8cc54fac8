"""The facade end to end against the real local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio

INTERFACE = {
    "jobs": {
        "JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}},
            "required": 1,
            "isChild": False,
        }
    }
}


def answer(category: str) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": category}]}}


@pytest.fixture
async def kili(local_server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=20, prefetch=3
    ) as client:
        yield client


async def new_project(kili: aiokili.AsyncKili, input_type: str = "IMAGE") -> str:
    project = await kili.create_project(
        title=f"test {input_type}", input_type=input_type, json_interface=INTERFACE
    )
    return project.id


async def import_images(kili: aiokili.AsyncKili, project_id: str, n: int) -> list[str]:
    result = await kili.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.example/{i}.jpg" for i in range(n)],
        external_id_array=[f"img-{i:04d}" for i in range(n)],
        json_metadata_array=[{"split": "train" if i % 2 else "test", "n": i} for i in range(n)],
    )
    return result["asset_ids"]


async def test_verify_and_wrong_key(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    user = await kili.verify()
    assert "@" in user.email
    async with aiokili.AsyncKili(api_key="wrong", api_endpoint=local_server.url) as bad:
        with pytest.raises(aiokili.AuthenticationError) as info:
            await bad.verify()
    assert "wrong" not in str(info.value)


async def test_project_lifecycle(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    project = [p async for p in kili.projects(project_id=project_id)][0]
    assert project.title == "test IMAGE"
    assert project.input_type == aiokili.InputType.IMAGE
    assert project.json_interface == INTERFACE  # decoded from JSON text
    assert await kili.count_projects(project_id=project_id) == 1

    updated = await kili.update_properties_in_project(
        project_id, title="renamed", description="d", review_coverage=50
    )
    assert (updated.title, updated.description, updated.review_coverage) == ("renamed", "d", 50)
    assert await kili.count_projects(search_query="renamed%") >= 1

    await kili.delete_project(project_id)
    assert await kili.count_projects(project_id=project_id) == 0


async def test_import_and_list_assets(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 45)
    assert len(ids) == 45

    assets = [a async for a in kili.assets(project_id)]
    assert [a.id for a in assets] == ids  # oldest first, client-side ids kept
    first = assets[0]
    assert first.external_id == "img-0000"
    assert first.content == "https://images.example/0.jpg"
    assert first.json_metadata == {"split": "test", "n": 0}
    assert first.status == aiokili.Status.TODO

    assert await kili.count_assets(project_id) == 45
    train = [a async for a in kili.assets(project_id, metadata_where={"split": "train"})]
    assert len(train) == await kili.count_assets(project_id, metadata_where={"split": "train"})
    assert len(train) == 22
    some = kili.assets(project_id, external_id_strictly_in=["img-0003", "img-0007"])
    assert sorted([a.external_id async for a in some]) == ["img-0003", "img-0007"]
    page = [a.id async for a in kili.assets(project_id, skip=10, first=25)]
    assert page == ids[10:35]


async def test_import_is_resumable_by_external_id(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    await import_images(kili, project_id, 30)
    again = await kili.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.example/{i}.jpg" for i in range(35)],
        external_id_array=[f"img-{i:04d}" for i in range(35)],
    )
    assert len(again["asset_ids"]) == 5
    assert len(again["skipped_external_ids"]) == 30
    assert await kili.count_assets(project_id) == 35


async def test_local_file_and_raw_text_are_uploaded(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake image bytes")
    project_id = await new_project(kili)
    result = await kili.append_many_to_dataset(project_id, content_array=[str(image)])
    asset = [a async for a in kili.assets(project_id, asset_id=result["asset_ids"][0])][0]
    assert asset.content is not None and asset.content.startswith("http")
    async with httpx.AsyncClient() as http:
        got = await http.get(
            asset.content, headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
        )
    assert got.content == image.read_bytes()

    text_project = await new_project(kili, "TEXT")
    result = await kili.append_many_to_dataset(text_project, content_array=["hello raw text"])
    asset = [a async for a in kili.assets(text_project)][0]
    assert asset.content is not None
    async with httpx.AsyncClient() as http:
        got = await http.get(
            asset.content, headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
        )
    assert got.text == "hello raw text"


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

    labels = [label async for label in kili.labels(project_id)]
    assert [label.id for label in labels] == by_id + by_external
    first = labels[0]
    assert first.json_response == answer("A")
    assert first.author is not None and "@" in first.author.email
    assert first.seconds_to_label == 3
    assert first.label_type == aiokili.LabelType.DEFAULT
    assert labels[30].asset_id == ids[30]

    assert await kili.count_labels(project_id, type_in=["REVIEW"]) == 20
    assert await kili.count_labels(project_id, asset_external_id_strictly_in=["img-0031"]) == 1
    labelled = [a async for a in kili.assets(project_id, status_in=["LABELED", "REVIEWED"])]
    assert len(labelled) == 50


async def test_fields_selection(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 3)
    labels = [
        label
        async for label in kili.labels(project_id, fields=["labelOf.externalId", "author.email"])
    ]
    assert [label.label_of.external_id for label in labels if label.label_of] == [
        "img-0000",
        "img-0001",
        "img-0002",
    ]
    assert labels[0].id  # non-null fields are always selected
    assert labels[0].json_response is None  # not selected
    assert labels[0].author is not None and labels[0].author.firstname is None

    with pytest.raises(aiokili.KiliInputError, match="jsonRespons"):
        kili.labels(project_id, fields=["jsonRespons"])


async def test_many_pages_in_order_and_early_break(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 250)
    created = await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 250)
    listed = [label.id async for label in kili.labels(project_id)]
    assert listed == created  # 13 pages of 20, 3 fetched ahead, yielded in order
    assert [x.id async for x in kili.labels(project_id, skip=35, first=70)] == created[35:105]

    seen = 0
    async for _ in kili.labels(project_id):
        seen += 1
        if seen == 5:
            break  # outstanding prefetches are cancelled, nothing hangs
    assert seen == 5


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


async def test_bad_inputs_are_typed_and_write_nothing(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await new_project(kili)
    with pytest.raises(aiokili.KiliInputError, match="external_id_array has 1"):
        await kili.append_many_to_dataset(
            project_id,
            content_array=["https://a/1.jpg", "https://a/2.jpg"],
            external_id_array=["x"],
        )
    with pytest.raises(aiokili.NotFoundError, match="not found"):
        await kili.append_many_to_dataset("no-such-project", content_array=["https://a/1.jpg"])
    missing = tmp_path / "missing.png"
    with pytest.raises(aiokili.KiliInputError, match=r"missing\.png"):
        await kili.append_many_to_dataset(
            project_id, content_array=["https://a/1.jpg", str(missing)]
        )
    assert await kili.count_assets(project_id) == 0  # nothing imported by the failed calls

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
    with pytest.raises(aiokili.KiliInputError, match=r"statusIn|status_in"):
        kili.assets(project_id, status_in=["DONE"])  # type: ignore[list-item]
    assert await kili.count_labels(project_id) == 0
    with pytest.raises(aiokili.KiliInputError, match="input_type"):
        await kili.create_project(title="x")


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_runs_under_trio(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=5
    ) as kili:
        project_id = await new_project(kili)
        ids = await import_images(kili, project_id, 12)
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("B")] * 12)
        labels = [label async for label in kili.labels(project_id)]
    assert len(labels) == 12 and labels[0].json_response == answer("B")


async def test_id_array_is_kept_and_duplicates_rejected(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    result = await kili.append_many_to_dataset(
        project_id, content_array=["https://a/1.jpg", "https://a/2.jpg"], id_array=["my-1", "my-2"]
    )
    assert result["asset_ids"] == ["my-1", "my-2"]
    with pytest.raises(aiokili.KiliInputError, match="id_array has duplicates"):
        await kili.append_many_to_dataset(
            project_id, content_array=["https://a/3.jpg"] * 2, id_array=["x", "x"]
        )


async def test_execute_escape_hatch(kili: aiokili.AsyncKili) -> None:
    data = await kili.execute("query { viewer { email } }")
    assert "@" in str(data["viewer"])
    with pytest.raises(aiokili.GraphQLError) as info:
        await kili.execute("query { viewer { nope } }")
    assert "nope" in info.value.errors[0].message
