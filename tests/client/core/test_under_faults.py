"""The client against the real local server injecting faults (``server.faults``): nothing
lost, nothing written twice, and what could not be done reported item by item."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import aiokili
from aiokili._core import http as _http
from aiokili.server import LocalServer
from aiokili.testing import ProjectFactory

pytestmark = pytest.mark.anyio

EVERY_KIND = (
    "500=0.02, 502=0.02, 503=0.03, 429=0.02:0s, reset=0.03, reset_after=0.03, "
    "truncated=0.02, malformed=0.02, slow=0.01:5ms; CreateProject|DeleteProject: off; seed=16"
)
"""20% of requests, every kind; the fixture's own project set-up and clean-up spared."""
N = 2_000
ANSWER = {"CLASSIFICATION_JOB": {"categories": [{"name": "CAT"}]}}


@pytest.fixture
def kili_client_options() -> dict[str, Any]:
    return {"max_retries": 8}  # 5 faults in a row on one query happen in ~1 of 3,000


def stored(server: LocalServer) -> Any:
    """A switch: ``with stored(server):`` reads what the server holds, no fault injected."""

    class Off:
        def __enter__(self) -> None:
            server.faults.enabled = False

        def __exit__(self, *_: object) -> None:
            server.faults.enabled = True

    return Off()


@pytest.mark.kili_faults(EVERY_KIND)
async def test_import_label_and_list_2000_under_20_percent_faults(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    project = await kili_project()
    externals = [f"img-{i:05}" for i in range(N)]
    result = await kili.append_many_to_dataset(
        project,
        content_array=[f"https://example.com/{e}.jpg" for e in externals],
        external_id_array=externals,
    )
    assert len(result["asset_ids"]) == N and result["skipped_external_ids"] == []
    labels = await kili.append_labels(
        asset_id_array=result["asset_ids"], json_response_array=[ANSWER] * N, project_id=project
    )
    assert len(set(labels)) == N
    listed = [a.external_id async for a in kili.assets(project, fields=["externalId"])]
    listed_labels = await kili.labels(project, fields=["id", "assetId"])

    summary = kili_fresh_server.faults.summary()
    assert set(summary["by_kind"]) == {
        "500", "502", "503", "429", "reset", "reset_after", "truncated", "malformed", "slow",
    }  # fmt: skip
    assert summary["faults"] > 0.15 * summary["requests"]
    with stored(kili_fresh_server):
        assert await kili.count_assets(project) == N
        assets = await kili.assets(project, fields=["id", "externalId"])
        truth = await kili.labels(project, fields=["id", "assetId"])
    assert sorted(a.external_id for a in assets) == externals  # exactly N, no duplicate
    assert Counter(lb.asset_id for lb in truth) == dict.fromkeys(result["asset_ids"], 1)
    assert {lb.id for lb in truth} == set(labels)
    assert sorted(listed) == externals  # listing under faults: the stored set, once each
    assert sorted(lb.id for lb in listed_labels) == sorted(labels)


@pytest.mark.kili_faults("AppendManyAssets: 503=0.6:0s, reset_after=0.2, truncated=0.1; seed=5")
async def test_what_could_not_be_done_is_reported_item_by_item(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    externals = [f"doc-{i:04}" for i in range(1_000)]
    async with aiokili.AsyncKili(
        api_key=server.api_key, api_endpoint=server.url, max_retries=1
    ) as hasty:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await hasty.append_many_to_dataset(
                project,
                content_array=[f"https://example.com/{e}.jpg" for e in externals],
                external_id_array=externals,
            )
    error = info.value
    with stored(server):
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            assets = await kili.assets(project, fields=["id", "externalId"])
    failed = [str(f.key) for f in error.failures]
    assert failed and len(failed) == len(set(failed))
    assert sorted([str(a.external_id) for a in assets] + failed) == externals  # each once
    assert {a.id for a in assets} == {asset_id for _, asset_id in error.succeeded}
    for failure in error.failures:
        assert failure.key == externals[failure.index]
        assert isinstance(failure.error, aiokili.APIError) and failure.error.attempts >= 1


@pytest.mark.kili_faults("UpdatePropertiesInProject: reset_after=1")
async def test_a_single_mutation_whose_answer_is_lost_raises_outcome_unknown(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory
) -> None:
    project = await kili_project()
    with pytest.raises(aiokili.MutationOutcomeUnknownError) as info:
        await kili.update_properties_in_project(project, title="renamed")
    error = info.value
    assert (error.call, error.operation) == (
        "update_properties_in_project",
        "UpdatePropertiesInProject",
    )
    assert project in error.identifiers and error.attempts == 1
    assert str(error).startswith(
        "update_properties_in_project(): the outcome of UpdatePropertiesInProject is unknown "
        f"(it names '{project}'): "
    )
    assert isinstance(error.__cause__, aiokili.APIConnectionError)
    assert (await kili.projects(project_id=project, fields=["title"]))[0].title == "renamed"


@pytest.mark.kili_faults("UpdatePropertiesInProject: 503=1:0s")
async def test_a_mutation_refused_before_it_ran_is_resent_then_reported(
    kili: aiokili.AsyncKili, kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    project = await kili_project(title="kept")
    with pytest.raises(aiokili.HTTPStatusError) as info:
        await kili.with_options(max_retries=2).update_properties_in_project(project, title="x")
    error = info.value
    assert not isinstance(error, aiokili.MutationOutcomeUnknownError)
    assert (error.status_code, error.attempts, error.outcome_unknown) == (503, 3, False)
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert kili_fresh_server.faults.summary()["by_kind"] == {"503": 3}
    assert (await kili.projects(project_id=project, fields=["title"]))[0].title == "kept"


@pytest.mark.kili_faults("CountAssets: malformed=0.3, truncated=0.2; seed=1")
async def test_queries_answered_cut_short_are_sent_again(
    kili: aiokili.AsyncKili,
    kili_project: ProjectFactory,
    kili_fresh_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_wait(seconds: float) -> None:
        pass

    monkeypatch.setattr(_http, "wait_before_retry", no_wait)
    project = await kili_project()
    counts = [await kili.count_assets(project) for _ in range(20)]
    assert counts == [0] * 20
    assert kili_fresh_server.faults.summary()["by_kind"] == {"malformed": 4, "truncated": 9}


async def test_graphql_errors_carry_the_request_id(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(aiokili.NotFoundError) as info:
        await kili.update_properties_in_project("no-such-project", title="x")
    assert info.value.request_id is not None and info.value.request_id.startswith("req_")
    assert info.value.attempts == 1
