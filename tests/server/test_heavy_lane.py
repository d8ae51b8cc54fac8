"""Bounded cost: the costliest queries run in the heavy lane, off the server's event loop;
``max_cost`` bounds them. (Latency figures: benchmarks/bench_heavy_query.py.)"""

from __future__ import annotations

import gc
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError

from aiokili.server import LocalServer
from aiokili.server.lane import encode_json
from aiokili.server.limits import DocumentCache, QueryLimits
from aiokili.server.schema import build_schema


def pages(n: int, first: int = 1000) -> str:
    """``n`` aliases of a page of assets (cost 5,001 each at ``first=1000``)."""
    fields = "id externalId status jsonMetadata createdAt"
    aliases = " ".join(f"a{i}: assets(where: $w, first: {first}) {{ {fields} }}" for i in range(n))
    return f"query($w: AssetWhere!) {{ {aliases} }}"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": f"X-API-Key: {server.api_key}"}, timeout=120) as c:
        yield c


def call(http: httpx.Client, server: LocalServer, query: str, **variables: Any) -> Any:
    return http.post(server.url, json={"query": query, "variables": variables})


@pytest.fixture(scope="module")
def project(http: httpx.Client, server: LocalServer) -> str:
    create = 'mutation { createProject(data: {title: "heavy", inputType: TEXT}) { id } }'
    project_id: str = call(http, server, create).json()["data"]["createProject"]["id"]
    append = (
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ appendManyAssets(data: $d, where: $w) { id } }"
    )
    data = {
        "contentArray": [f"t{i}" for i in range(300)],
        "externalIDArray": [f"e{i}" for i in range(300)],
    }
    assert call(http, server, append, d=data, w={"id": project_id}).status_code == 200
    return project_id


def test_documents_at_the_heavy_cost_are_heavy_queries_only() -> None:
    documents = DocumentCache(build_schema(), QueryLimits())
    assert documents.heavy({"query": pages(1)})  # cost 5,001
    assert not documents.heavy({"query": pages(1, first=999)})  # 4,996
    assert not documents.heavy({"query": "{ viewer { id } }"})
    mutation = pages(2).replace("query(", "mutation(")
    assert not documents.heavy({"query": mutation})  # mutations stay in order on the loop
    assert not documents.heavy({"query": "{ nonsense }"})  # refused later, as usual
    two = pages(1) + " query Small { viewer { id } }"
    assert not documents.heavy({"query": two, "operationName": "Small"})


def test_documents_sized_by_a_variable_are_measured_with_each_requests_variables() -> None:
    """Cached documents keep their measure only when no variable gives a ``first``."""
    documents = DocumentCache(build_schema(), QueryLimits())
    fields = "id externalId status jsonMetadata createdAt"
    query = f"query($w: AssetWhere!, $n: Int) {{ assets(where: $w, first: $n) {{ {fields} }} }}"
    assert not documents.heavy({"query": query, "variables": {"n": 999}})  # cost 4,996
    assert documents.heavy({"query": query, "variables": {"n": 1000}})  # 5,001
    assert not documents.heavy({"query": query, "variables": {"n": 10}})
    with pytest.raises(GraphQLError, match="estimated cost 500,001 is over max_cost"):
        documents.parse(query, {"n": 100_000})
    assert documents.parse(query, {"n": 10}) is documents.parse(query, {"n": 20})  # cached
    literal = pages(1)  # first: 1000 written in the document, measured once
    assert documents.heavy({"query": literal}) and documents.heavy({"query": literal})


def test_a_heavy_query_answers_as_the_event_loop_would(
    server: LocalServer, http: httpx.Client, project: str
) -> None:
    where = {"project": {"id": project}}
    heavy = call(http, server, pages(2), w=where)
    light = call(http, server, pages(2, first=300), w=where)  # cost 3,002: on the loop
    assert heavy.status_code == 200 and heavy.headers["content-type"] == "application/json"
    assets = heavy.json()["data"]
    assert [a["externalId"] for a in assets["a0"]] == [f"e{i}" for i in range(300)]
    assert assets == light.json()["data"]  # the same answer from both paths
    assert any(t.name == "aiokili-heavy-lane" for t in threading.enumerate())


def test_a_heavy_query_refused_by_a_resolver_is_a_typed_error(
    server: LocalServer, http: httpx.Client
) -> None:
    response = call(http, server, pages(2), w={"project": {"id": "missing"}})
    assert response.status_code == 400
    (error, *_) = response.json()["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND" and '"missing"' in error["message"]


def test_heavy_work_leaves_the_process_settings_as_they_were(
    server: LocalServer, http: httpx.Client, project: str
) -> None:
    """The garbage collector's thresholds and the GIL's switch interval."""
    before = gc.get_threshold(), sys.getswitchinterval()
    assert call(http, server, pages(3), w={"project": {"id": project}}).status_code == 200
    assert (gc.get_threshold(), sys.getswitchinterval()) == before


def test_more_than_max_cost_is_refused_before_running(
    server: LocalServer, http: httpx.Client, project: str
) -> None:
    response = call(http, server, pages(40), w={"project": {"id": project}})  # 200,040
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "estimated cost 200,040 is over max_cost=200,000" in error["message"]
    assert call(http, server, pages(39), w={"project": {"id": project}}).status_code == 200


def test_the_heavy_lane_stops_with_the_server() -> None:
    before = set(threading.enumerate())
    with LocalServer() as srv, httpx.Client() as http:
        headers = {"Authorization": f"X-API-Key: {srv.api_key}"}
        body = {"query": pages(1), "variables": {"w": {"project": {"id": "x"}}}}
        assert http.post(srv.url, json=body, headers=headers).status_code == 400
        (lane,) = [t for t in set(threading.enumerate()) - before if "heavy-lane" in t.name]
        assert lane.is_alive()
    assert not lane.is_alive()


@pytest.mark.parametrize(
    "value",
    [
        {"data": {"a": [{"id": 1, "x": 'é"\n', "l": [1, {"k": None}], "e": {}, "z": []}]}},
        {"data": None, "errors": [{"message": "m", "path": ["a", 0]}]},
        [],
        "text",
        [1.5, True, None, {"n": {"m": [[], [{}]]}}],
    ],
)
def test_encode_json_is_the_compact_json_of_the_value(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert encode_json(value) == expected
