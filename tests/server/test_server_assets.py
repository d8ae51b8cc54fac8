"""The local server's asset queries and asynchronous imports, over GraphQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from support import gql

from aiokili.server import LocalServer

ASYNC = (
    "mutation($d: AppendManyAssetsAsynchronouslyData!, $w: ProjectWhere!) "
    "{ data: appendManyAssetsAsynchronously(data: $d, where: $w) { id status } }"
)
NOTIFICATION = (
    "query($w: NotificationWhere!) { n: countNotifications(where: $w) "
    "data: notifications(where: $w, first: 1, skip: 0) { id status } }"
)
COUNT = "query($w: AssetWhere!) { data: countAssets(where: $w) }"
ASSETS = "query($w: AssetWhere!) { data: assets(where: $w) { externalId content jsonContent } }"


def data(server: LocalServer, query: str, **variables: Any) -> Any:
    body = gql(server, query, **variables)
    assert not body.get("errors"), body
    return body["data"]["data"]


def error(server: LocalServer, query: str, **variables: Any) -> tuple[str, str]:
    body = gql(server, query, **variables)
    found = body["errors"][0]
    return str(found["extensions"]["code"]), str(found["message"])


def new_project(server: LocalServer, input_type: str = "VIDEO") -> str:
    create = "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }"
    return str(data(server, create, d={"title": "t", "inputType": input_type})["id"])


def wait(server: LocalServer, notification_id: str) -> str:
    for _ in range(200):
        body = gql(server, NOTIFICATION, w={"id": notification_id})["data"]
        assert body["n"] == 1  # listable at once: the official SDK reads [0]
        status = str(body["data"][0]["status"])
        if status != "PENDING":
            return status
        time.sleep(0.02)
    raise AssertionError("the import never finished")


def test_asynchronous_import_reports_through_its_notification(local_server: LocalServer) -> None:
    project = new_project(local_server)
    started = data(
        local_server,
        ASYNC,
        w={"id": project},
        d={
            "contentArray": ["https://v.example/1.mp4", "https://v.example/2.mp4"],
            "externalIDArray": ["v1", "v2"],
            "uploadType": "NATIVE_VIDEO",
        },
    )
    assert started["status"] in ("PENDING", "SUCCESS")
    assert wait(local_server, started["id"]) == "SUCCESS"
    assert data(local_server, COUNT, w={"project": {"id": project}}) == 2


def test_failed_asynchronous_import_says_failure(local_server: LocalServer) -> None:
    project, other = new_project(local_server), new_project(local_server)
    body = {
        "contentArray": ["https://v.example/1.mp4"],
        "idArray": [f"{project}-taken"],
        "uploadType": "NATIVE_VIDEO",
    }
    assert wait(local_server, data(local_server, ASYNC, w={"id": project}, d=body)["id"]) == (
        "SUCCESS"
    )
    again = data(local_server, ASYNC, w={"id": other}, d={**body, "externalIDArray": ["x"]})
    assert wait(local_server, again["id"]) == "FAILURE"
    assert data(local_server, COUNT, w={"project": {"id": other}}) == 0


def test_layers_become_content_and_json_content(local_server: LocalServer) -> None:
    project = new_project(local_server, "IMAGE")
    layers = [
        [
            {"url": "https://t.example/a.tif", "name": "a"},
            {"url": "https://t.example/b.tif", "name": "b"},
        ]
    ]
    started = data(
        local_server,
        ASYNC,
        w={"id": project},
        d={"multiLayerContentArray": layers, "externalIDArray": ["m"], "uploadType": "TILED_IMAGE"},
    )
    assert wait(local_server, started["id"]) == "SUCCESS"
    [asset] = data(local_server, ASSETS, w={"project": {"id": project}})
    assert asset["content"] == "https://t.example/a.tif"
    assert '"name": "b"' in asset["jsonContent"]


@pytest.mark.parametrize(
    ("where", "d", "code", "named"),
    [
        ({"id": "nope"}, {"contentArray": ["https://a"]}, "NOT_FOUND", "nope"),
        ({}, {"contentArray": ["https://a"]}, "BAD_USER_INPUT", "where.id"),
        (
            None,
            {"multiLayerContentArray": [[{"name": "no url"}]]},
            "BAD_USER_INPUT",
            "multiLayerContentArray",
        ),
        (
            None,
            {"contentArray": ["a", "b"], "externalIDArray": ["x"]},
            "BAD_USER_INPUT",
            "externalIDArray",
        ),
    ],
)
def test_bad_asynchronous_imports_are_refused_at_once(
    local_server: LocalServer, where: Any, d: dict[str, Any], code: str, named: str
) -> None:
    project = new_project(local_server)
    found = error(
        local_server,
        ASYNC,
        w=where if where is not None else {"id": project},
        d={**d, "uploadType": "NATIVE_VIDEO"},
    )
    assert found[0] == code and named in found[1]
    assert data(local_server, COUNT, w={"project": {"id": project}}) == 0


@pytest.mark.parametrize(
    "where",
    [
        {"stepIdAndStatusIn": [{"stepId": "s", "status": "DONE"}]},
        {"stepIdNotIn": ["s"]},
        {"groupNameIn": ["g"]},
        {"assigneeNotIn": ["x"]},
        {"inferenceMarkGte": 0.1},
        {"label": {"labelerIn": ["x"], "consensusMarkGte": 0.1}},
        {"issue": {"status": "OPEN"}},
        {"skipped": True},
        {"externalIdIn": []},
    ],
)
def test_every_asset_where_is_evaluated(local_server: LocalServer, where: dict[str, Any]) -> None:
    project = new_project(local_server)
    expected = 1 if "NotIn" in next(iter(where)) else 0
    append = (
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ data: appendManyAssets(data: $d, where: $w) { id } }"
    )
    data(local_server, append, d={"contentArray": ["https://a"]}, w={"id": project})
    assert data(local_server, COUNT, w={"project": {"id": project}, **where}) == expected
