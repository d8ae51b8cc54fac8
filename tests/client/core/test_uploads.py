"""Uploads: small files in one read, large ones streamed, signed URLs in order, files read
several per thread hop."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support import download, new_project

import aiokili
from aiokili._core import constants as C
from aiokili._core import uploads as _uploads
from aiokili._generated.input_types import AppendManyAssetsData, ProjectWhere
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def test_small_and_large_files_arrive_whole_and_in_order(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    sizes = [0, 1, C.UPLOAD_CHUNK_BYTES - 1, C.UPLOAD_CHUNK_BYTES, C.UPLOAD_CHUNK_BYTES + 1,
             3 * C.UPLOAD_CHUNK_BYTES + 7]  # fmt: skip
    files = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(bytes((i + j) % 251 for j in range(size)))
        files.append(path)
    project_id = await new_project(kili, "TEXT")
    result = await kili.append_many_to_dataset(
        project_id, content_array=files, external_id_array=[f"f{i}" for i in range(len(files))]
    )
    by_external = {a.external_id: a for a in await kili.assets(project_id)}
    assert len(result["asset_ids"]) == len(files)
    for i, path in enumerate(files):
        content = by_external[f"f{i}"].content
        assert content is not None
        assert await download(content, local_server) == path.read_bytes()


async def test_uploads_keep_their_content_type_under_the_api_prefix(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake image bytes")
    project_id = await new_project(kili, "TEXT")
    await kili.append_many_to_dataset(
        project_id, content_array=["hello raw text", image], external_id_array=["text", "png"]
    )
    by_external = {a.external_id: a.content for a in await kili.assets(project_id)}
    async with httpx.AsyncClient() as http:
        for external, expected in (("text", "text/plain; charset=utf-8"), ("png", "image/png")):
            url = by_external[external]
            assert url is not None
            got = await http.get(
                url, headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
            )
            assert got.headers["content-type"] == expected


async def test_signed_urls_batches_keep_the_order_of_paths(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili, "TEXT")
    paths = [f"projects/{project_id}/assets/a{i:03d}/content" for i in range(95)]  # 4 batches
    urls = await kili._core.uploads.signed_urls(paths)
    assert len(urls) == 95
    for path, url in zip(paths, urls, strict=True):
        assert httpx.URL(url).params["path"].endswith(path.split("/", 2)[2])  # server prefix


async def test_small_files_are_read_several_per_thread_hop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = _uploads._read_batch

    def counting(paths: list[Path], budget: int) -> list[object]:
        calls.append(len(paths))
        return real(paths, budget)  # type: ignore[return-value]

    monkeypatch.setattr(_uploads, "_read_batch", counting)
    items = []
    for i in range(20):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(b"x" * (i + 1))
        items.append(_uploads.UploadItem(f"p{i}", path, "text/plain"))
    items.insert(3, _uploads.UploadItem("text", b"raw", "text/plain"))  # not a file
    missing = tmp_path / "gone.txt"
    items.insert(5, _uploads.UploadItem("gone", missing, "text/plain"))
    reads = _uploads._FileReads(items)
    for index, item in enumerate(items):
        if isinstance(item.source, bytes):
            continue
        if item.source == missing:
            with pytest.raises(FileNotFoundError):
                await reads.get(index)
            continue
        size, data = await reads.get(index)
        assert isinstance(item.source, Path) and data == item.source.read_bytes()
        assert size == len(data)
    assert calls == [16, 5]  # 21 files, 16 per hop


def test_a_batch_stops_reading_at_its_byte_budget(tmp_path: Path) -> None:
    paths = []
    for i in range(4):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"y" * 200_000 if i != 1 else b"z" * (C.UPLOAD_CHUNK_BYTES + 1))
        paths.append(path)
    reads = _uploads._read_batch(paths, 350_000)
    assert reads[0] == (200_000, b"y" * 200_000)
    assert reads[1] == (C.UPLOAD_CHUNK_BYTES + 1, None)  # streamed later, read nothing
    assert reads[2] == (200_000, b"y" * 200_000)  # budget left before it: read
    assert reads[3] is None  # budget spent: a later hop reads it


async def test_the_chunks_of_an_import_finish_one_after_the_other(
    kili: aiokili.AsyncKili, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads of earlier chunks go first: the first chunk is imported while later ones
    upload, not all chunks at the end (an interrupted import leaves whole chunks done)."""
    project_id = await new_project(kili, "TEXT")
    events: list[tuple[str, int]] = []
    core = kili._core
    put, append = core.uploads.put, core.gql.append_many_assets

    async def logged_put(url: str, item: _uploads.UploadItem, **kwargs: object) -> None:
        assert isinstance(item.source, bytes)
        events.append(("put", int(item.source.split()[1]) // C.ASSETS_CHUNK))
        await put(url, item, **kwargs)  # type: ignore[arg-type]

    async def logged_append(*, data: AppendManyAssetsData, where: ProjectWhere) -> object:
        assert data.external_id_array is not None
        events.append(("append", int(data.external_id_array[0]) // C.ASSETS_CHUNK))
        return await append(data=data, where=where)

    monkeypatch.setattr(core.uploads, "put", logged_put)
    monkeypatch.setattr(core.gql, "append_many_assets", logged_append)
    count = 4 * C.ASSETS_CHUNK
    result = await kili.append_many_to_dataset(
        project_id,
        content_array=[f"text {i}" for i in range(count)],
        external_id_array=[str(i) for i in range(count)],
    )
    assert len(result["asset_ids"]) == count
    first_append = events.index(("append", 0))
    last_chunk_starts = events.index(("put", 3))
    assert first_append < last_chunk_starts, events
    assert [e for e in events if e[0] == "append"] == [("append", c) for c in range(4)]


@pytest.mark.parametrize(
    ("signed", "sent"),
    [
        ("https://h/f?path=a%2Fb&sig=x%3D&id=a%2Fb", "https://h/f?path=a%2Fb&sig=x%3D"),
        ("https://h/f?id=a&path=b&idx=1&id=c", "https://h/f?path=b&idx=1"),
        ("https://h/f?id=a", "https://h/f"),
        ("https://h/f?path=b&id=a#frag", "https://h/f?path=b#frag"),
        ("https://h/f", "https://h/f"),
    ],
)
def test_an_upload_goes_to_its_signed_url_without_id_the_rest_as_signed(
    signed: str, sent: str
) -> None:
    assert _uploads.without_id(signed) == sent
