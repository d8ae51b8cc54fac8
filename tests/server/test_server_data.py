"""Data semantics over HTTP: imports, filters in SQL, not found, latest labels, paging."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from support import gql

from aiokili.server import LocalServer

APPEND = (
    "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
    "{ data: appendManyAssets(data: $d, where: $w) { id externalId } }"
)
LABEL = (
    "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
    "{ data: appendManyLabels(data: $d, where: $w) { id } }"
)
COUNT_ASSETS = "query($w: AssetWhere!) { data: countAssets(where: $w) }"
ASSETS = "query($w: AssetWhere!, $s: Int) { data: assets(where: $w, skip: $s) { externalId } }"
COUNT_LABELS = "query($w: LabelWhere!) { data: countLabels(where: $w) }"
LABELS = (
    "query($w: LabelWhere!, $s: Int, $f: PageSize) { data: labels(where: $w, skip: $s, "
    "first: $f) { id } }"
)


def data(server: LocalServer, query: str, **variables: Any) -> Any:
    body = gql(server, query, **variables)
    assert not body.get("errors"), body
    return body["data"]["data"]


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


INTERFACE = json.dumps(
    {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "required": 0, "isChild": False,
                      "content": {"input": "radio", "categories": {"A": {}, "B": {}}}}}}
)  # fmt: skip


def new_project(server: LocalServer) -> str:
    create = "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }"
    d = {"title": "t", "inputType": "TEXT", "jsonInterface": INTERFACE}
    return str(data(server, create, d=d)["id"])


def test_concurrent_imports_keep_external_ids_unique(local_server: LocalServer) -> None:
    project = new_project(local_server)
    created: list[int] = []

    def append(offset: int) -> None:
        ids = [f"e{i}" for i in range(offset, offset + 1000)]
        result = data(
            local_server, APPEND, d={"contentArray": ids, "externalIDArray": ids}, w={"id": project}
        )
        created.append(len(result))

    threads = [threading.Thread(target=append, args=(o,)) for o in (0, 500, 1000, 1500)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(created) == 2500
    assert data(local_server, COUNT_ASSETS, w={"project": {"id": project}}) == 2500


def test_import_lists_only_created_assets_and_keeps_given_ids(local_server: LocalServer) -> None:
    project = new_project(local_server)
    data(
        local_server,
        APPEND,
        d={"contentArray": ["a"], "externalIDArray": ["x1"]},
        w={"id": project},
    )
    result = data(
        local_server,
        APPEND,
        w={"id": project},
        d={
            "contentArray": ["a", "b"],
            "externalIDArray": ["x1", "x2"],
            "idArray": [f"{project}-1", f"{project}-2"],
        },
    )
    assert result == [{"id": f"{project}-2", "externalId": "x2"}]


@pytest.mark.parametrize("ids", [["d1", "d1"], ["taken", "fresh"]])
def test_bad_id_array_refuses_everything(local_server: LocalServer, ids: list[str]) -> None:
    project = new_project(local_server)
    ids = [f"{project}-{i}" for i in ids]
    data(
        local_server,
        APPEND,
        d={"contentArray": ["a"], "externalIDArray": ["t"], "idArray": [f"{project}-taken"]},
        w={"id": project},
    )
    body = gql(
        local_server,
        APPEND,
        w={"id": project},
        d={"contentArray": ["a", "b"], "externalIDArray": ["n1", "n2"], "idArray": ids},
    )
    assert code(body) == "BAD_USER_INPUT" and "idArray" in body["errors"][0]["message"]
    assert data(local_server, COUNT_ASSETS, w={"project": {"id": project}}) == 1


def test_unknown_project_is_not_found_when_listing(local_server: LocalServer) -> None:
    for query, where in [
        (COUNT_ASSETS, {"project": {"id": "xyz"}}),
        (ASSETS, {"project": {"id": "xyz"}}),
        (COUNT_LABELS, {"project": {"id": "xyz"}}),
        (LABELS, {"project": {"id": "xyz"}}),
    ]:
        body = gql(local_server, query, w=where)
        assert (
            code(body) == "NOT_FOUND" and 'Project "xyz" not found' in body["errors"][0]["message"]
        )
    projects = "query($w: ProjectWhere!) { data: projects(where: $w) { id } }"
    assert data(local_server, projects, w={"id": "xyz"}) == []
    assert data(local_server, '{ data: countProjects(where: {id: "xyz"}) }') == 0


@pytest.fixture(scope="module")
def filtered(local_server: LocalServer) -> str:
    """60 assets with metadata; the viewer's labels on the first 30 (A or B), predictions on all."""
    project = new_project(local_server)
    n = 60
    meta = [
        json.dumps({"size": i % 20, "kind": "ab"[i % 2], "ok": i % 3 == 0, "odd": 'x"y'})
        for i in range(n)
    ]
    assets = data(
        local_server,
        APPEND,
        w={"id": project},
        d={
            "contentArray": [str(i) for i in range(n)],
            "externalIDArray": [f"a{i:02d}" for i in range(n)],
            "jsonMetadataArray": meta,
        },
    )
    answers = [json.dumps({"JOB": {"categories": [{"name": "AB"[i % 2]}]}}) for i in range(30)]
    data(
        local_server,
        LABEL,
        w={"project": {"id": project}},
        d={
            "labelType": "DEFAULT",
            "labelsData": [
                {"assetID": a["id"], "jsonResponse": r}
                for a, r in zip(assets, answers, strict=False)
            ],
        },
    )
    data(
        local_server,
        LABEL,
        w={"project": {"id": project}},
        d={
            "labelType": "PREDICTION",
            "labelsData": [
                {"assetID": a["id"], "jsonResponse": "{}", "modelName": "m"} for a in assets
            ],
        },
    )
    return project


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"kind": "b"}, 30),
        ({"size": [5, 9]}, 15),
        ({"size": [5, 9], "kind": "b"}, 9),
        ({"kind": ["a", "z"]}, 30),
        ({"ok": True}, 20),
        ({"size": 3}, 3),
        ({"odd": 'x"y'}, 60),
        ({"size": "3"}, 0),
        ({"missing": None}, 0),
    ],
)
def test_metadata_filter_in_sql(
    local_server: LocalServer, filtered: str, metadata: dict[str, Any], expected: int
) -> None:
    where = {"project": {"id": filtered}, "metadata": metadata}
    assert data(local_server, COUNT_ASSETS, w=where) == expected
    assert len(data(local_server, ASSETS, w=where)) == expected


def test_author_and_search_filters_in_sql(local_server: LocalServer, filtered: str) -> None:
    viewer = data(local_server, "{ data: viewer { id email firstname lastname } }")
    names = [
        viewer["id"],
        viewer["email"],
        viewer["firstname"],
        viewer["lastname"],
        f"{viewer['firstname']} {viewer['lastname']}",
    ]
    for name in names:
        where = {"project": {"id": filtered}, "authorIn": [name]}
        assert data(local_server, COUNT_LABELS, w=where) == 90
    assert (
        data(local_server, COUNT_LABELS, w={"project": {"id": filtered}, "authorIn": ["Bob"]}) == 0
    )
    search = {"project": {"id": filtered}, "search": "JOB.A.count > 0 OR JOB.B.count >= 1"}
    assert data(local_server, COUNT_LABELS, w=search) == 30
    asset_where = {
        "project": {"id": filtered},
        "label": {"search": "JOB.B.count == 1", "authorIn": [viewer["email"]]},
    }
    assert data(local_server, COUNT_ASSETS, w=asset_where) == 15
    assert len(data(local_server, ASSETS, w=asset_where)) == 15


def test_latest_label_ignores_predictions(local_server: LocalServer, filtered: str) -> None:
    query = (
        "query($w: AssetWhere!) { data: assets(where: $w, first: 100) { externalId "
        "latestLabel { labelType } latestLabels { labelType } labels { labelType } } }"
    )
    assets = data(local_server, query, w={"project": {"id": filtered}})
    assert [a["latestLabel"]["labelType"] for a in assets[:30]] == ["DEFAULT"] * 30
    assert all(a["latestLabel"] is None and a["latestLabels"] == [] for a in assets[30:])
    assert assets[0]["labels"] == [{"labelType": "DEFAULT"}, {"labelType": "PREDICTION"}]


def test_offset_pages_stay_right_across_writes(local_server: LocalServer, filtered: str) -> None:
    where = {"project": {"id": filtered}}
    everything = [lb["id"] for lb in data(local_server, LABELS, w=where, s=0, f=1000)]
    pages = [
        lb["id"] for s in range(0, 90, 7) for lb in data(local_server, LABELS, w=where, s=s, f=7)
    ]
    assert pages == everything
    delete = "mutation($i: [ID!]!) { data: deleteLabels(ids: $i) }"
    deleted = data(local_server, delete, i=everything[33:35])  # predictions: the deletable type
    assert deleted == everything[33:35]
    after = [
        lb["id"] for s in range(0, 90, 7) for lb in data(local_server, LABELS, w=where, s=s, f=7)
    ]
    assert after == everything[:33] + everything[35:]
