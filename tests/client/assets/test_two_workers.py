"""Two server processes over one database: what one writes of the workflow (properties,
send-backs, consensus use), the other reads back and keeps when it writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili import InvalidRequestError
from aiokili.server import LocalServer
from aiokili.server.store import DatabaseStore, open_store

pytestmark = [pytest.mark.anyio, pytest.mark.kili_fresh_server]

FIELDS = [
    "id",
    "priority",
    "isUsedForConsensus",
    "resolution.width",
    "status",
    "skipped",
    "currentStep.status",
    "labels.isSentBackToQueue",
]


def open_second_store(server: LocalServer) -> DatabaseStore:
    """Another store over the server's database, as a second worker process opens it."""
    db = server.store.db
    if db.dialect == "postgresql":
        return open_store(db.url, db.files_dir)  # type: ignore[attr-defined]
    assert db.path is not None
    return open_store(db.path, db.files_dir)


@dataclass
class Workers:
    first: aiokili.AsyncKili
    second: aiokili.AsyncKili
    servers: tuple[LocalServer, LocalServer]


@pytest.fixture
async def workers(
    kili: aiokili.AsyncKili, kili_fresh_server: LocalServer
) -> AsyncIterator[Workers]:
    store = open_second_store(kili_fresh_server)
    try:
        with LocalServer(store, api_key=kili_fresh_server.api_key) as other:
            async with aiokili.AsyncKili(api_key=other.api_key, api_endpoint=other.url) as second:
                yield Workers(kili, second, (kili_fresh_server, other))
    finally:
        store.close()


async def _legacy(kili: aiokili.AsyncKili, server: LocalServer, n: int) -> tuple[str, list[str]]:
    """A legacy (V1) project (no steps), where isUsedForConsensus is a property."""
    project_id = await new_project(kili)
    with server.store.db.write() as c:
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
    return project_id, await import_images(kili, project_id, n)


async def _assets(kili: aiokili.AsyncKili, project_id: str) -> list[aiokili.Asset]:
    return await kili.assets(project_id, fields=FIELDS)


async def test_properties_set_through_one_worker_are_read_through_the_other(
    workers: Workers, kili_fresh_server: LocalServer
) -> None:
    project_id, ids = await _legacy(workers.first, kili_fresh_server, 2)
    assert [a.is_used_for_consensus for a in await _assets(workers.second, project_id)] == [
        False,
        False,
    ]
    with pytest.warns(DeprecationWarning, match="priorities"):
        await workers.first.update_properties_in_assets(
            asset_ids=ids[:1],
            priorities=[4],
            is_used_for_consensus_array=[True],
            resolution_array=[{"width": 640, "height": 480}],
        )
    first, second = await _assets(workers.second, project_id)
    assert (first.priority, first.is_used_for_consensus) == (4, True)
    assert first.resolution is not None and first.resolution.width == 640
    assert (second.priority, second.is_used_for_consensus, second.resolution) == (0, False, None)


async def test_a_write_keeps_what_the_other_worker_wrote_before(
    workers: Workers, kili_fresh_server: LocalServer
) -> None:
    project_id, ids = await _legacy(workers.first, kili_fresh_server, 1)
    await _assets(workers.first, project_id)
    await _assets(workers.second, project_id)
    await workers.second.update_properties_in_assets(
        asset_ids=ids, resolution_array=[{"width": 8, "height": 6}]
    )
    await workers.first.update_properties_in_assets(
        asset_ids=ids, is_used_for_consensus_array=[True]
    )
    await workers.second.update_properties_in_assets(
        asset_ids=ids, page_resolutions_array=[[{"pageNumber": 1, "width": 2, "height": 3}]]
    )
    query = (
        "query($w: AssetWhere!) { assets(where: $w, first: 10, skip: 0) "
        "{ isUsedForConsensus resolution { width } pageResolutions { width } } }"
    )
    for server in workers.servers:
        (asset,) = gql(server, query, w={"project": {"id": project_id}})["data"]["assets"]
        assert asset == {
            "isUsedForConsensus": True,
            "resolution": {"width": 8},
            "pageResolutions": [{"width": 2}],
        }


async def test_consensus_use_set_through_one_worker_is_kept_by_the_other(
    workers: Workers,
) -> None:
    project_id = await new_project(workers.first)
    ids = await import_images(workers.first, project_id, 1)
    await workers.first.update_properties_in_project(
        project_id, consensus_tot_coverage=50, min_consensus_size=2
    )
    await _assets(workers.first, project_id)
    await _assets(workers.second, project_id)
    await workers.second.update_properties_in_assets(
        asset_ids=ids, resolution_array=[{"width": 8, "height": 6}]
    )
    await workers.first.update_asset_consensus(project_id, True, asset_id=ids[0])
    with pytest.raises(InvalidRequestError, match="used for consensus and cannot be skipped"):
        await workers.second.skip_or_unskip("skip", ids[0], project_id, reason="hard")
    for kili in (workers.first, workers.second):
        (asset,) = await _assets(kili, project_id)
        assert (asset.is_used_for_consensus, asset.skipped) == (True, False)
        assert asset.resolution is not None and asset.resolution.width == 8


async def test_a_send_back_through_one_worker_is_seen_by_the_other(
    workers: Workers, kili_fresh_server: LocalServer
) -> None:
    project_id, ids = await _legacy(workers.first, kili_fresh_server, 2)
    await workers.first.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2)
    before = await _assets(workers.second, project_id)
    assert [f"{a.current_step.status}" for a in before if a.current_step] == ["DONE", "DONE"]
    await workers.first.send_back_to_queue(asset_ids=ids[:1])
    first, second = await _assets(workers.second, project_id)
    assert first.current_step is not None and f"{first.current_step.status}" == "REWORK"
    assert [lb.is_sent_back_to_queue for lb in first.labels or []] == [True]
    assert second.current_step is not None and f"{second.current_step.status}" == "DONE"
    assert [lb.is_sent_back_to_queue for lb in second.labels or []] == [False]
    labels = await workers.second.labels(project_id, fields=["labelOf.id", "isSentBackToQueue"])
    assert {
        (lb.label_of.id if lb.label_of else None, lb.is_sent_back_to_queue) for lb in labels
    } == {
        (ids[0], True),
        (ids[1], False),
    }
