"""Fault injection and the rate limit of the local server, seen from a plain HTTP client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from aiokili.server import LocalServer
from aiokili.server.faults import FaultSpec, FaultSpecError, RateLimit

COUNT = {"query": "query CountProjects { countProjects(where: {}) }"}
CASES = {  # an operation of its own per fault, all on one server
    "Fail500": "500=1",
    "Fail502": "502=1",
    "Fail503": "503=1",
    "Fail503Later": "503=1:2s",
    "Fail429": "429=1",
    "Fail429Now": "429=1:0",
    "Slow": "slow=1:10ms",
    "Malformed": "malformed=1",
    "Reset": "reset=1",
    "ResetAfter": "reset_after=1",
    "Truncated": "truncated=1",
}


def create(operation: str) -> dict[str, object]:
    """A createProject request named ``operation``."""
    return {
        "query": f"mutation {operation}($data: CreateProjectData!) {{ createProject(data: "
        "$data) { id } }",
        "variables": {"data": {"title": "t", "inputType": "TEXT", "jsonInterface": "{}"}},
    }


def post(
    server: LocalServer,
    body: Mapping[str, object],
    operation: str,
    http: httpx.Client | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}
    payload = {**body, "operationName": operation}
    if http is not None:
        return http.post(server.url, json=payload, headers=headers)
    return httpx.post(server.url, json=payload, headers=headers)


def summary(server: LocalServer) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(server.url.split("/api/")[0] + "/faults").json()
    return found


@pytest.fixture
def serve() -> Iterator[type[LocalServer]]:
    servers: list[LocalServer] = []

    class Started(LocalServer):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            servers.append(self.start())

    yield Started
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def faulty() -> Iterator[LocalServer]:
    with LocalServer(faults="; ".join(f"{op}: {rule}" for op, rule in CASES.items())) as server:
        yield server


def projects(server: LocalServer) -> int:
    server.faults.enabled = False
    try:
        count: int = post(server, COUNT, "CountProjects").json()["data"]["countProjects"]
        return count
    finally:
        server.faults.enabled = True


@pytest.mark.parametrize(
    ("operation", "status", "retry_after", "created"),
    [
        ("Fail500", 500, None, 0),
        ("Fail502", 502, None, 0),
        ("Fail503", 503, None, 0),
        ("Fail503Later", 503, "2", 0),
        ("Fail429", 429, "1", 0),
        ("Fail429Now", 429, "0", 0),
        ("Slow", 200, None, 1),
        ("Malformed", 200, None, 1),
    ],
)
def test_answered_faults(
    faulty: LocalServer, operation: str, status: int, retry_after: str | None, created: int
) -> None:
    before = projects(faulty)
    answer = post(faulty, create(operation), operation)
    assert answer.status_code == status
    assert answer.headers.get("retry-after") == retry_after
    assert answer.headers["x-request-id"].startswith("req_")
    assert projects(faulty) == before + created  # refusals run nothing; slow, malformed do
    if status >= 400:  # an error body that is not a GraphQL result: clients may resend it
        assert set(answer.json()) == {"message", "extensions"}
    if operation == "Malformed":
        assert answer.content.startswith(b'{"data"') and not answer.content.endswith(b"}")
    kind = CASES[operation].split("=")[0]
    assert summary(faulty)["by_operation"][operation] == {kind: 1}


@pytest.mark.parametrize(
    ("operation", "created"), [("Reset", 0), ("ResetAfter", 1), ("Truncated", 1)]
)
def test_dropped_connections(faulty: LocalServer, operation: str, created: int) -> None:
    before = projects(faulty)
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
        post(faulty, create(operation), operation)
    assert projects(faulty) == before + created  # after the resolver: a committed answer lost
    assert post(faulty, COUNT, "CountProjects").status_code == 200  # other operations: none
    kind = CASES[operation].split("=")[0]
    assert summary(faulty)["by_operation"][operation] == {kind: 1}


def test_rates_and_the_seed_make_the_same_faults_in_every_run(serve: type[LocalServer]) -> None:
    spec = "503=0.2,slow=0.1:1ms; seed=3"
    runs = []
    for _ in range(2):
        server = serve(faults=spec)
        with httpx.Client() as http:
            runs.append(
                [post(server, COUNT, "CountProjects", http).status_code for _ in range(100)]
            )
        assert summary(server)["seed"] == 3 and summary(server)["requests"] == 100
    assert runs[0] == runs[1]
    assert 10 <= Counter(runs[0])[503] <= 30  # about 20% of 100
    other = FaultSpec.parse("503=0.2; seed=4")
    assert [FaultSpec.parse(spec).draw("X", n) for n in range(50)] != [
        other.draw("X", n) for n in range(50)
    ]


def test_an_operation_section_overrides_the_star_rules() -> None:
    spec = FaultSpec.parse("503=0.1,slow=0.2; AppendManyLabels|DeleteProject: 503=0.3; Viewer: off")
    assert {(r.kind, r.rate) for r in spec.rules_for("AppendManyLabels")} == {
        ("503", 0.3),
        ("slow", 0.2),
    }
    assert {(r.kind, r.rate) for r in spec.rules_for("CountAssets")} == {
        ("503", 0.1),
        ("slow", 0.2),
    }
    assert spec.rules_for("Viewer") == ()
    assert spec.rules_for("DeleteProject")[0].param is None  # a 503 says no Retry-After
    assert FaultSpec.parse("429=0.1").rules_for("X")[0].param == 1.0  # a 429 says 1 s


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("503", "faults section 1 ('503'): '503' is not KIND=RATE; KIND is one of 500, 502"),
        ("404=0.1", "'404=0.1' is not KIND=RATE"),
        ("503=5%", "the rate of 503 is '5%': give a share between 0 and 1"),
        ("503=1.5", "the rate of 503 is '1.5'"),
        ("reset=0.1:2s", "reset takes no ':' value"),
        ("slow=0.1:soon", "'soon' is not a duration: write e.g. 200ms, 1.5s or 2"),
        ("503=0.1; seed=x", "faults section 2 ('seed=x'): the seed is a whole number"),
        ("Create Project: 503=0.1", "'Create Project' is not an operation name"),
        ("503=0.6; X: 500=0.5", "the rates of X add up to 1.1, over 1: lower them"),
        ("X:", "no KIND=RATE (or off) after the operation names"),
    ],
)
def test_a_bad_spec_names_the_part_to_fix(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        LocalServer(faults=spec)
    assert message in str(info.value)


@pytest.mark.parametrize("limit", ["600", "600/day", "0/min", "many/s"])
def test_a_bad_rate_limit_says_how_to_write_one(limit: str) -> None:
    with pytest.raises(FaultSpecError, match=r"write REQUESTS/PERIOD .* e\.g\. 600/min"):
        RateLimit.parse(limit)


def test_rate_limit_per_api_key(serve: type[LocalServer]) -> None:
    server = serve(rate_limit="1/h")  # slow enough that no refill happens during the test
    statuses = [post(server, COUNT, "CountProjects").status_code for _ in range(3)]
    assert statuses == [200, 429, 429]  # a burst of one (at least one), then refused
    refused = post(server, COUNT, "CountProjects")
    assert 3000 < int(refused.headers["retry-after"]) <= 3600 and refused.headers["x-request-id"]
    other = server.create_user("other@rate.test")  # another key has its own budget
    answer = httpx.post(
        server.url,
        json={**COUNT, "operationName": "CountProjects"},
        headers={"Authorization": f"X-API-Key: {other.api_key}"},
    )
    assert answer.status_code == 200
    assert summary(server)["rate_limited"] == 3
    assert server.faults.summary_text() == (
        "Rate limit (1/h per API key): 3 requests refused with HTTP 429."
    )


def test_every_answer_has_its_own_request_id(serve: type[LocalServer]) -> None:
    server = serve()
    ids = {post(server, COUNT, "CountProjects").headers["x-request-id"] for _ in range(3)}
    health = httpx.get(server.url.split("/api/")[0] + "/healthz")
    assert len(ids) == 3 and health.headers["x-request-id"] not in ids
    assert summary(server)["faults"] == 0 and summary(server)["spec"] is None


def test_summary_text(serve: type[LocalServer]) -> None:
    server = serve(faults="CountProjects: 503=1; seed=9")
    post(server, COUNT, "CountProjects")
    post(server, create("CreateProject"), "CreateProject")
    assert server.faults.summary_text() == (
        "Faults injected: 1 of 2 GraphQL requests (seed 9): 503: 1."
    )
