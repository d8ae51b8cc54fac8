"""Known hostile inputs: each gets a typed error naming the problem, never a server failure.

The whole-schema fuzzer (test_fuzz.py) looks for such inputs at random; these are the ones
found by probes, kept as explicit cases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fuzzing import ONTOLOGY

from aiokili.server import LocalServer

ASSETS = "query($w: AssetWhere!) { assets(where: $w) { id } }"
LABELS = "query($w: LabelWhere!) { labels(where: $w) { id } }"
APPEND_ASSETS = (
    "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
    "{ appendManyAssets(data: $d, where: $w) { id } }"
)
APPEND_LABEL = (
    "mutation($d: AppendToLabelsData!, $a: ID!) "
    "{ appendToLabels(data: $d, where: {id: $a}) { id secondsToLabel } }"
)


class Api:
    def __init__(self, http: httpx.Client, server: LocalServer) -> None:
        self.http, self.server = http, server

    def post(self, query: str, **variables: Any) -> httpx.Response:
        return self.http.post(self.server.url, json={"query": query, "variables": variables})

    def data(self, query: str, **variables: Any) -> Any:
        body = self.post(query, **variables).json()
        assert "errors" not in body, body
        return body["data"]

    def refused(self, query: str, code: str = "BAD_USER_INPUT", **variables: Any) -> str:
        """The message of the one error ``query`` gets, after checking its code."""
        response = self.post(query, **variables)
        assert response.status_code < 500, response.text
        errors = response.json()["errors"]
        assert len(errors) == 1 and errors[0]["extensions"]["code"] == code, errors
        message: str = errors[0]["message"]
        return message


@pytest.fixture(scope="module")
def api(kili_server: LocalServer) -> Iterator[Api]:
    headers = {"Authorization": f"X-API-Key: {kili_server.api_key}"}
    with httpx.Client(headers=headers, timeout=60) as http:
        yield Api(http, kili_server)


@pytest.fixture(scope="module")
def project(api: Api) -> dict[str, str]:
    project_id = api.data(
        "mutation($d: CreateProjectData!) { createProject(data: $d) { id } }",
        d={"title": "hostile", "inputType": "TEXT", "jsonInterface": json.dumps(ONTOLOGY)},
    )["createProject"]["id"]
    asset = api.data(APPEND_ASSETS, d={"contentArray": ["x"]}, w={"id": project_id})
    me = api.data("{ viewer { id } }")["viewer"]["id"]
    return {"id": project_id, "asset": asset["appendManyAssets"][0]["id"], "me": me}


def test_nul_in_a_metadata_key_is_refused(api: Api, project: dict[str, str]) -> None:
    message = api.refused(
        APPEND_ASSETS,
        d={"contentArray": ["x"], "jsonMetadataArray": [json.dumps({"a\x00b": 1})]},
        w={"id": project["id"]},
    )
    assert "jsonMetadataArray[0]" in message and "U+0000" in message
    message = api.refused(ASSETS, w={"project": {"id": project["id"]}, "metadata": {"a\x00b": 1}})
    assert "w.metadata" in message and "U+0000" in message


@pytest.mark.parametrize(
    ("search", "problem"),
    [
        ("(" * 1200 + "JOB_0.A.count > 0" + ")" * 1200, "nest deeper than 32 levels"),
        (" OR ".join(["JOB_0.A.count > 0"] * 1800), "too many terms (at most 200)"),
    ],
    ids=["1200 nested parentheses", "38 KB OR chain"],
)
def test_oversized_category_searches_are_refused(
    api: Api, project: dict[str, str], search: str, problem: str
) -> None:
    message = api.refused(ASSETS, w={"project": {"id": project["id"]}, "label": {"search": search}})
    assert "where.label.search" in message and problem in message
    assert len(message) < 1000  # the search is not echoed in full


def test_a_search_at_the_limits_runs(api: Api, project: dict[str, str]) -> None:
    nested = "(" * 32 + " OR ".join(["JOB_0.A.count > 0"] * 200) + ")" * 32
    found = api.data(LABELS, w={"project": {"id": project["id"]}, "search": nested})
    assert found["labels"] == []


def test_integers_beyond_64_bits_are_refused(api: Api, project: dict[str, str]) -> None:
    big = 2**70
    message = api.refused(ASSETS, w={"project": {"id": project["id"]}, "metadata": {"n": big}})
    assert "beyond 64 bits" in message
    message = api.refused(
        APPEND_ASSETS,
        d={"contentArray": ["x"], "jsonMetadataArray": [f'{{"n": {big}}}']},
        w={"id": project["id"]},
    )
    assert "jsonMetadataArray[0]" in message and "beyond 64 bits" in message
    query = "query($w: AssetWhere!, $s: Int) { assets(where: $w, skip: $s) { id } }"
    message = api.refused(query, w={"project": {"id": project["id"]}}, s=big)
    assert "32-bit" in message
    fits = api.data(ASSETS, w={"project": {"id": project["id"]}, "metadata": {"n": 2**63 - 1}})
    assert fits["assets"] == []


def test_a_json_response_nested_10000_deep_is_refused(api: Api, project: dict[str, str]) -> None:
    deep = '{"JOB_0": ' * 10_000 + "1" + "}" * 10_000
    data = {"authorID": project["me"], "jsonResponse": deep, "labelType": "DEFAULT"}
    message = api.refused(APPEND_LABEL, d=data, a=project["asset"])
    assert "jsonResponse" in message and "deeper than 64 levels" in message


def test_a_json_response_with_categories_5_does_not_break_searches(
    api: Api, project: dict[str, str]
) -> None:
    for response in ({"JOB_0": {"categories": 5}}, {"JOB_0": {"annotations": 5}}):
        data = {"authorID": project["me"], "jsonResponse": json.dumps(response)}
        answer = api.post(APPEND_LABEL, d={**data, "labelType": "DEFAULT"}, a=project["asset"])
        errors = answer.json().get("errors") or []
        assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors), errors
    where = {"project": {"id": project["id"]}, "search": "JOB_0.A.count > 0"}
    assert api.data(LABELS, w=where)["labels"] == []


NOT_JSON = ['{"a": NaN}', '{"a": Infinity}', '{"a": [-Infinity]}']


@pytest.mark.parametrize("text", NOT_JSON)
def test_nan_and_infinity_are_refused_in_every_json_text(
    api: Api, project: dict[str, str], text: str
) -> None:
    constant = text.split(": ")[1].strip("[]}-")
    message = api.refused(
        APPEND_ASSETS,
        d={"contentArray": ["x"], "jsonMetadataArray": [text]},
        w={"id": project["id"]},
    )
    assert "jsonMetadataArray[0] is not valid JSON" in message and constant in message
    data = {"authorID": project["me"], "jsonResponse": text, "labelType": "DEFAULT"}
    assert constant in api.refused(APPEND_LABEL, d=data, a=project["asset"])
    update = (
        "mutation($d: ProjectData!, $w: ProjectWhere!) "
        "{ updatePropertiesInProject(data: $d, where: $w) { id } }"
    )
    message = api.refused(update, d={"jsonInterface": text}, w={"id": project["id"]})
    assert "data.jsonInterface is not valid JSON" in message
    body = '{"query": "{ viewer { id } }", "variables": {"x": ' + text + "}}"
    response = api.http.post(api.server.url, content=body.encode())
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and constant in error["message"]


def test_infinite_float_literals_are_refused(api: Api, project: dict[str, str]) -> None:
    """``1e400`` reads as infinity: refused, so no stored value fails later reads."""
    query = (
        "mutation($a: ID!, $u: ID!) { appendToLabels(data: {authorID: $u, jsonResponse: "
        '"{}", labelType: DEFAULT, secondsToLabel: 1e400}, where: {id: $a}) { id } }'
    )
    message = api.refused(query, "GRAPHQL_VALIDATION_FAILED", a=project["asset"], u=project["me"])
    assert "non-finite" in message
    literal = "query($p: ID!) { assets(where: {project: {id: $p}, metadata: {a: 1e400}}) { id } }"
    assert "inf is not JSON" in api.refused(literal, p=project["id"])


@pytest.mark.parametrize(
    ("query", "where", "name"),
    [
        (ASSETS, {"updatedAtGte": "not a date"}, "where.updatedAtGte"),
        (ASSETS, {"createdAtLte": "2024-13-45"}, "where.createdAtLte"),
        (LABELS, {"createdAtGte": "not a date"}, "where.createdAtGte"),
        (LABELS, {"createdAt": "yesterday"}, "where.createdAt"),
    ],
)
def test_bad_dates_are_refused(
    api: Api, project: dict[str, str], query: str, where: dict[str, str], name: str
) -> None:
    message = api.refused(query, w={"project": {"id": project["id"]}, **where})
    assert message.startswith(f"{name} must be a date like 2024-01-31")
    projects = "query($w: ProjectWhere!) { projects(where: $w) { id } }"
    assert "where.updatedAtGte" in api.refused(projects, w={"updatedAtGte": "not a date"})


def test_dates_in_any_iso_form_filter(api: Api, project: dict[str, str]) -> None:
    where = {"project": {"id": project["id"]}}
    for bound in ("2000-01-01", "2000-01-01T00:00:00Z", "2000-01-01T02:00:00+02:00"):
        assert api.data(ASSETS, w={**where, "updatedAtGte": bound})["assets"]
        assert not api.data(ASSETS, w={**where, "updatedAtLte": bound})["assets"]


def test_date_times_are_checked_and_the_official_form_is_accepted(
    api: Api, project: dict[str, str]
) -> None:
    """DateTime arguments: ISO 8601; the official SDK's ``...+00:00Z`` is accepted."""
    query = "query($d: PluginLogsData!) { getPluginLogs(data: $d) { logType } }"
    data = {"projectId": project["id"], "pluginName": "none"}
    message = api.refused(query, d={**data, "createdAt": "not a date"})
    assert "DateTime must be an ISO 8601 date-time" in message
    answer = api.post(query, d={**data, "createdAt": "2026-12-06T08:06:41.937+00:00Z"}).json()
    assert "DateTime" not in json.dumps(answer)
