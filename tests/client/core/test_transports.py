"""``http_transport="aiohttp"``: the same calls against the real local server, errors that
say what happened to the request (a dropped answer is not a connect failure), and clear
refusals where it cannot run; ``"auto"`` (the default): httpx for a few requests, aiohttp
for bulk work on asyncio, httpx alone under trio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from support import import_images, new_project

import aiokili
from aiokili._core import transports
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio
ANSWER = {"JOB": {"categories": [{"name": "A"}]}}


async def test_imports_uploads_and_listings_work_over_aiohttp(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_transport="aiohttp"
    ) as kili:
        project_id = await new_project(kili, input_type="TEXT")
        texts = [f"text number {i}" for i in range(120)]
        result = await kili.append_many_to_dataset(
            project_id, content_array=texts, external_id_array=[f"t{i}" for i in range(120)]
        )
        await kili.append_labels(
            asset_id_array=result["asset_ids"], json_response_array=[ANSWER] * 120
        )
        assets = await kili.assets(project_id, fields=["externalId", "content"])
        labels = await kili.count_labels(project_id)
    assert sorted(a.external_id for a in assets) == sorted(f"t{i}" for i in range(120))
    assert all(a.content.startswith("http") for a in assets)  # uploaded, stored as URLs
    assert labels == 120


@pytest.fixture
def drops_after_reading() -> Iterator[tuple[str, list[int]]]:
    """A server that reads each request whole, then closes the connection unanswered: the
    request may have been applied. Counts the requests it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                seen.append(length)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/label/v2/graphql", seen
    listener.close()


async def test_a_dropped_answer_is_not_taken_for_a_connect_failure(
    drops_after_reading: tuple[str, list[int]],
) -> None:
    """``httpx-aiohttp`` calls it a connect timeout, which would resend a mutation the server
    may have applied; aiokili's mapping says the outcome is unknown, and sends it once."""
    url, seen = drops_after_reading
    async with aiokili.AsyncKili(
        api_key="k", api_endpoint=url, http_transport="aiohttp", max_retries=2
    ) as kili:
        with pytest.raises(aiokili.MutationOutcomeUnknownError) as caught:
            await kili.graphql.run('mutation { deleteProject(projectID: "p") }', None, {})
        assert caught.value.outcome_unknown
        assert isinstance(caught.value.__cause__, aiokili.APIConnectionError)
        assert len(seen) == 1, "a mutation whose answer was lost is not resent"
        with pytest.raises(aiokili.APIConnectionError):
            await kili.count_projects()  # a query: resent, twice
        assert len(seen) == 1 + 3


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_aiohttp_under_trio_is_refused_with_the_fix(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_transport="aiohttp"
    ) as kili:
        with pytest.raises(aiokili.ConfigurationError, match="asyncio only") as caught:
            await kili.count_projects()
    assert 'leave http_transport to its default ("auto")' in str(caught.value)


def test_without_the_package_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)
    with pytest.raises(aiokili.ConfigurationError, match="pip install httpx-aiohttp"):
        aiokili.AsyncKili(api_key="k", api_endpoint="http://x/", http_transport="aiohttp")


def test_an_unknown_transport_is_refused() -> None:
    with pytest.raises(
        aiokili.KiliInputError, match="http_transport must be one of 'auto', 'httpx', "
    ):
        aiokili.AsyncKili(api_key="k", api_endpoint="http://x/", http_transport="curl")  # type: ignore[arg-type]


async def test_images_import_over_aiohttp_on_asyncio(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_transport="aiohttp"
    ) as kili:
        project_id = await new_project(kili)
        await import_images(kili, project_id, 30)
        assert await kili.count_assets(project_id) == 30


def _pools(kili: aiokili.AsyncKili) -> Any:
    return kili._core.runtime.http._transport  # the client's own transport


async def test_auto_moves_uploads_to_aiohttp_not_listings(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads in flight move a client to aiohttp; a listing's pages (under the mark of any
    kind) and URL imports do not. Marks lowered so that the in-process server, which
    answers fast, reaches them for certain."""
    monkeypatch.setattr(transports, "UPLOADS_FROM", 2)
    monkeypatch.setenv("AIOKILI_AIOHTTP_FROM", "1000")
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=10
    ) as kili:
        images = await new_project(kili)
        await import_images(kili, images, 300)
        listed = [a async for a in kili.assets(images, fields=["id"])]  # 30 pages, prefetched
        assert _pools(kili)._aiohttp is None, "imports of URLs and listings stay on httpx"
        project_id = await new_project(kili, input_type="TEXT")
        texts = [f"text {i}" for i in range(300)]
        ids = [f"t{i}" for i in range(300)]
        await kili.append_many_to_dataset(project_id, content_array=texts, external_id_array=ids)
        assert _pools(kili)._aiohttp is not None, "300 uploads, several in flight: on aiohttp"
        assets = await kili.assets(project_id, fields=["externalId"])
        again = await kili.append_many_to_dataset(
            project_id, content_array=["x"], external_id_array=["late"]
        )
    assert len(listed) == 300
    assert sorted(a.external_id for a in assets) == sorted(ids)
    assert len(again["asset_ids"]) == 1


async def test_any_requests_past_the_mark_move_a_client(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOKILI_AIOHTTP_FROM", "3")
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url
    ) as kili:
        await kili.count_projects()
        assert _pools(kili)._aiohttp is None, "one request at a time stays on httpx"
        counts: list[int] = []

        async def count() -> None:
            counts.append(await kili.count_projects())

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(count)
        assert _pools(kili)._aiohttp is not None
        assert await kili.count_projects() == counts[0]


def test_a_few_calls_never_import_aiohttp(local_server: LocalServer) -> None:
    """Short scripts do not pay aiohttp's import (~150 ms): it is loaded for bulk work only."""
    script = (
        "import sys, anyio, aiokili\n"
        "async def main():\n"
        f"    async with aiokili.AsyncKili(api_key={local_server.api_key!r}, "
        f"api_endpoint={local_server.url!r}) as kili:\n"
        "        await kili.count_projects()\n"
        "        await kili.projects()\n"
        "anyio.run(main)\n"
        "print('aiohttp' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "AIOKILI_AIOHTTP_FROM"}  # the default
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True,
        env=env,
    )  # fmt: skip
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_auto_stays_on_httpx_under_trio(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOKILI_AIOHTTP_FROM", "0")  # aiohttp from the first request...
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url
    ) as kili:
        project_id = await new_project(kili)
        await import_images(kili, project_id, 40)
        assert await kili.count_assets(project_id) == 40
        assert _pools(kili)._aiohttp is None  # ...where it can run: not under trio


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_a_bad_aiohttp_mark_is_refused_before_any_request(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOKILI_AIOHTTP_FROM", value)
    with pytest.raises(aiokili.ConfigurationError, match="AIOKILI_AIOHTTP_FROM must be"):
        aiokili.AsyncKili(api_key="k", api_endpoint="http://x/")
