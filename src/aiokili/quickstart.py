"""The quickstart: a full round trip against the embedded local server, with timings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .client import AsyncKili

JSON_INTERFACE = {
    "jobs": {
        "CLASSIFICATION_JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {
                "input": "radio",
                "categories": {"CAT": {"name": "Cat"}, "DOG": {"name": "Dog"}},
            },
            "required": 1,
            "isChild": False,
            "instruction": "What is in the picture?",
        }
    }
}


@dataclass
class QuickstartReport:
    """What the quickstart did: counts and seconds per step."""

    project_id: str = ""
    assets: int = 0
    labels: int = 0
    streamed: int = 0
    cats: int = 0
    timings: dict[str, float] = field(default_factory=dict)


async def run_quickstart(
    kili: AsyncKili, n_assets: int = 10_000, step: Callable[[str], None] = lambda _: None
) -> QuickstartReport:
    """Create a project, import ``n_assets``, label each, stream the labels back."""
    report = QuickstartReport()

    def timed(name: str) -> Callable[[], None]:
        step(name)
        start = time.perf_counter()
        return lambda: report.timings.__setitem__(name, time.perf_counter() - start)

    done = timed("create project")
    project = await kili.create_project(
        title="aiokili quickstart", input_type="IMAGE", json_interface=JSON_INTERFACE
    )
    report.project_id = project.id
    done()

    done = timed(f"import {n_assets:,} assets")
    result = await kili.append_many_to_dataset(
        project.id,
        content_array=[f"https://picsum.photos/id/{i % 1000}/200/300" for i in range(n_assets)],
        external_id_array=[f"image-{i:05d}" for i in range(n_assets)],
        json_metadata_array=[{"batch": i // 1000} for i in range(n_assets)],
    )
    report.assets = len(result["asset_ids"])
    done()

    done = timed(f"append {n_assets:,} labels")
    categories = ["CAT", "DOG"]
    label_ids = await kili.append_labels(
        asset_id_array=result["asset_ids"],
        json_response_array=[
            {"CLASSIFICATION_JOB": {"categories": [{"name": categories[i % 2]}]}}
            for i in range(report.assets)
        ],
        project_id=project.id,
    )
    report.labels = len(label_ids)
    done()

    done = timed("stream labels back (async for)")
    async for label in kili.labels(project.id):
        report.streamed += 1
        answer = label.json_response or {}
        if answer["CLASSIFICATION_JOB"]["categories"][0]["name"] == "CAT":
            report.cats += 1
    done()
    return report
