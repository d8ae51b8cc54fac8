"""The ``deadline`` of bulk calls, against the real local server slowed or failing on
purpose: once it passes nothing new is sent, what was in flight is kept, and every item
not done is reported with why, so that calling again with only those finishes the job.

The client sends one chunk at a time (``concurrency=1``) and the first request takes far
longer than the deadline (or is refused with a far longer ``Retry-After``), so which
chunks go before the deadline does not depend on the machine's speed."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

import aiokili
from aiokili.server import LocalServer
from aiokili.testing import ProjectFactory

pytestmark = pytest.mark.anyio

N = 300  # three chunks of 100
EXTERNALS = [f"doc-{i:03}" for i in range(N)]
URLS = [f"https://example.com/{e}.jpg" for e in EXTERNALS]
TAG = {"batch": "5"}
ANSWER = {"CLASSIFICATION_JOB": {"categories": [{"name": "CAT"}]}}


def hasty(server: LocalServer, **options: Any) -> aiokili.AsyncKili:
    """A client of ``server`` with a deadline of 1 s sending one chunk at a time."""
    return aiokili.AsyncKili(
        api_key=server.api_key,
        api_endpoint=server.url,
        deadline=1,
        concurrency=1,
        **options,
    )


async def import_all(server: LocalServer, project: str, **options: Any) -> Any:
    """``append_many_to_dataset`` of the N URLs under a deadline: the BulkOperationError."""
    async with hasty(server, **options) as kili:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await kili.append_many_to_dataset(
                project, content_array=URLS, external_id_array=EXTERNALS
            )
    return info.value


async def stored(server: LocalServer, project: str) -> dict[str, str]:
    """External id → asset id of what the server holds (faults off)."""
    server.faults.enabled = False
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        assets = await kili.assets(project, fields=["id", "externalId"])
    return {str(a.external_id): a.id for a in assets}


def by_index(error: aiokili.BulkOperationError) -> dict[int, BaseException]:
    return {f.index: f.error for f in error.failures}


async def retry_failed(server: LocalServer, project: str, error: Any) -> None:
    """Call again with only the failed items, no deadline, faults off: all done."""
    server.faults.enabled = False
    failed = [f.index for f in error.failures]
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        result = await kili.append_many_to_dataset(
            project,
            content_array=[URLS[i] for i in failed],
            external_id_array=[EXTERNALS[i] for i in failed],
        )
    assert len(result["asset_ids"]) == len(failed) and result["skipped_external_ids"] == []


@pytest.mark.kili_faults("AppendManyAssets: slow=1:3s")
async def test_the_chunk_in_flight_is_kept_and_the_others_are_not_sent(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    error = await import_all(server, project)

    assert server.faults.summary()["by_operation"] == {"AppendManyAssets": {"slow": 1}}
    assert sorted(i for i, _ in error.succeeded) == list(range(100))
    failures = by_index(error)
    assert sorted(failures) == list(range(100, N))
    assert [f.key for f in error.failures] == EXTERNALS[100:]
    for late in failures.values():
        assert isinstance(late, aiokili.DeadlineExceededError)
        assert (late.sent, late.deadline) == (False, 1)
        assert str(late) == "append_many_to_dataset(): not sent: the deadline of 1 s passed"
    assert str(error) == (
        "append_many_to_dataset(): 200 item(s) failed, 100 succeeded; first error at index "
        "100: not sent: the deadline of 1 s passed. Fix the failed items and call again "
        "with only those."
    )
    assert await stored(server, project) == {EXTERNALS[i]: a for i, a in error.succeeded}

    await retry_failed(server, project, error)
    assert sorted(await stored(server, project)) == EXTERNALS  # each once


@pytest.mark.kili_faults("AppendManyAssets: 429=1:30s")
async def test_a_refusal_is_not_retried_past_the_deadline(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    error = await import_all(server, project)

    assert server.faults.summary()["by_kind"] == {"429": 1}  # not sent again, nor the others
    assert error.succeeded == []
    failures = by_index(error)
    assert sorted(failures) == list(range(N))
    for i, late in failures.items():
        assert isinstance(late, aiokili.DeadlineExceededError)
        assert late.sent is (i < 100)  # the first chunk was refused, the others not sent
    refused = failures[0]
    assert str(refused) == (
        "append_many_to_dataset(): HTTP 429, not retried: the deadline of 1 s passes before "
        "the retry, due in 30.0 s"
    )
    assert isinstance(refused.__cause__, aiokili.RateLimitError)
    assert await stored(server, project) == {}

    await retry_failed(server, project, error)
    assert sorted(await stored(server, project)) == EXTERNALS


@pytest.mark.kili_faults("AppendManyAssets: reset_after=1; AssetIds: slow=1:3s")
async def test_a_lost_answer_is_reconciled_after_the_deadline(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    error = await import_all(server, project)

    assert server.faults.summary()["by_operation"] == {
        "AppendManyAssets": {"reset_after": 1},
        "AssetIds": {"slow": 1},
    }
    assert sorted(i for i, _ in error.succeeded) == list(range(100))  # applied: found
    assert sorted(by_index(error)) == list(range(100, N))
    assert all(
        isinstance(e, aiokili.DeadlineExceededError) and not e.sent
        for e in by_index(error).values()
    )
    assert await stored(server, project) == {EXTERNALS[i]: a for i, a in error.succeeded}

    await retry_failed(server, project, error)
    assert sorted(await stored(server, project)) == EXTERNALS


@pytest.mark.kili_faults("AppendManyAssets: 500=1; AssetIds: slow=1:3s")
async def test_what_a_look_up_finds_not_applied_is_not_resent_past_the_deadline(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    error = await import_all(server, project)

    assert server.faults.summary()["by_operation"] == {
        "AppendManyAssets": {"500": 1},
        "AssetIds": {"slow": 1},
    }
    failures = by_index(error)
    assert error.succeeded == [] and sorted(failures) == list(range(N))
    first = failures[0]
    assert isinstance(first, aiokili.DeadlineExceededError) and first.sent
    assert str(first) == (
        "append_many_to_dataset(): its outcome unknown after HTTP 500, a look-up found it "
        "not applied, not retried: the deadline of 1 s passed"
    )
    assert isinstance(first.__cause__, aiokili.MutationOutcomeUnknownError)
    assert all(not failures[i].sent for i in range(100, N))  # type: ignore[attr-defined]
    assert await stored(server, project) == {}


@pytest.mark.kili_faults("AppendManyAssets: 500=1; AssetIds: 500=1")
async def test_an_outcome_still_unknown_a_short_while_after_the_deadline_is_reported(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    # without the deadline, the look-ups would be retried 100 times (minutes of backoff)
    error = await import_all(server, project, timeout=2, max_retries=100)

    counts = server.faults.summary()["by_operation"]
    sent = counts["AppendManyAssets"]["500"]  # chunks sent: a look-up whose retry would
    assert 1 <= sent <= 3 and 1 <= counts["AssetIds"]["500"] < 30  # wait past 1 + 2 s ends
    failures = by_index(error)
    assert error.succeeded == [] and sorted(failures) == list(range(N))
    unknown = [i for i, e in failures.items() if isinstance(e, aiokili.MutationOutcomeUnknownError)]
    assert unknown == list(range(100 * sent))
    for i in range(100 * sent, N):
        late = failures[i]
        assert isinstance(late, aiokili.DeadlineExceededError) and not late.sent


async def imported(server: LocalServer, project: str) -> list[str]:
    """The N assets imported (no fault on imports), their ids in input order."""
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        result = await kili.append_many_to_dataset(
            project, content_array=URLS, external_id_array=EXTERNALS
        )
    return list(result["asset_ids"])


@pytest.mark.kili_faults("AppendManyLabels: slow=1:3s")
async def test_append_labels_keeps_the_labels_in_flight_and_reports_the_others(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    asset_ids = await imported(server, project)
    async with hasty(server) as kili:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await kili.append_labels(
                asset_id_array=asset_ids, json_response_array=[ANSWER] * N, project_id=project
            )
    error = info.value
    assert server.faults.summary()["by_kind"] == {"slow": 1}
    assert len(error.succeeded) == 100
    assert [f.index for f in error.failures] == list(range(100, N))
    assert all(
        isinstance(f.error, aiokili.DeadlineExceededError) and not f.error.sent
        for f in error.failures
    )
    assert str(error.failures[0].error) == ("append_labels(): not sent: the deadline of 1 s passed")

    server.faults.enabled = False
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        failed = [asset_ids[f.index] for f in error.failures]
        await kili.append_labels(
            asset_id_array=failed, json_response_array=[ANSWER] * len(failed), project_id=project
        )
        labels = await kili.labels(project, fields=["id", "assetId"])
    assert Counter(lb.asset_id for lb in labels) == dict.fromkeys(asset_ids, 1)
    assert set(error.succeeded) <= {lb.id for lb in labels}


@pytest.mark.kili_faults("UpdatePropertiesInAssets: slow=1:3s")
async def test_an_idempotent_call_is_not_sent_again_after_the_deadline(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    asset_ids = await imported(server, project)
    async with hasty(server, timeout=2) as kili:  # the first chunk times out after 2 s
        with pytest.raises(aiokili.BulkOperationError) as info:
            await kili.update_properties_in_assets(asset_ids=asset_ids, json_metadatas=[TAG] * N)
    error = info.value
    assert server.faults.summary()["by_kind"] == {"slow": 1}  # sent once, not again
    failures = by_index(error)
    assert error.succeeded == [] and sorted(failures) == list(range(N))
    for i in range(100):  # timed out after sending: maybe applied, and safe to send again
        assert isinstance(failures[i], aiokili.MutationOutcomeUnknownError)
    for i in range(100, N):
        late = failures[i]
        assert isinstance(late, aiokili.DeadlineExceededError) and not late.sent

    server.faults.enabled = False
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        untouched = await kili.assets(
            project, fields=["id", "jsonMetadata"], asset_id_in=asset_ids[100:]
        )
        assert all(a.json_metadata != TAG for a in untouched) and len(untouched) == 200
        await kili.update_properties_in_assets(
            asset_ids=[asset_ids[f.index] for f in error.failures],
            json_metadatas=[TAG] * len(error.failures),
        )
        assets = await kili.assets(project, fields=["id", "jsonMetadata"])
    assert all(a.json_metadata == TAG for a in assets) and len(assets) == N


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "deadline must be > 0 seconds (or None for no deadline), got -1: give the seconds "
         "a bulk call may take, e.g. deadline=30."),
        (math.nan, "deadline must be > 0 seconds (or None for no deadline), got nan: give the "
         "seconds a bulk call may take, e.g. deadline=30."),
        (0, "deadline must be > 0 seconds (or None for no deadline), got 0: give the seconds "
         "a bulk call may take, e.g. deadline=30."),
        ("30", "deadline must be a number of seconds (or None for no deadline), got '30'."),
    ],
)  # fmt: skip
async def test_a_deadline_that_cannot_be_one_is_refused_before_any_request(
    value: Any, message: str
) -> None:
    with pytest.raises(aiokili.KiliInputError) as info:
        aiokili.AsyncKili(api_key="k", api_endpoint="http://127.0.0.1:1/api/label/v2/graphql",
                          deadline=value)  # fmt: skip
    assert str(info.value) == message
    kili = aiokili.AsyncKili(api_key="k", api_endpoint="http://127.0.0.1:1/api/label/v2/graphql")
    with pytest.raises(aiokili.KiliInputError) as info:
        kili.with_options(deadline=value)
    assert str(info.value) == message


@pytest.mark.kili_faults("AppendManyAssets: slow=1:1500ms")
async def test_with_options_sets_a_deadline_for_one_call_and_infinity_removes_it(
    kili_project: ProjectFactory, kili_fresh_server: LocalServer
) -> None:
    server = kili_fresh_server
    project = await kili_project()
    async with aiokili.AsyncKili(
        api_key=server.api_key, api_endpoint=server.url, concurrency=1
    ) as kili:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await kili.with_options(deadline=0.5).append_many_to_dataset(
                project, content_array=URLS[:200], external_id_array=EXTERNALS[:200]
            )
        assert len(info.value.succeeded) == 100 and len(info.value.failures) == 100
        patient = kili.with_options(deadline=0.5).with_options(deadline=math.inf)
        result = await patient.append_many_to_dataset(
            project, content_array=URLS[200:], external_id_array=EXTERNALS[200:]
        )
        assert len(result["asset_ids"]) == 100
