"""Listings on trio: leaving one early (``break``, an exception, ``aclose()``) leaves no
async generator behind for trio to finalize (it warns with a ResourceWarning)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from support import import_images, new_project

import aiokili

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.fixture
def kili_client_options() -> dict[str, int]:
    return {"page_size": 5}  # several pages: some in flight when the loop leaves


async def _break(listing: aiokili.Listing[aiokili.models.Asset]) -> None:
    async for _ in listing:
        break


async def _raise(listing: aiokili.Listing[aiokili.models.Asset]) -> None:
    with pytest.raises(ValueError):
        async for _ in listing:
            raise ValueError("left")


async def _aclose(listing: aiokili.Listing[aiokili.models.Asset]) -> None:
    iterator = listing.__aiter__()
    await iterator.__anext__()
    await listing.aclose()


async def _pages(listing: aiokili.Listing[aiokili.models.Asset]) -> None:
    async for _ in listing.pages():
        break


LEAVE: dict[str, Callable[[aiokili.Listing[aiokili.models.Asset]], Awaitable[None]]] = {
    "break": _break, "exception": _raise, "aclose": _aclose, "pages then break": _pages,
}  # fmt: skip


@pytest.fixture
async def project(kili: aiokili.AsyncKili) -> AsyncIterator[str]:
    project_id = await new_project(kili)
    await import_images(kili, project_id, 40)
    yield project_id


@pytest.mark.parametrize("how", list(LEAVE))
async def test_leaving_a_listing_early_on_trio_leaves_no_resource_warning(
    kili: aiokili.AsyncKili, project: str, how: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await LEAVE[how](kili.assets(project))
        gc.collect()
        assert [await kili.count_assets(project)] == [40]  # the client still works
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
