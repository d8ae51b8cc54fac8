"""Media downloads under failure: a stalled media server, a cancelled export. The media URLs
are mocked (a stall on demand is what no server gives); the GraphQL calls reach the local
server."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import httpx
import pytest
import respx

import aiokili
from aiokili.errors import APITimeoutError
from aiokili.testing import ProjectFactory

pytestmark = pytest.mark.anyio
URL = "https://media.example/stalled.jpg"
CAT = {"CLASSIFICATION_JOB": {"categories": [{"name": "CAT"}]}}


class _Stall(httpx.AsyncByteStream):
    """A body that sends one byte and then nothing, ever."""

    def __init__(self, started: anyio.Event) -> None:
        self.started = started

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"x"
        self.started.set()
        await anyio.sleep_forever()


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, for this test alone (exports spool there)."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _listed(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def _project(kili: aiokili.AsyncKili, kili_project: ProjectFactory) -> str:
    project_id = await kili_project()
    created = await kili.append_many_to_dataset(project_id, content_array=[URL])
    await kili.append_labels(asset_id_array=created["asset_ids"], json_response_array=[CAT])
    return project_id


def _downloads(
    kili: aiokili.AsyncKili, project_id: str, out: Path
) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "assets": lambda: kili.assets(project_id, download_media=True, local_media_dir=out),
        "export": lambda: kili.export_labels(project_id, out / "x.zip", "kili", with_assets=True),
    }


@pytest.mark.parametrize("call", ["assets", "export"])
async def test_a_stalled_media_download_ends_at_the_deadline_through_the_retry_policy(
    call: str, kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    project_id = await _project(kili, kili_project)
    quick = kili.with_options(timeout=1, max_retries=1)
    out = tmp_path / "out"
    out.mkdir()
    with respx.mock(assert_all_called=False) as router:
        media = router.get(URL).mock(side_effect=lambda _: httpx.Response(
            200, headers={"content-type": "image/jpeg"}, stream=_Stall(anyio.Event())))  # fmt: skip
        router.route().pass_through()
        with anyio.fail_after(60):  # before: the download never ended
            with pytest.raises(APITimeoutError, match="no complete answer within 1 s"):
                await _downloads(quick, project_id, out)[call]()
    assert media.call_count == 2  # the attempt and the one retry max_retries=1 allows
    assert _listed(out) == [] and _listed(temp) == []  # no .part file, no temporary folder


async def test_a_cancelled_export_leaves_no_temporary_folder_nor_part_file(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    project_id = await _project(kili, kili_project)
    started = anyio.Event()
    with respx.mock(assert_all_called=False) as router:
        router.get(URL).mock(side_effect=lambda _: httpx.Response(200, stream=_Stall(started)))
        router.route().pass_through()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_downloads(kili, project_id, tmp_path)["export"])
            await started.wait()  # the media download is under way
            tg.cancel_scope.cancel()
    assert _listed(tmp_path) == ["temp"]  # no x.zip.part
    assert _listed(temp) == []


@pytest.mark.parametrize("call", ["assets", "export"])
async def test_a_failed_media_download_is_raised_as_itself(
    call: str, kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    project_id = await _project(kili, kili_project)
    with respx.mock(assert_all_called=False) as router:
        router.get(URL).respond(404, text="gone")
        router.route().pass_through()
        with pytest.raises(aiokili.errors.HTTPStatusError, match="HTTP 404") as raised:
            await _downloads(kili, project_id, tmp_path)[call]()
    assert URL in str(raised.value) and _listed(temp) == []  # itself, not an ExceptionGroup
