"""Deletions cascade as on the platform: nothing of a deleted label or asset is left behind."""

from __future__ import annotations

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


def rows(server: LocalServer, table: str, column: str, ids: list[str]) -> int:
    """Rows of ``table`` still pointing at ``ids`` (read through the server's store)."""
    db = server.store.db  # type: ignore[attr-defined]
    with db.read() as c:
        marks = ",".join("?" * len(ids))
        return int(
            c.execute(f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})", ids).fetchone()[
                0
            ]
        )


async def test_deleting_labels_and_assets_takes_their_issues_marks_and_counts_along(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project = await new_project(kili)
    first, second = await import_images(kili, project, 2)
    await kili.create_predictions(
        project, asset_id_array=[first], model_name="m", json_response_array=[answer("A")]
    )
    (prediction,) = await kili.predictions(project, fields=["id"])
    (default,) = await kili.append_labels(
        asset_id_array=[second], json_response_array=[answer("B")]
    )
    await kili.create_issues(project, label_id_array=[prediction.id, default])
    assert await kili.count_issues(project) == 2

    await kili.delete_labels([prediction.id])
    assert await kili.count_issues(project) == 1, "the prediction's issue went with it"
    assert rows(local_server, "label_categories", "label_id", [prediction.id]) == 0

    await kili.delete_many_from_dataset(asset_ids=[second])
    assert await kili.count_issues(project) == 0
    assert await kili.count_labels(project) == 0
    for table in ("label_categories", "label_marks"):
        assert rows(local_server, table, "label_id", [default]) == 0, table
    assert rows(local_server, "asset_marks", "asset_id", [second]) == 0

    await kili.delete_project(project)
    left = gql(
        local_server,
        "query($w: AssetWhere!) { countAssets(where: $w) }",
        w={"project": {"id": project}},
    )
    assert left.get("errors") or left["data"]["countAssets"] == 0
    assert rows(local_server, "assets", "project_id", [project]) == 0
