"""Listings as objects: stream, await, pages, count, early exit; prefetch and memory."""

from __future__ import annotations

import pytest
from support import answer, import_images, new_project

import aiokili

pytestmark = pytest.mark.anyio


@pytest.fixture
async def labelled(kili: aiokili.AsyncKili) -> tuple[str, list[str]]:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 250)
    created = await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 250)
    return project_id, created


async def test_stream_await_pages_and_count(
    kili: aiokili.AsyncKili, labelled: tuple[str, list[str]]
) -> None:
    project_id, created = labelled
    assert [label.id async for label in kili.labels(project_id)] == created  # 13 pages of 20
    assert [label.id for label in await kili.labels(project_id)] == created
    window = kili.labels(project_id, skip=35, first=70)
    assert [x.id for x in await window] == created[35:105]
    assert await window.count() == 70
    assert await kili.labels(project_id, skip=240).count() == 10
    pages = [page async for page in kili.labels(project_id, first=50).pages()]
    assert [len(p) for p in pages] == [20, 20, 10]
    assert [label.id for page in pages for label in page] == created[:50]
    assert await kili.labels(project_id, first=0) == []


async def test_leaving_early_cancels_pages_in_flight(
    kili: aiokili.AsyncKili, labelled: tuple[str, list[str]]
) -> None:
    project_id, _ = labelled
    seen = 0
    async with kili.labels(project_id) as listing:
        async for _ in listing:
            seen += 1
            if seen == 5:
                break
    assert seen == 5
    listing = kili.labels(project_id)
    iterator = aiter(listing)
    await anext(iterator)
    await listing.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(iterator)


async def test_bad_listing_arguments_raise_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(aiokili.KiliInputError, match="skip must be >= 0"):
        kili.labels("p", skip=-1)
    with pytest.raises(aiokili.KiliInputError, match="first must be an integer"):
        kili.labels("p", first="10")  # type: ignore[arg-type]
    with pytest.raises(aiokili.KiliInputError, match="needs project_id"):
        kili.assets("")
    with pytest.raises(aiokili.KiliInputError, match="page_size must be between 1 and 1000"):
        kili.with_options(page_size=5000)
    with pytest.raises(aiokili.KiliInputError, match=r"metadata_where must be a dict, got list"):
        kili.assets("p", metadata_where=["a"])  # type: ignore[typeddict-item]
