"""Signed-URL uploads: nonce keys, method binding, expiry, restart, streamed and capped bodies."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import gql

from aiokili.server import LocalServer

URLS = "query($p: [String!]) { data: createUploadBucketSignedUrls(filePaths: $p) }"
APPEND = (
    "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
    "{ data: appendManyAssets(data: $d, where: $w) { id } }"
)


def upload(server: LocalServer, path: str, content: bytes) -> str:
    """The official SDK's way: PUT to the URL cut at ``&id=``; the full URL is the content."""
    (url,) = gql(server, URLS, p=[path])["data"]["data"]
    assert httpx.put(url.split("&id=")[0], content=content).status_code == 200
    return str(url)


def keyed_get(server: LocalServer, url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"X-API-Key: {server.api_key}"})


def test_a_refused_import_leaves_the_stored_file_untouched(local_server: LocalServer) -> None:
    create = 'mutation { data: createProject(data: {title: "f", inputType: TEXT}) { id } }'
    project = gql(local_server, create)["data"]["data"]["id"]
    asset_id = f"{project}-asset"
    path = f"projects/{project}/assets/{asset_id}/content"
    first = upload(local_server, path, b"first version")
    gql(local_server, APPEND, d={"contentArray": [first], "idArray": [asset_id]}, w={"id": project})
    second = upload(local_server, path, b"second version")  # a retried import of the same asset
    refused = gql(
        local_server, APPEND, d={"contentArray": [second], "idArray": [asset_id]}, w={"id": project}
    )
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert keyed_get(local_server, first).content == b"first version"
    assert first.split("&id=")[0] != second.split("&id=")[0]


def test_signed_urls_are_bound_to_their_method(local_server: LocalServer) -> None:
    url = upload(local_server, "some/file", b"data")
    assert httpx.get(url).status_code == 403  # a PUT URL does not allow GET without the key
    assert keyed_get(local_server, url).content == b"data"
    query = "query($w: AssetWhere!) { data: assets(where: $w) { content } }"
    create = 'mutation { data: createProject(data: {title: "g", inputType: TEXT}) { id } }'
    project = gql(local_server, create)["data"]["data"]["id"]
    gql(local_server, APPEND, d={"contentArray": [url]}, w={"id": project})
    (asset,) = gql(local_server, query, w={"project": {"id": project}})["data"]["data"]
    download = asset["content"]
    assert "method=GET" in download and httpx.get(download).content == b"data"
    assert httpx.put(download.split("&id=")[0], content=b"overwrite").status_code == 403


def test_signed_urls_expire() -> None:
    with LocalServer(signed_url_ttl_s=1) as server:
        (url,) = gql(server, URLS, p=["late/file"])["data"]["data"]
        time.sleep(2.1)
        assert httpx.put(url.split("&id=")[0], content=b"late").status_code == 403


def test_uploads_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "kili.sqlite3")
    with LocalServer(db=db) as first:
        url = upload(first, "kept/file", b"kept bytes")
    assert (tmp_path / "kili.sqlite3.files").is_dir()
    with LocalServer(db=db) as second:
        assert keyed_get(second, url.replace(str(first.port), str(second.port))).content == (
            b"kept bytes"
        )


def test_uploads_over_the_cap_are_413_and_store_nothing() -> None:
    with LocalServer(max_upload_bytes=1000) as server:
        (url,) = gql(server, URLS, p=["big/file"])["data"]["data"]
        target = url.split("&id=")[0]
        assert httpx.put(target, content=b"x" * 5000).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
            yield b"x" * 600
            yield b"x" * 600

        response = httpx.put(target, content=chunks())
        assert response.status_code == 413 and "max_upload_bytes" in response.text
        assert keyed_get(server, url).status_code == 404
        assert not [p for p in server.store.db.files_dir.iterdir() if p.is_file()]
        assert httpx.put(target, content=b"x" * 1000).status_code == 200


def test_small_and_streamed_uploads_store_their_bytes_and_a_retried_put_replaces_them() -> None:
    # up to 1 MiB a body is taken whole and written in one go; above, streamed to disk
    sizes = [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 17]
    with LocalServer() as server:
        for size in sizes:
            content = bytes(i % 251 for i in range(size))
            (url,) = gql(server, URLS, p=[f"sized/{size}"])["data"]["data"]
            target = url.split("&id=")[0]
            assert httpx.put(target, content=b"an attempt whose answer was lost").status_code == 200
            assert httpx.put(target, content=content).status_code == 200  # the client's retry
            got = keyed_get(server, url)
            assert (got.status_code, len(got.content)) == (200, size)
            assert got.content == content
        files = server.store.db.files_dir
        assert not [p for p in files.rglob("*.part")]  # nothing half-written left behind
        assert len([p for p in files.rglob("*") if p.is_file()]) == len(sizes)


@pytest.mark.parametrize("former", ["flat", "two levels"])
def test_uploads_are_in_16_folders_and_blobs_of_a_former_layout_still_serve(
    tmp_path: Path, former: str
) -> None:
    db = str(tmp_path / "kili.sqlite3")
    files = tmp_path / "kili.sqlite3.files"
    with LocalServer(db=db) as first:
        urls = [upload(first, f"file-{i}", f"content {i}".encode()) for i in range(40)]
    blobs = [p for p in files.rglob("*") if p.is_file()]
    assert len(blobs) == 40
    for blob in blobs:  # <files>/a/abcd...
        assert blob.relative_to(files).parts == (blob.name[0], blob.name)
    assert len([p for p in files.iterdir() if p.is_dir()]) <= 16
    for blob in blobs:  # as versions before left them
        if former == "flat":
            blob.rename(files / blob.name)
        else:  # <files>/ab/cd/abcd...
            (files / blob.name[:2] / blob.name[2:4]).mkdir(parents=True, exist_ok=True)
            blob.rename(files / blob.name[:2] / blob.name[2:4] / blob.name)
    with LocalServer(db=db) as server:
        port = str(server.port)
        assert [keyed_get(server, u.replace(str(first.port), port)).content for u in urls] == [
            f"content {i}".encode() for i in range(40)
        ]
    moved = sorted(p.relative_to(files).parts for p in files.rglob("*") if p.is_file())
    assert moved == sorted((b.name[0], b.name) for b in blobs)  # in place, nothing left behind
    assert not [p for p in files.iterdir() if len(p.name) == 2]  # former folders removed


def test_a_clean_stop_checkpoints_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "kili.sqlite3"
    wal = tmp_path / "kili.sqlite3-wal"
    watcher = sqlite3.connect(db)  # another reader: SQLite alone then leaves the WAL as is
    try:
        with LocalServer(db=str(db)) as server:
            create = "mutation($d: CreateProjectData!) { createProject(data: $d) { id } }"
            for i in range(20):
                gql(server, create, d={"title": f"p{i}", "inputType": "TEXT"})
            assert watcher.execute("SELECT count(*) FROM projects").fetchone() == (20,)
            assert wal.stat().st_size > 0
        assert not wal.exists() or wal.stat().st_size == 0
        assert watcher.execute("SELECT count(*) FROM projects").fetchone() == (20,)
    finally:
        watcher.close()
