"""The local server over plain HTTP: auth, routes, filters, persistence."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiokili.server import LocalServer


def gql(
    server: LocalServer, query: str, variables: dict[str, Any] | None = None, key: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"X-API-Key: {key or server.api_key}"}
    return httpx.post(
        server.url, json={"query": query, "variables": variables or {}}, headers=headers
    )


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "X-API-Key: nope"}])
def test_missing_or_wrong_key_is_401_json(
    local_server: LocalServer, headers: dict[str, str]
) -> None:
    response = httpx.post(local_server.url, json={"query": "{ viewer { id } }"}, headers=headers)
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "KILI_API_KEY" in error["message"] and "nope" not in response.text


def test_version_route_format(local_server: LocalServer) -> None:
    response = httpx.get(local_server.url.replace("/graphql", "/version"))
    assert re.fullmatch(r'\{"version":"[0-9a-f]+"\}', response.text)


def test_api_key_expiry_format(local_server: LocalServer) -> None:
    query = "query($w: ApiKeyWhere!) { data: apiKeys(where: $w, skip: 0, first: 1) { expiryDate } }"
    keys = data(gql(local_server, query, {"w": {"key": local_server.api_key}}))["data"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", keys[0]["expiryDate"])


def _project(server: LocalServer, interface: Any = None) -> str:
    query = "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }"
    d = {"title": "s", "inputType": "TEXT", "jsonInterface": json.dumps(interface or {})}
    return str(data(gql(server, query, {"d": d}))["data"]["id"])


def _job(task: str, *categories: str) -> dict[str, Any]:
    content = {"input": "radio", "categories": {c: {"name": c} for c in categories}}
    return {"mlTask": task, "required": 0, "isChild": False, "content": content}


APPEND = (
    "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
    "{ data: appendManyAssets(data: $d, where: $w) { id } }"
)
COUNT = "query($w: AssetWhere!) { data: countAssets(where: $w) }"


def test_import_errors_name_the_problem_and_write_nothing(local_server: LocalServer) -> None:
    project = _project(local_server)
    bad = gql(
        local_server,
        APPEND,
        {"d": {"contentArray": ["a", "b"], "externalIDArray": ["x"]}, "w": {"id": project}},
    )
    assert "externalIDArray has 1 entries" in bad.json()["errors"][0]["message"]
    missing = gql(local_server, APPEND, {"d": {"contentArray": ["a"]}, "w": {"id": "nope"}})
    error = missing.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND" and "nope" in error["message"]
    assert data(gql(local_server, COUNT, {"w": {"project": {"id": project}}}))["data"] == 0


def test_metadata_filter_grammar_and_paging(local_server: LocalServer) -> None:
    project = _project(local_server)
    n = 250
    meta = [json.dumps({"size": i % 20, "kind": "ab"[i % 2]}) for i in range(n)]
    data(
        gql(
            local_server,
            APPEND,
            {
                "d": {"contentArray": [str(i) for i in range(n)], "jsonMetadataArray": meta},
                "w": {"id": project},
            },
        )
    )
    where = {"project": {"id": project}, "metadata": {"size": [5, 9], "kind": "b"}}
    count = data(gql(local_server, COUNT, {"w": where}))["data"]
    assert count == sum(1 for i in range(n) if 5 <= i % 20 <= 9 and i % 2 == 1)
    listing = (
        "query($w: AssetWhere!, $f: PageSize!, $s: Int!) "
        "{ data: assets(where: $w, first: $f, skip: $s) { content } }"
    )
    pages = [
        data(gql(local_server, listing, {"w": {"project": {"id": project}}, "f": 100, "s": s}))[
            "data"
        ]
        for s in (0, 100, 200)
    ]
    assert [a["content"] for page in pages for a in page] == [str(i) for i in range(n)]


def test_category_search_grammar(local_server: LocalServer) -> None:
    jobs = {
        "JOB": _job("CLASSIFICATION", "A", "B"),
        "BOX": _job("NAMED_ENTITIES_RECOGNITION", "C"),
    }
    project = _project(local_server, {"jobs": jobs})
    (asset,) = data(
        gql(local_server, APPEND, {"d": {"contentArray": ["x"]}, "w": {"id": project}})
    )["data"]
    label = json.dumps(
        {
            "JOB": {"categories": [{"name": "A"}]},
            "BOX": {"annotations": [{"categories": [{"name": "C"}]}] * 3},
        }
    )
    append = (
        "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
        "{ data: appendManyLabels(data: $d, where: $w) { id } }"
    )
    data(
        gql(
            local_server,
            append,
            {
                "d": {
                    "labelType": "DEFAULT",
                    "labelsData": [{"assetID": asset["id"], "jsonResponse": label}],
                },
                "w": {"project": {"id": project}},
            },
        )
    )

    def search_matches(search: str) -> bool:
        count = "query($w: LabelWhere!) { data: countLabels(where: $w) }"
        response = gql(local_server, count, {"w": {"project": {"id": project}, "search": search}})
        if response.json().get("errors"):
            raise ValueError(response.json()["errors"][0]["message"])
        return bool(data(response)["data"])

    assert search_matches("JOB.A.count > 0")
    assert not search_matches("JOB.B.count >= 1")
    assert search_matches("(JOB.B.count > 0 OR JOB.A.count == 1) AND BOX.C.count > 2")
    assert search_matches("JOB.A.count > 0 OR JOB.B.count > 0 AND BOX.C.count > 9")
    with pytest.raises(Exception, match="Invalid search"):
        search_matches("JOB.A.cnt > 0")


def test_gzip_request_body(local_server: LocalServer) -> None:
    body = gzip.compress(json.dumps({"query": "{ viewer { email } }"}).encode())
    response = httpx.post(
        local_server.url,
        content=body,
        headers={
            "Authorization": f"X-API-Key: {local_server.api_key}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert "@" in data(response)["viewer"]["email"]


def test_signed_url_upload_round_trip(local_server: LocalServer) -> None:
    query = "query($p: [String!]) { data: createUploadBucketSignedUrls(filePaths: $p) }"
    (url,) = data(gql(local_server, query, {"p": ["projects/p/assets/a/content"]}))["data"]
    assert "&id=" in url
    assert httpx.put(url.split("&id=")[0], content=b"bytes!").status_code == 200
    headers = {"Authorization": f"X-API-Key: {local_server.api_key}"}
    assert httpx.get(url, headers=headers).content == b"bytes!"  # a PUT URL needs the key to GET
    forged = url.replace("signature=", "signature=0")
    assert httpx.get(forged.split("&id=")[0]).status_code == 403


def test_latency_is_added() -> None:
    with LocalServer(latency_ms=150) as slow:
        start = time.perf_counter()
        httpx.get(slow.url.replace("/graphql", "/version"))
        assert time.perf_counter() - start >= 0.15


def test_file_database_keeps_keys_and_data(tmp_path: Path) -> None:
    db = str(tmp_path / "kili.sqlite3")
    with LocalServer(db=db) as first:
        key = first.api_key
        project = _project(first)
    with LocalServer(db=db) as second:
        # stored keys are hashes: a restart cannot show the first key again, so it prints a
        # new one, and the first still works
        assert second.api_key != key
        query = "query($w: ProjectWhere!) { data: countProjects(where: $w) }"
        for used in (key, second.api_key):
            assert data(gql(second, query, {"w": {"id": project}}, key=used))["data"] == 1
    with LocalServer(db=db, api_key=key) as third:  # --api-key: the same key on every start
        assert third.api_key == key
