"""Typed use of the asset queries and imports (checked by tests/client/assets/test_asset_queries.py)."""

from __future__ import annotations

from pathlib import Path

import aiokili


async def main(kili: aiokili.AsyncKili, project_id: str) -> None:
    listing: aiokili.Listing[aiokili.Asset] = kili.assets(
        project_id, consensus_mark_gte=0.5, honeypot_mark_lt=0.2, step_name_in=["Review"],
        step_id_and_status_in=[("s1", "DONE"), ("s2", aiokili.StatusInStep.TO_DO)],
        issue_type="QUESTION", issue_status="OPEN", label_reviewer_in=["ada@example.com"],
        external_id_contains=["img-"], fields=["id", "content"],
    )  # fmt: skip
    async for asset in listing:
        content: str | None = asset.content
        print(content)
    frame = await kili.assets(project_id, format="pandas", status_in=["LABELED"])
    print(frame)
    local = await kili.assets(project_id, download_media=True, local_media_dir=Path("media"))
    print([a.content for a in local])
    n: int = await kili.count_assets(project_id, label_created_at_gt="2024-01-01", skipped=False)
    mapping: dict[str, str] = await kili.get_asset_ids_for_external_ids(project_id, ["a", "b"])
    one: aiokili.Asset = await kili.get_asset(mapping["a"])
    result = await kili.append_many_to_dataset(
        project_id, json_content_array=[[Path("f0.jpg"), "https://x/f1.jpg"]],
        wait_until_availability=True, multi_layer_content_array=None,
    )  # fmt: skip
    ids: list[str] = result["asset_ids"]
    print(n, one, ids)
