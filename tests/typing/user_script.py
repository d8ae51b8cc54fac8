"""A user's script: mypy --strict must accept it, with no cast or ``type: ignore`` (checked
by tests/test_quality.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

import aiokili
from aiokili.plugins import Plugin, PluginCore, PluginLog, run_locally


async def main() -> None:
    async with aiokili.AsyncKili() as kili:
        interface = aiokili.Interface(
            jobs={
                "JOB": aiokili.Job(
                    ml_task="CLASSIFICATION",
                    required=1,
                    content=aiokili.JobContent(
                        input="radio",
                        categories={"A": aiokili.JobCategory(name="A", children=["WHY"])},
                    ),
                ),
                "WHY": aiokili.Job(
                    ml_task="TRANSCRIPTION",
                    is_child=True,
                    content=aiokili.JobContent(input="textField"),
                ),
                "OBJECTS": aiokili.Job(
                    ml_task="OBJECT_DETECTION",
                    tools=["rectangle", "marker"],
                    content=aiokili.JobContent(categories={"CAR": aiokili.JobCategory()}),
                ),
            }
        )
        project: aiokili.Project = await kili.create_project(
            title="typed", input_type="TEXT", json_interface=interface
        )
        stored: aiokili.Interface = await kili.get_interface(project.id)
        task: aiokili.MLTask = stored.jobs["JOB"].ml_task
        tools: list[aiokili.Tool] = stored.jobs["OBJECTS"].tools
        children: list[str] = stored.jobs["JOB"].content.categories["A"].children
        print(task, tools, children, stored.top_level_jobs, stored.to_json()["jobs"])
        await kili.update_properties_in_project(project.id, json_interface=stored)
        result = await kili.append_many_to_dataset(
            project.id, content_array=["some text", Path("notes.txt")]
        )
        asset_ids: list[str] = result["asset_ids"]
        label_ids: list[str] = await kili.append_labels(
            asset_id_array=asset_ids, json_response_array=[{"JOB": {"categories": [{"name": "A"}]}}]
        )
        print(len(label_ids))
        async for label in kili.labels(project.id, type_in=["DEFAULT"], author_in=["Ada"]):
            email: str | None = label.author.email if label.author else None
            seconds: float | None = label.seconds_to_label
            answer: dict[str, Any] = label.json_response["JOB"]  # a dict: no cast, no None
            created: datetime = label.created_at
            kind: str = label.label_type.value
            print(label.id, email, seconds, answer["categories"][0]["name"], created, kind)
        everything: list[aiokili.Label] = await kili.labels(project.id, first=10)
        print(len(everything))
        async with kili.assets(project.id, status_in=[aiokili.Status.LABELED]) as listing:
            async for page in listing.pages():
                batch: Sequence[aiokili.Asset] = page
                for asset in batch:
                    external_id: str = asset.external_id
                    status: str = asset.status.value
                    split: str = asset.json_metadata.get("split", "none")
                    print(external_id, status, split, asset.created_at.year, len(asset.labels))
        assets = await kili.assets(project.id)
        by_status: Counter[str] = Counter(f"{asset.status}" for asset in assets)  # "LABELED"...
        print(by_status["LABELED"], sum(a.status == aiokili.Status.TODO for a in assets))
        total: int = await kili.count_labels(project.id, category_search="JOB.A.count > 0")
        remaining: int = await kili.assets(project.id, skip=5).count()
        quick = kili.with_options(timeout=5.0, max_retries=0)
        print(total, remaining, await quick.count_projects(archived=False))
        lenient = kili.labels(project.id, output_format="parsed_label", on_unparsable="skip")
        kept: list[aiokili.ParsedLabel] = await lenient
        skipped: list[str] = [s.id for s in lenient.skipped]
        why: str | None = lenient.skipped[0].error.job if lenient.skipped else None
        print(len(kept), skipped, why)
        try:
            await kili.append_labels(asset_id_array=asset_ids, json_response_array=[{"NOPE": {}}])
        except aiokili.MalformedLabelError as refused:
            where: int = refused.index
            accepted: tuple[str, ...] = refused.accepted
            print(where, refused.job, refused.name, accepted)
        async for parsed in kili.labels(project.id, output_format="parsed_label"):
            choice: str = parsed.jobs["JOB"].category.name
            text: str | None = parsed.jobs["TRANSCRIPTION"].text
            for obj in parsed.jobs["OBJECTS"].annotations:
                vertices: list[aiokili.Point] = obj.bounding_poly[0].normalized_vertices
                print(obj.category.display_name, obj.point, vertices, obj.children)
            print(choice, text, parsed.id, parsed.author)
        predictions: list[aiokili.Label] = await kili.predictions(project.id, author_in=["Ada"])
        print([p.model_name for p in predictions])
        await plugins_and_webhooks(kili, project.id, asset_ids[0])


class PluginHandler(PluginCore):
    async def on_submit(self, label: dict[str, Any], asset_id: str) -> None:
        if not label["jsonResponse"]:
            self.logger.warning("empty label on %s", asset_id)
            await self.kili.send_back_to_queue(asset_ids=[asset_id])

    def on_review(self, label: dict[str, Any], asset_id: str) -> None:
        self.logger.info("reviewed %s", label["reviewedLabel"]["id"])


async def plugins_and_webhooks(kili: aiokili.AsyncKili, project_id: str, asset_id: str) -> None:
    try:
        done: str = await kili.upload_plugin("rule.py", "rule", deploy_timeout=60)
    except aiokili.PluginBuildError as failed:
        print([entry.content for entry in failed.errors])
        raise
    except aiokili.PluginDeployTimeout as slow:
        print(slow.status, slow.timeout)
        raise
    print(done, await kili.update_plugin(Path("rule_dir"), plugin_name="rule", verbose=False))
    status: str | None = await kili.get_plugin_status("rule")
    await kili.activate_plugin_on_project("rule", project_id=project_id)
    listed: list[Plugin] = await kili.list_plugins(fields=["name", "projectIds"])
    logs: list[PluginLog] = await kili.get_plugin_logs(
        project_id, "rule", start_date=datetime(2024, 1, 1), limit=10
    )
    for entry in logs:
        when: datetime = entry.created_at
        label_id: str | None = entry.label_id
        asset: str | None = entry.asset_id
        run: str | None = entry.run_id
        print(when, entry.log_type, run, label_id, asset, entry.content.upper())
    async for entry in kili.iter_plugin_logs(project_id, "rule", follow=True, poll_interval=2):
        print(entry.content)
        break
    errors: list[PluginLog] = await kili.get_plugin_build_errors("rule")
    print(status, listed, errors)
    await kili.create_webhook("https://hook.example", "wh", header="Bearer x")
    await kili.update_webhook("https://hook2.example", "wh", handler_types=["onSubmit"])
    await kili.deactivate_plugin_on_project("rule", project_id)
    await kili.delete_plugin("rule")
    label = {"id": "l", "jsonResponse": {}}
    await run_locally("rule.py", label, asset_id, project_id, kili=kili, event="on_review")


if __name__ == "__main__":
    anyio.run(main)
