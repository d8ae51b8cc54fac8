"""Media downloads under failure: a stalled media server (a local one, in a thread), a slow
but steady one, a cancelled export, a media URL answering 404 (mocked: the cancellation
needs to know when the download is under way). The GraphQL calls reach the local server."""

from __future__ import annotations

import socketserver
import tempfile
import threading
import time
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


class _MediaServer:
    """A local HTTP server (a thread) for one media file: it sends ``chunks`` bytes,
    ``pause`` seconds apart, or, with ``stall``, one byte and then nothing."""

    def __init__(self, *, chunks: int = 1, pause: float = 0.0, stall: bool = False) -> None:
        self.connections = 0
        self.release = threading.Event()
        media = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                media.connections += 1
                self.request.recv(65536)  # the request
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {100 if stall else chunks}\r\n\r\n")  # fmt: skip
                self.request.sendall(head.encode() + b"x")
                if stall:
                    media.release.wait(60)
                    return
                for _ in range(chunks - 1):
                    time.sleep(pause)
                    self.request.sendall(b"x")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/media.jpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


async def _media_project(kili: aiokili.AsyncKili, kili_project: ProjectFactory, url: str) -> str:
    project_id = await kili_project()
    created = await kili.append_many_to_dataset(project_id, content_array=[url])
    await kili.append_labels(asset_id_array=created["asset_ids"], json_response_array=[CAT])
    return project_id


def _calls(
    kili: aiokili.AsyncKili, project_id: str, out: Path
) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "assets": lambda: kili.assets(project_id, download_media=True, local_media_dir=out),
        "export": lambda: kili.export_labels(project_id, out / "x.zip", "kili", with_assets=True),
    }


@pytest.mark.parametrize("call", ["assets", "export"])
async def test_a_stalled_media_download_ends_at_the_read_deadline_through_the_retry_policy(
    call: str, kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    media = _MediaServer(stall=True)
    try:
        project_id = await _media_project(kili, kili_project, media.url)
        quick = kili.with_options(timeout=1, max_retries=1)
        out = tmp_path / "out"
        out.mkdir()
        with anyio.fail_after(60):  # before: the download never ended
            with pytest.raises(APITimeoutError, match="timed out after the request was sent"):
                await _calls(quick, project_id, out)[call]()
    finally:
        media.close()
    assert media.connections == 2  # the attempt and the one retry max_retries=1 allows
    assert _listed(out) == [] and _listed(temp) == []  # no .part file, no temporary folder


async def test_a_large_media_file_may_take_longer_than_the_timeout_while_data_comes(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path
) -> None:
    media = _MediaServer(chunks=12, pause=0.25)  # 3 s in all, a byte every 0.25 s
    try:
        project_id = await _media_project(kili, kili_project, media.url)
        patient = kili.with_options(timeout=2, max_retries=0)
        [asset] = await _calls(patient, project_id, tmp_path)["assets"]()
    finally:
        media.close()
    size = (await anyio.Path(str(asset.content)).stat()).st_size
    assert size == 12 and media.connections == 1


async def test_a_cancelled_export_leaves_no_temporary_folder_nor_part_file(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    project_id = await _media_project(kili, kili_project, URL)
    started = anyio.Event()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.get(URL).mock(side_effect=lambda _: httpx.Response(200, stream=_Stall(started)))
        router.route().pass_through()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_calls(kili, project_id, tmp_path)["export"])
            await started.wait()  # the media download is under way
            tg.cancel_scope.cancel()
    assert _listed(tmp_path) == ["temp"]  # no x.zip.part
    assert _listed(temp) == []


@pytest.mark.parametrize("call", ["assets", "export"])
async def test_a_failed_media_download_is_raised_as_itself(
    call: str, kili: aiokili.AsyncKili, kili_project: ProjectFactory, tmp_path: Path, temp: Path
) -> None:
    project_id = await _media_project(kili, kili_project, URL)
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.get(URL).respond(404, text="gone")
        router.route().pass_through()
        with pytest.raises(aiokili.errors.HTTPStatusError, match="HTTP 404") as raised:
            await _calls(kili, project_id, tmp_path)[call]()
    assert URL in str(raised.value) and _listed(temp) == []  # itself, not an ExceptionGroup
