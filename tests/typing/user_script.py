"""A user's script: mypy --strict must accept it (checked by tests/test_quality.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio

import aiokili


async def main() -> None:
    async with aiokili.AsyncKili() as kili:
        project: aiokili.Project = await kili.create_project(
            title="typed", input_type="TEXT", json_interface={"jobs": {}}
        )
        result = await kili.append_many_to_dataset(
            project.id, content_array=["some text", Path("notes.txt")]
        )
        asset_ids: list[str] = result["asset_ids"]
        label_ids: list[str] = await kili.append_labels(
            asset_id_array=asset_ids, json_response_array=[{"JOB": {"text": "hi"}}]
        )
        print(len(label_ids))
        async for label in kili.labels(project.id, type_in=["DEFAULT"], author_in=["Ada"]):
            email: str | None = label.author.email if label.author else None
            seconds: float | None = label.seconds_to_label
            print(label.id, email, seconds, label.json_response)
        everything: list[aiokili.Label] = await kili.labels(project.id, first=10)
        print(len(everything))
        async with kili.assets(project.id, status_in=[aiokili.Status.LABELED]) as listing:
            async for page in listing.pages():
                batch: Sequence[aiokili.Asset] = page
                for asset in batch:
                    external_id: str | None = asset.external_id
                    print(external_id, asset.json_metadata, asset.created_at)
        total: int = await kili.count_labels(project.id, category_search="JOB.A.count > 0")
        remaining: int = await kili.assets(project.id, skip=5).count()
        quick = kili.with_options(timeout=5.0, max_retries=0)
        print(total, remaining, await quick.count_projects(archived=False))
        async for parsed in kili.labels(project.id, output_format="parsed_label"):
            choice: str = parsed.jobs["JOB"].category.name
            text: str | None = parsed.jobs["TRANSCRIPTION"].text
            for obj in parsed.jobs["OBJECTS"].annotations:
                vertices: list[aiokili.Point] = obj.bounding_poly[0].normalized_vertices
                print(obj.category.display_name, obj.point, vertices, obj.children)
            print(choice, text, parsed.id, parsed.author)
        predictions: list[aiokili.Label] = await kili.predictions(project.id, author_in=["Ada"])
        print([p.model_name for p in predictions])


if __name__ == "__main__":
    anyio.run(main)
