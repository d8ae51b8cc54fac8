"""Mistakes mypy must catch in user code (checked by tests/test_quality.py)."""

from __future__ import annotations

import aiokili


async def main(kili: aiokili.AsyncKili) -> None:
    async for label in kili.labels("p"):
        _ = label.no_such_field  # error: "Label" has no attribute
    await kili.count_labels(project_id=3)  # error: int is not str
    await kili.count_labels("p", auhtor_in=["Ada"])  # error: unexpected keyword
    await kili.count_assets("p", status_in=["DONE"])  # error: not a status
    labels: list[aiokili.Asset] = await kili.labels("p")  # error: Label is not Asset
    print(labels)
    async for asset in kili.assets("p"):
        _ = asset.json_metadata.split  # error: a dict (not Any): has no attribute "split"
        asset.status = None  # error: always fetched, never None
