"""Lost answers: the server applied a chunk, the client never heard. Nothing is written twice.

The real local server does the work; tests/faults.py drops the answer on the way back.
"""

from __future__ import annotations

import httpx
import pytest
from faults import LoseAnswers
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def test_append_labels_after_a_lost_answer_writes_each_label_once(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project = await new_project(kili)
    asset_ids = await import_images(kili, project, 250)
    transport = LoseAnswers("AppendManyLabels", nth={2})
    async with httpx.AsyncClient(transport=transport) as http, aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
        concurrency=1,
    ) as lossy:  # fmt: skip
        ids = await lossy.append_labels(
            asset_id_array=asset_ids, json_response_array=[answer("A")] * 250
        )
    assert transport.lost == 1
    assert len(ids) == 250 and len(set(ids)) == 250
    assert await kili.count_labels(project) == 250, "the lost chunk was not sent again"
    labels = await kili.labels(project, fields=["id", "assetId"])
    assert {lb.asset_id for lb in labels} == set(asset_ids)
    assert {lb.id for lb in labels} == set(ids)


async def test_idempotent_asset_mutations_are_sent_again_after_a_lost_answer(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project = await new_project(kili)
    asset_ids = await import_images(kili, project, 3)
    transport = LoseAnswers("UpdatePropertiesInAssets", nth={1})
    async with httpx.AsyncClient(transport=transport) as http, aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
    ) as lossy:  # fmt: skip
        updated = await lossy.update_properties_in_assets(
            asset_ids=asset_ids, json_metadatas=[{"n": 1}, {"n": 2}, {"n": 3}]
        )
        renamed = await lossy.change_asset_external_ids(["x", "y", "z"], asset_ids=asset_ids)
    assert transport.lost == 1
    assert [u.id for u in updated] == asset_ids and [u.id for u in renamed] == asset_ids
    assets = await kili.assets(project, fields=["id", "externalId", "jsonMetadata"])
    assert [(a.external_id, a.json_metadata) for a in assets] == [
        ("x", {"n": 1}),
        ("y", {"n": 2}),
        ("z", {"n": 3}),
    ]

    transport = LoseAnswers("DeleteAssets", nth={1})
    async with httpx.AsyncClient(transport=transport) as http, aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
    ) as lossy:  # fmt: skip
        outcome = await lossy.delete_many_from_dataset(asset_ids=asset_ids[:2])
    assert transport.lost == 1
    assert sorted(ref.asset_id for ref in outcome.succeeded) == sorted(asset_ids[:2])
    assert await kili.count_assets(project) == 1


async def test_create_issues_after_a_lost_answer_creates_each_issue_once(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project = await new_project(kili)
    asset_ids = await import_images(kili, project, 3)
    labels = await kili.append_labels(
        asset_id_array=asset_ids, json_response_array=[answer("A")] * 3
    )
    transport = LoseAnswers("CreateIssues", nth={1})
    async with httpx.AsyncClient(transport=transport) as http, aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
    ) as lossy:  # fmt: skip
        created = await lossy.create_issues(project, labels, text_array=["a", "b", None])
    assert transport.lost == 1
    assert len({c["id"] for c in created}) == 3
    assert await kili.count_issues(project) == 3, "the lost chunk was not sent again"
