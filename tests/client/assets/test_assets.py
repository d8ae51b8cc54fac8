"""Assets end to end against the local server: listing, filters, imports."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from support import download, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def test_import_and_list_assets(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 45)
    assert len(ids) == 45

    assets = await kili.assets(project_id)
    assert [a.id for a in assets] == ids  # oldest first, client-side ids kept
    first = assets[0]
    assert first.external_id == "img-0000"
    assert first.content == "https://images.example/0.jpg"
    assert first.json_metadata == {"split": "test", "n": 0}
    assert first.status == aiokili.Status.TODO

    assert await kili.count_assets(project_id) == 45
    train = await kili.assets(project_id, metadata_where={"split": "train"})
    assert len(train) == await kili.count_assets(project_id, metadata_where={"split": "train"})
    assert len(train) == 22
    some = kili.assets(project_id, external_id_strictly_in=["img-0003", "img-0007"])
    assert sorted([a.external_id async for a in some]) == ["img-0003", "img-0007"]
    assert [a.id for a in await kili.assets(project_id, skip=10, first=25)] == ids[10:35]


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
    result = await kili.append_many_to_dataset(project_id, content_array=[str(image), image])
    assets = await kili.assets(project_id, asset_id_in=result["asset_ids"])
    for asset in assets:
        assert asset.content is not None and asset.content.startswith("http")
        assert await download(asset.content, local_server) == image.read_bytes()

    text_project = await new_project(kili, "TEXT")
    await kili.append_many_to_dataset(text_project, content_array=["hello raw text"])
    (asset,) = await kili.assets(text_project)
    assert asset.content is not None
    assert await download(asset.content, local_server) == b"hello raw text"


@pytest.mark.parametrize("length", [255, 256, 1000, 4095, 4096, 10_000])
async def test_long_one_line_raw_text_is_imported(
    kili: aiokili.AsyncKili, local_server: LocalServer, length: int
) -> None:
    # A review or a tweet is not a file name, even one the OS would reject as too long.
    text = ("A good product, would buy again! " * 400)[:length]
    project_id = await new_project(kili, "TEXT")
    result = await kili.append_many_to_dataset(project_id, content_array=[text])
    (asset,) = await kili.assets(project_id, asset_id=result["asset_ids"][0])
    assert asset.content is not None
    assert await download(asset.content, local_server) == text.encode()


async def test_missing_local_files_are_reported_before_any_request(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await new_project(kili, "TEXT")
    for missing in (str(tmp_path / "missing.png"), tmp_path / "gone.txt", "data/cat.jpg"):
        with pytest.raises(aiokili.KiliInputError, match="no such file"):
            await kili.append_many_to_dataset(
                project_id, content_array=["https://a/1.jpg", missing]
            )
    with pytest.raises(aiokili.KiliInputError, match="only for TEXT projects"):
        await kili.append_many_to_dataset(await new_project(kili), content_array=["raw text"])
    assert await kili.count_assets(project_id) == 0  # nothing imported by the failed calls


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


async def test_rejected_import_leaves_existing_content_untouched(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    original, other = tmp_path / "original.png", tmp_path / "other.png"
    original.write_bytes(b"original bytes")
    other.write_bytes(b"other bytes")
    project_id = await new_project(kili)
    await kili.append_many_to_dataset(
        project_id, content_array=[original], id_array=["keep-me"], external_id_array=["a"]
    )
    with pytest.raises(aiokili.KiliInputError, match="keep-me"):
        await kili.append_many_to_dataset(
            project_id, content_array=[other], id_array=["keep-me"], external_id_array=["b"]
        )
    (asset,) = await kili.assets(project_id)
    assert asset.content is not None
    assert await download(asset.content, local_server) == b"original bytes"


async def test_failed_items_are_reported_at_their_position_in_the_input(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    elsewhere = await new_project(kili)
    await kili.append_many_to_dataset(
        elsewhere, content_array=["https://a/x.jpg"], id_array=["taken"]
    )
    project_id = await new_project(kili)
    await kili.append_many_to_dataset(
        project_id, content_array=["https://a/0.jpg"] * 3, external_id_array=["e0", "e1", "e2"]
    )
    with pytest.raises(aiokili.BulkOperationError) as info:
        await kili.append_many_to_dataset(
            project_id,
            content_array=[f"https://a/{i}.jpg" for i in range(5)],
            external_id_array=[f"e{i}" for i in range(5)],
            id_array=["x0", "x1", "x2", "taken", "x4"],  # "taken" exists in another project
        )
    assert [(f.index, f.key) for f in info.value.failures] == [(3, "e3"), (4, "e4")]
    assert await kili.count_assets(project_id) == 3


async def test_concurrent_imports_of_overlapping_ids_store_each_once(
    kili: aiokili.AsyncKili,
) -> None:
    project_id = await new_project(kili)
    results: list[aiokili.AppendManyToDatasetResult] = []

    async def run(offset: int) -> None:
        external = [f"e{i:05d}" for i in range(offset, offset + 1000)]
        results.append(
            await kili.append_many_to_dataset(
                project_id, content_array=[f"https://a/{e}.jpg" for e in external],
                external_id_array=external,
            )
        )  # fmt: skip

    async with anyio.create_task_group() as tg:
        for offset in (0, 500, 1000, 1500):
            tg.start_soon(run, offset)
    assert await kili.count_assets(project_id) == 2500
    assert sum(len(r["asset_ids"]) for r in results) == 2500  # what each call says is true
    for r in results:
        assert len(r["asset_ids"]) + len(r["skipped_external_ids"]) == 1000
