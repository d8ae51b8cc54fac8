"""Whole-schema fuzzing of the local server: every answer is a typed GraphQL answer.

hypothesis-graphql generates queries and mutations over all of ``schema.graphql`` (valid
ones and ones with one violation), sent with literal arguments, with the arguments as
variables, or with a variable replaced by arbitrary JSON. No answer may be a 5xx, an
``INTERNAL_SERVER_ERROR`` or an error without a message and an ``extensions.code``, and
the server logs no error. ``AIOKILI_FUZZ_EXAMPLES`` sets the number of examples (default
300, a CI-sized run; e.g. 20000 for a long one, which also draws a new random seed).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
from fuzzing import ONTOLOGY, Request, documents, hoisted, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiokili.server import LocalServer

EXAMPLES = int(os.environ.get("AIOKILI_FUZZ_EXAMPLES") or 300)


class _Records(logging.Handler):
    """Keeps the server's log records of level WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        found = [self.format(r) for r in self.records]
        self.records.clear()
        return found


_LOGGERS = ("aiokili.server", "uvicorn", "uvicorn.error", "starlette", "ariadne")


@pytest.fixture(scope="module")
def records() -> Iterator[_Records]:
    handler = _Records()
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in _LOGGERS:
        logging.getLogger(name).removeHandler(handler)


@pytest.fixture(scope="module")
def server(records: _Records) -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: LocalServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}
    with httpx.Client(headers=headers, timeout=120) as client:
        yield client


class Seeds:
    """Stored objects (a project, its assets and labels, the user) whose ids the fuzzer's
    ``ID`` values name more often than not; made again when a fuzzed mutation deleted them."""

    def __init__(self, http: httpx.Client, server: LocalServer) -> None:
        self.http, self.server = http, server
        self.project = ""
        self.ids: list[str] = []

    def current(self) -> list[str]:
        if self.project:
            found = self._call(
                "query($w: AssetWhere!) { countAssets(where: $w) }",
                w={"project": {"id": self.project}},
            )
            if found.get("countAssets") == 3:
                return self.ids
        self.ids = self._seed()
        return self.ids

    def _call(self, query: str, **variables: Any) -> Any:
        body = {"query": query, "variables": variables}
        answer = self.http.post(self.server.url, json=body).json()
        return answer.get("data") or {}

    def _seed(self) -> list[str]:
        me = self._call("{ viewer { id } }")["viewer"]["id"]
        self.project = self._call(
            "mutation($d: CreateProjectData!) { createProject(data: $d) { id } }",
            d={"title": "fuzzed", "inputType": "TEXT", "jsonInterface": json.dumps(ONTOLOGY)},
        )["createProject"]["id"]
        assets = [f"{self.project}-{i}" for i in range(3)]
        self._call(
            "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
            "{ appendManyAssets(data: $d, where: $w) { id } }",
            d={"contentArray": ["a", "b", "c"], "idArray": assets, "externalIDArray": assets},
            w={"id": self.project},
        )
        response = json.dumps({"JOB_0": {"categories": [{"name": "A"}]}})
        labels = self._call(
            "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
            "{ appendManyLabels(data: $d, where: $w) { id } }",
            d={
                "labelType": "DEFAULT",
                "labelsData": [{"assetID": a, "jsonResponse": response} for a in assets],
            },
            w={"project": {"id": self.project}},
        )["appendManyLabels"]
        return [me, self.project, *assets, *(label["id"] for label in labels)]


@pytest.fixture(scope="module")
def seeds(http: httpx.Client, server: LocalServer) -> Seeds:
    return Seeds(http, server)


def check_answer(response: httpx.Response, sent: dict[str, Any]) -> None:
    """A typed answer: no 5xx, JSON, every error with a message and a code."""
    context = f"sent {json.dumps(sent)[:2000]}\ngot {response.status_code} {response.text[:2000]}"
    assert response.status_code < 500, context
    body = response.json()
    assert isinstance(body, dict), context
    for error in body.get("errors") or ():
        assert isinstance(error.get("message"), str) and error["message"], context
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str) and code, context
        assert code != "INTERNAL_SERVER_ERROR", context
    if response.status_code == 200:
        assert "data" in body, context


class Tally:
    requests = 0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 300,  # the CI run is the same every time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_requests_get_typed_answers(
    data: st.DataObject,
    server: LocalServer,
    http: httpx.Client,
    seeds: Seeds,
    records: _Records,
) -> None:
    document = data.draw(documents(seeds.current()), label="document")
    how = data.draw(st.sampled_from(["literal", "variables", "bad variable"]), label="how")
    request = Request(graphql.print_ast(document))
    if how != "literal":
        request = hoisted(document)
        if how == "bad variable":
            mutate(request.variables, data)
    body = request.body()
    Tally.requests += 1
    response = http.post(server.url, content=json.dumps(body).encode(), headers=_JSON)
    check_answer(response, body)
    assert records.take() == [], f"the server logged errors for {json.dumps(body)[:2000]}"


_JSON = {"Content-Type": "application/json"}


def test_zz_fuzzer_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """How many requests the fuzzer sent (printed with ``-s``; at least one per example)."""
    with capsys.disabled():
        print(f"\nfuzzer: {Tally.requests} requests sent")
    if Tally.requests == 0:
        pytest.skip("the fuzzer did not run in this session")
    assert Tally.requests >= EXAMPLES
