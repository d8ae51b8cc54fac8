"""A tiny asyncio app: pre-label a Kili project's images from their file names."""

from __future__ import annotations

from collections import Counter

from aiokili import AsyncKili

JOB = "CLASSIFICATION_JOB"


def guess(external_id: str) -> str:
    """The category a file name suggests."""
    return "CAT" if "cat" in external_id.lower() else "DOG"


async def prelabel(kili: AsyncKili, project_id: str) -> int:
    """Label every asset that has no label yet; return how many were labelled."""
    todo = [asset async for asset in kili.assets(project_id, status_in=["TODO"])]
    if todo:
        await kili.append_labels(
            asset_id_array=[asset.id for asset in todo],
            json_response_array=[
                {JOB: {"categories": [{"name": guess(asset.external_id)}]}} for asset in todo
            ],
        )
    return len(todo)


async def category_counts(kili: AsyncKili, project_id: str) -> dict[str, int]:
    """How many labels chose each category."""
    counts: Counter[str] = Counter()
    async for label in kili.labels(project_id):
        for category in label.json_response[JOB]["categories"]:
            counts[category["name"]] += 1
    return dict(counts)


async def main(project_id: str) -> dict[str, int]:
    """The app's entry point: reads KILI_API_KEY / KILI_API_ENDPOINT from the environment."""
    async with AsyncKili() as kili:
        await prelabel(kili, project_id)
        return await category_counts(kili, project_id)
