"""Listings as objects: stream, await, pages, count, early exit; prefetch and memory."""

from __future__ import annotations

import anyio
import httpx
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


@pytest.fixture
async def labelled(kili: aiokili.AsyncKili) -> tuple[str, list[str]]:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 250)
    one_at_a_time = kili.with_options(concurrency=1)  # created (and so listed) in this order
    created = await one_at_a_time.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")] * 250
    )
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


async def test_a_where_needing_a_look_up_is_looked_up_once_however_many_ask(
    local_server: LocalServer, labelled: tuple[str, list[str]]
) -> None:
    """Step names become ids with one look-up, even when the count and two iterations of
    one listing (each page fetched concurrently) all need the ids at the same time."""
    project_id, created = labelled
    look_ups = 0

    async def count_look_ups(request: httpx.Request) -> None:
        nonlocal look_ups
        look_ups += b"StepsOfProject" in request.content

    async with (
        httpx.AsyncClient(event_hooks={"request": [count_look_ups]}) as http,
        aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
            page_size=20,
        ) as kili,
    ):  # fmt: skip
        listing = kili.labels(project_id, asset_step_name_in=["Labeling", "Review"])
        got: dict[str, object] = {}

        async def collect(key: str) -> None:
            got[key] = [label.id async for label in listing]

        async def count() -> None:
            got["count"] = await listing.count()

        async with anyio.create_task_group() as group:
            for job in (count, lambda: collect("a"), lambda: collect("b")):
                group.start_soon(job)
    assert got == {"count": 250, "a": created, "b": created}
    assert look_ups == 1
