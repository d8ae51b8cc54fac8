"""append_many_to_dataset: every content kind, the asynchronous import path, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx
from support import download, new_project

import aiokili
from aiokili._core import constants as C
from aiokili.errors import APIError, APITimeoutError, BulkOperationError, KiliInputError
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


def _files(tmp_path: Path, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(f"bytes of {name}".encode())
        out.append(path)
    return out


def _notifications(server: LocalServer) -> list[str]:
    with server.store.db.read() as c:
        return [r[0] for r in c.execute("SELECT status FROM notifications ORDER BY created_at")]


async def test_text_raw_rich_and_csv(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    project_id = await new_project(kili, "TEXT")
    rich = [{"children": [{"text": "hello"}], "type": "p"}]
    await kili.append_many_to_dataset(
        project_id, content_array=["some raw text", ""], external_id_array=["raw", "rich"],
        json_content_array=[None, rich],
    )  # fmt: skip
    raw, rich_asset = await kili.assets(project_id)
    assert await download(str(raw.content), local_server) == b"some raw text"
    assert json.loads(await download(str(rich_asset.json_content), local_server)) == rich
    csv_file = tmp_path / "texts.csv"
    csv_file.write_text("content;externalId\nfirst text;c1\nsecond text;c2\n")
    result = await kili.append_many_to_dataset(project_id, from_csv=csv_file, csv_separator=";")
    assert len(result["asset_ids"]) == 2
    assert await kili.count_assets(project_id, external_id_strictly_in=["c1", "c2"]) == 2


async def test_video_files_take_the_asynchronous_path(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    project_id = await new_project(kili, "VIDEO")
    before = len(_notifications(local_server))
    video = _files(tmp_path, ["clip.mp4"])[0]
    result = await kili.append_many_to_dataset(
        project_id, content_array=[video, "https://videos.example/v.mp4"],
        external_id_array=["local", "hosted"],
        json_metadata_array=[{"processingParameters": {"shouldUseNativeVideo": True}}, {"k": 1}],
    )  # fmt: skip
    assert len(result["asset_ids"]) == 2
    assert _notifications(local_server)[before:] == ["SUCCESS"]
    # the call returned once the assets existed
    assets = await kili.assets(project_id)
    assert [a.id for a in assets] == result["asset_ids"]
    assert await download(str(assets[0].content), local_server) == video.read_bytes()
    assert assets[1].json_metadata == {"k": 1, "processingParameters": {}}


async def test_large_and_layered_images_take_the_asynchronous_path(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    project_id = await new_project(kili)
    before = len(_notifications(local_server))
    tif, png, layer1, layer2 = _files(tmp_path, ["big.tif", "small.png", "l1.tif", "l2.tif"])
    result = await kili.append_many_to_dataset(
        project_id, content_array=[tif, png], external_id_array=["tif", "png"]
    )
    assert len(result["asset_ids"]) == 2
    assert _notifications(local_server)[before:] == ["SUCCESS"]  # only the tif went async
    layered = await kili.append_many_to_dataset(
        project_id, external_id_array=["layers"],
        multi_layer_content_array=[[{"path": str(layer1), "name": "a"},
                                    {"path": str(layer2), "name": "b"}]],
    )  # fmt: skip
    [asset] = await kili.assets(project_id, asset_id=layered["asset_ids"][0])
    assert await download(str(asset.content), local_server) == layer1.read_bytes()
    described = json.loads(str(asset.json_content))
    assert [x["name"] for x in described] == ["a", "b"] and "path" not in described[0]


async def test_no_wait_returns_before_the_import_is_checked(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id = await new_project(kili, "VIDEO")
    result = await kili.append_many_to_dataset(
        project_id, content_array=["https://videos.example/a.mp4"], wait_until_availability=False
    )
    assert len(result["asset_ids"]) == 1


async def test_failed_asynchronous_import_is_reported(kili: aiokili.AsyncKili) -> None:
    first = await new_project(kili, "VIDEO")
    second = await new_project(kili, "VIDEO")
    await kili.append_many_to_dataset(
        first, content_array=["https://videos.example/a.mp4"], id_array=["shared-id-1"]
    )
    with pytest.raises(BulkOperationError) as caught:  # the id is taken in another project
        await kili.append_many_to_dataset(
            second, content_array=["https://videos.example/b.mp4"], id_array=["shared-id-1"]
        )
    [failure] = caught.value.failures
    assert isinstance(failure.error, APIError)
    assert "asset id(s) already exist: shared-id-1" in str(failure.error)  # the server's why
    assert await kili.count_assets(second) == 0


async def test_a_later_import_path_failing_keeps_the_outcome_of_the_earlier_ones(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    first, second = await new_project(kili), await new_project(kili)
    taken = f"taken-{first}"  # asset ids are unique across the (shared) server
    await kili.append_many_to_dataset(first, content_array=["https://a/x.jpg"], id_array=[taken])
    [tif] = _files(tmp_path, ["big.tif"])  # the asynchronous path, after the URLs' one
    with pytest.raises(BulkOperationError) as caught:  # its id is taken in another project
        await kili.append_many_to_dataset(
            second, content_array=["https://a/1.jpg", "https://a/2.jpg", tif],
            external_id_array=["one", "two", "tif"], id_array=[f"{taken}-1", f"{taken}-2", taken],
        )  # fmt: skip
    error = caught.value
    assert [(f.index, f.key) for f in error.failures] == [(2, "tif")]
    assert [asset_id for _, asset_id in error.succeeded] == [f"{taken}-1", f"{taken}-2"]
    assert "1 item(s) failed, 2 succeeded" in str(error)  # before: "1 failed, 0 succeeded"
    assert await kili.count_assets(second) == 2


async def test_waiting_for_an_asynchronous_import_has_a_deadline(
    kili: aiokili.AsyncKili, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = await new_project(kili)
    [tif] = _files(tmp_path, ["big.tif"])
    monkeypatch.setattr(C, "ASYNC_IMPORT_DEADLINE", 0.2)
    pending = {"data": {"data": [{"id": "n", "status": "PENDING", "message": None}]}}
    # a notification that stays PENDING
    with respx.mock(using="httpx", assert_all_called=True) as router:
        router.post(kili.api_endpoint, content__contains=b"NotificationStatus").respond(
            200, json=pending
        )
        router.route().pass_through()
        with anyio.fail_after(60), pytest.raises(BulkOperationError) as caught:  # before: forever
            await kili.append_many_to_dataset(project_id, content_array=[tif])
    [failure] = caught.value.failures
    assert isinstance(failure.error, APITimeoutError)
    assert "still PENDING after 0.2 s" in str(failure.error)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json_content_array": [["/no/such/frame.jpg"]]}, r"json_content_array\[0\]\[0\]"),
        ({"content_array": ["https://a"], "multi_layer_content_array": [[{"path": "x"}]]},
         "not both"),
        ({"multi_layer_content_array": [[{"name": "no path"}]]}, r"multi_layer_content_array\[0\]"),
        ({"from_csv": "/no/such.csv"}, "from_csv"),
        ({"from_csv": "/no/such.csv", "content_array": ["a"]}, "from_csv"),
        ({"content_array": ["https://a"], "status_array": ["TODO", "TODO"]}, "status_array has 2"),
        ({"content_array": ["https://a"], "wait_until_availability": "yes"},
         "wait_until_availability"),
    ],
)  # fmt: skip
async def test_bad_import_input(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], message: str
) -> None:
    project_id = await new_project(kili, "VIDEO")
    with pytest.raises(KiliInputError, match=message):
        await kili.append_many_to_dataset(project_id, **kwargs)
    assert await kili.count_assets(project_id) == 0


async def test_status_array_is_deprecated(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    with pytest.warns(DeprecationWarning, match="status_array"):
        await kili.append_many_to_dataset(
            project_id, content_array=["https://a.example/1.jpg"], status_array=["LABELED"]
        )
    assert [a.status for a in await kili.assets(project_id)] == [aiokili.Status.TODO]


class _LoseFirstAnswer(httpx.AsyncBaseTransport):
    """Forwards every request; the first import's answer is lost after the server ran it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = 0
        self.imports = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if b"appendManyAssets" in request.content:
            self.imports += 1
            if not self.lost:
                self.lost += 1
                await response.aread()
                raise httpx.ReadError("connection reset after the server answered")
        return response


@pytest.mark.parametrize("video", [False, True])
async def test_unknown_outcome_is_reconciled_not_resent(
    local_server: LocalServer, video: bool
) -> None:
    transport = _LoseFirstAnswer()
    async with (
        httpx.AsyncClient(transport=transport) as http,
        aiokili.AsyncKili(local_server.api_key, local_server.url, http_client=http) as kili,
    ):
        project_id = await new_project(kili, "VIDEO" if video else "IMAGE")
        urls = [f"https://media.example/{i}.{'mp4' if video else 'jpg'}" for i in range(3)]
        result = await kili.append_many_to_dataset(project_id, content_array=urls)
        assert len(result["asset_ids"]) == 3 and transport.lost == 1
        assert transport.imports == 1  # applied by the lost request: looked up, not resent
        assert [a.id for a in await kili.assets(project_id)] == result["asset_ids"]


def test_which_assets_take_the_asynchronous_path(tmp_path: Path) -> None:
    from aiokili.assets.contents import classify
    from aiokili.assets.imports import LARGE_IMAGE_BYTES, upload_type
    from aiokili.models import InputType

    big, small = tmp_path / "big.png", tmp_path / "small.png"
    with big.open("wb") as f:
        f.truncate(LARGE_IMAGE_BYTES)  # sparse: nothing written
    small.write_bytes(b"png")
    url = classify(0, "https://a.example/v.mp4")
    frames = {"processingParameters": {"shouldUseNativeVideo": False}}
    assert upload_type(InputType.IMAGE, classify(0, big), None, False) == "TILED_IMAGE"
    assert upload_type(InputType.IMAGE, classify(0, small), None, False) is None
    assert upload_type(InputType.IMAGE, classify(0, small), None, True) == "TILED_IMAGE"
    assert upload_type(InputType.GEOSPATIAL, url, None, False) == "GEO_SATELLITE"
    assert upload_type(InputType.VIDEO, url, None, False) == "NATIVE_VIDEO"
    assert upload_type(InputType.VIDEO, url, frames, False) == "FRAME_VIDEO"
    assert upload_type(InputType.VIDEO, classify(0, ""), None, False) is None  # frames: sync
    assert upload_type(InputType.TEXT, url, None, False) is None


async def test_honeypots_and_metadata_arrive(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    await kili.append_many_to_dataset(
        project_id, content_array=["https://a.example/1.jpg", "https://a.example/2.jpg"],
        is_honeypot_array=[True, False], json_metadata_array=[{"k": [1, 2]}, {}],
    )  # fmt: skip
    assets = await kili.assets(project_id)
    assert [a.is_honeypot for a in assets] == [True, False]
    assert [a.json_metadata for a in assets] == [{"k": [1, 2]}, {}]


async def test_the_project_and_the_existing_external_ids_are_asked_at_once(
    kili: aiokili.AsyncKili, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round trip before the uploads instead of two (50 ms saved per call at 50 ms)."""
    project_id = await new_project(kili, "TEXT")
    await kili.append_many_to_dataset(project_id, content_array=["a"], external_id_array=["a"])
    lookups = kili._core.lookups
    input_type, existing = lookups.input_type, lookups.existing_external_ids
    events: list[str] = []

    async def logged_input_type(project: str) -> object:
        events.append("input type asked")
        answer = await input_type(project)
        events.append("input type answered")
        return answer

    async def logged_existing(project: str, external_ids: list[str]) -> set[str]:
        events.append("existing asked")
        return await existing(project, external_ids)

    monkeypatch.setattr(lookups, "input_type", logged_input_type)
    monkeypatch.setattr(lookups, "existing_external_ids", logged_existing)
    result = await kili.append_many_to_dataset(
        project_id, content_array=["a", "b"], external_id_array=["a", "b"]
    )
    assert result["skipped_external_ids"] == ["a"] and len(result["asset_ids"]) == 1
    assert events.index("existing asked") < events.index("input type answered")


async def test_an_unknown_project_is_named_whatever_the_external_ids_look_up_says(
    kili: aiokili.AsyncKili,
) -> None:
    with pytest.raises(aiokili.errors.NotFoundError, match='Project "nope" not found'):
        await kili.append_many_to_dataset("nope", content_array=["a"], external_id_array=["a"])
    with pytest.raises(aiokili.errors.NotFoundError, match='Project "nope" not found'):
        await kili.append_many_to_dataset("nope", content_array=["a"])
