"""The GraphQL endpoint over HTTP: bodies, limits, errors, logging, concurrency, introspection."""

from __future__ import annotations

import gzip
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest

from aiokili.server import LocalServer

KEY = "http-key"  # of the servers tests start for themselves


@pytest.fixture
def server(kili_server: LocalServer) -> LocalServer:
    """The test session's local server (aiokili's pytest plugin)."""
    return kili_server


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}
    with httpx.Client(headers=headers, timeout=60) as http:
        yield http


def post(http: httpx.Client, server: LocalServer, query: str, **variables: Any) -> httpx.Response:
    return http.post(server.url, json={"query": query, "variables": variables})


def error(response: httpx.Response) -> dict[str, Any]:
    first: dict[str, Any] = response.json()["errors"][0]
    return first


BAD_BODIES = {
    "bad gzip": (b"\x1f\x8b\x08\x00not really gzip", {"Content-Encoding": "gzip"}),
    "invalid JSON": (b'{"query": ', {}),
    "nested 5000 deep": (b"[" * 5000 + b"]" * 5000, {}),
    "lone surrogate": (b'{"query": "{ viewer { id } }", "variables": {"x": "\\ud800"}}', {}),
    "not an object": (b'["{ viewer { id } }"]', {}),
    "missing query": (b'{"variables": {}}', {}),
    "invalid UTF-8": (b'{"query": "\xff"}', {}),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_are_400_json_and_keep_the_connection(
    server: LocalServer, client: httpx.Client, name: str
) -> None:
    body, headers = BAD_BODIES[name]
    response = client.post(server.url, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert error(response)["extensions"]["code"] == "BAD_REQUEST"
    after = post(client, server, "{ viewer { email } }")  # same keep-alive connection
    assert after.status_code == 200 and after.json()["data"]["viewer"]["email"]


def test_gzip_bomb_is_refused_early(server: LocalServer, client: httpx.Client) -> None:
    bomb = gzip.compress(b" " * (512 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 600 * 1024
    response = client.post(server.url, content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert error(response)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "max_body_bytes" in error(response)["message"]


def test_gzip_body_is_accepted(server: LocalServer, client: httpx.Client) -> None:
    body = gzip.compress(b'{"query": "{ viewer { email } }"}')
    response = client.post(server.url, content=body, headers={"Content-Encoding": "gzip"})
    assert response.json()["data"]["viewer"]["email"]


def test_oversized_body_is_413() -> None:
    with LocalServer(api_key=KEY, max_body_bytes=1000) as small:
        response = httpx.post(small.url, json={"query": "{ viewer { id } }", "x": "y" * 2000},
                              headers={"Authorization": f"X-API-Key: {KEY}"})  # fmt: skip
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("query", "code", "limit"),
    [
        ("{ viewer { " + "id " * 3000 + "} }", "QUERY_TOO_COMPLEX", "max_fields"),
        ("{ viewer { " + "organization { id } " * 700 + "} }", "QUERY_TOO_COMPLEX", "max_fields"),
        ("{ labels(where: {}) { " + "labelOf { labels { " * 15 + "id" + " } }" * 15 + " } }",
         "QUERY_TOO_DEEP", "max_depth"),
        ("{ labels(where: {}, first: 1000) { " + "labelOf { labels { " * 5 + "id" + " } }" * 5
         + " } }", "QUERY_TOO_COMPLEX", "max_cost"),
        ("{ viewer { " + "id, " * 20_000 + "} }", "QUERY_TOO_COMPLEX", "max_tokens"),
    ],
    ids=["repeated", "repeated-nested", "deep", "costly", "tokens"],
)  # fmt: skip
def test_costly_documents_are_refused_fast(
    server: LocalServer, client: httpx.Client, query: str, code: str, limit: str
) -> None:
    start = time.perf_counter()
    response = post(client, server, query)
    assert time.perf_counter() - start < 5  # minutes before the limits
    assert response.status_code == 400
    assert error(response)["extensions"]["code"] == code
    assert limit in error(response)["message"]


def test_introspection_passes_the_limits_and_hides_directive_definition(
    server: LocalServer, client: httpx.Client
) -> None:
    query = graphql.get_introspection_query(
        descriptions=True, directive_is_repeatable=True, schema_description=True,
        input_value_deprecation=True,
    )  # fmt: skip
    result = post(client, server, query).json()
    assert not result.get("errors"), result
    (deprecated,) = [
        d for d in result["data"]["__schema"]["directives"] if d["name"] == "deprecated"
    ]
    assert deprecated["locations"] == [
        "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE",
    ]  # fmt: skip
    # what the official SDK (graphql-core 3.2.6, no DIRECTIVE_DEFINITION member) does with it
    schema = graphql.build_client_schema(result["data"])
    assert schema.get_type("Label") is not None


def test_user_mistakes_are_bad_user_input(server: LocalServer, client: httpx.Client) -> None:
    listing = "query($f: PageSize) { data: projects(where: {}, first: $f) { id } }"
    literal = "{ data: projects(where: {}, first: 5000) { id } }"
    create = 'mutation { data: createProject(data: {title: "t", inputType: TEXT}) { id } }'
    project = post(client, server, create).json()["data"]["data"]["id"]
    existing = (
        f'query($e: [String!]!) {{ data: filterExistingAssets(projectID: "{project}", '
        "externalIDs: $e) }"
    )
    strictly = "query($w: AssetWhere!) { data: countAssets(where: $w) }"
    labels = "query($w: LabelWhere!) { data: countLabels(where: $w) }"
    cases = [
        (post(client, server, listing, f=5000), "PageSize"),
        (post(client, server, literal), "PageSize"),
        (post(client, server, strictly, w={"metadata": "big"}), "where.metadata"),
        (post(client, server, existing, e=[str(i) for i in range(1500)]), "externalIDs"),
        (post(client, server, strictly, w={"externalIdStrictlyIn": ["x"] * 1500}),
         "where.externalIdStrictlyIn"),
        (post(client, server, labels, w={"search": "JOB.A.cnt > 0"}), "where.search"),
    ]  # fmt: skip
    for response, argument in cases:
        assert error(response)["extensions"]["code"] == "BAD_USER_INPUT", response.text
        assert argument in error(response)["message"], response.text


def test_unexpected_errors_are_generic_and_logged_once(
    server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def broken(*_: Any) -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(server.store.projects, "count", broken)
    with caplog.at_level(logging.ERROR, logger="aiokili.server"):
        response = post(client, server, "{ countProjects(where: {}) }")
    assert error(response)["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in response.text
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "secret internals" in caplog.text


def test_user_errors_log_no_traceback(
    server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aiokili.server"):
        post(client, server, '{ countAssets(where: {project: {id: "nope"}}) }')
    assert not [r for r in caplog.records if r.exc_info]


def test_one_log_line_per_request(
    server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aiokili.server"):
        me = post(
            client,
            server,
            "query Me($w: ProjectWhere!) { countProjects(where: $w) }",
            w={"searchQuery": "s3cr3t"},
        )
        post(client, server, '{ countAssets(where: {project: {id: "nope"}}) }')
    lines = [r.getMessage() for r in caplog.records if r.name == "aiokili.server"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("graphql Me status=200 ")
    assert lines[0].endswith(f"errors=0 id={me.headers['x-request-id']}")  # the answer's id
    assert "ms" in lines[0] and lines[1].startswith("graphql countAssets status=400")
    assert re.search(r" errors=1 id=req_[0-9a-f]{16}$", lines[1])
    assert not any(server.api_key in line or "s3cr3t" in line for line in lines)


def test_missing_root_fields_are_not_implemented(server: LocalServer, client: httpx.Client) -> None:
    for query, name in [("{ countPlugins(where: {}) }", "countPlugins"),
                        ('mutation { deleteModel(id: "m") }', "deleteModel")]:  # fmt: skip
        found = error(post(client, server, query))
        assert found["extensions"]["code"] == "NOT_IMPLEMENTED" and name in found["message"]


def test_a_slow_request_does_not_stall_the_others(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    original = server.store.projects.count

    def slow(where: Any, *rest: Any) -> int:  # runs in a worker thread, like a big SQL scan
        entered.set()
        release.wait(30)
        return original(where, *rest)

    monkeypatch.setattr(server.store.projects, "count", slow)
    done: list[str] = []
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}

    def slow_request() -> None:
        httpx.post(server.url, json={"query": "{ countProjects(where: {}) }"}, headers=headers,
                   timeout=60)  # fmt: skip
        done.append("slow")

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert entered.wait(30)  # the slow request is in flight, holding its worker thread
    version = httpx.get(server.url.replace("/graphql", "/version"), timeout=10)
    viewer = httpx.post(
        server.url, json={"query": "{ viewer { id } }"}, headers=headers, timeout=10
    )
    count = httpx.post(server.url, json={"query": "{ countAssets(where: {}) }"}, headers=headers,
                       timeout=10)  # fmt: skip
    done.append("others")
    release.set()
    thread.join(30)
    assert done == ["others", "slow"]
    assert version.status_code == viewer.status_code == count.status_code == 200


def test_a_failed_background_import_is_logged_and_tells_the_client_why(
    server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def broken(*_: Any) -> None:
        raise RuntimeError("secret internals")

    project = post(client, server, "mutation { data: createProject(data: {title: \"bg\", "
                   'inputType: IMAGE, jsonInterface: "{}"}) { id } }').json()  # fmt: skip
    where = {"id": project["data"]["data"]["id"]}
    monkeypatch.setattr(server.store.assets, "append", broken)
    with caplog.at_level(logging.ERROR, logger="aiokili.server"):
        started = post(client, server, "mutation($d: AppendManyAssetsAsynchronouslyData!, "
                       "$w: ProjectWhere!) { data: appendManyAssetsAsynchronously(data: $d, "
                       "where: $w) { id } }", w=where,
                       d={"contentArray": ["https://a/1.tif"], "uploadType": "TILED_IMAGE"})  # fmt: skip
        notification = {"id": started.json()["data"]["data"]["id"]}
        query = "query($w: NotificationWhere!) { notifications(where: $w) { status message } }"
        for _ in range(600):  # the import runs in the background: until it is done
            [found] = post(client, server, query, w=notification).json()["data"]["notifications"]
            if found["status"] != "PENDING":
                break
            time.sleep(0.05)
    assert found == {"status": "FAILURE", "message": "Internal error: see the server's log."}
    [logged] = [r for r in caplog.records if r.exc_info]  # logged once, with its traceback
    assert "secret internals" in caplog.text and logged.name == "aiokili.server"
    assert "secret" not in capsys.readouterr().err  # nothing printed (was print(repr))


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_client_leaving_mid_request_logs_no_traceback(
    server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    url = httpx.URL(server.url)
    target = url.raw_path.decode()  # POST: the GraphQL endpoint; PUT: an upload URL
    if method == "PUT":
        signed = post(client, server, '{ data: createUploadBucketSignedUrls(filePaths: ["a"]) }')
        target = httpx.URL(signed.json()["data"]["data"][0]).raw_path.decode()
    head = (f"{method} {target} HTTP/1.1\r\nHost: {url.host}\r\nContent-Length: 100000\r\n"
            f"Authorization: X-API-Key: {server.api_key}\r\n\r\n")  # fmt: skip
    with caplog.at_level(logging.INFO):
        with socket.create_connection((url.host, url.port)) as conn:
            conn.sendall(head.encode() + b'{"query": "{ viewer')  # then leaves
        for _ in range(200):  # until the server has noticed (before: a traceback instead)
            if "client disconnected" in caplog.text:
                break
            time.sleep(0.05)
    assert "client disconnected before sending the whole" in caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text
