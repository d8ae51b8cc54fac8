"""The quickstart: a full round trip against the embedded local server, with timings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@dataclass(frozen=True)
class Step:
    """One timed step of the quickstart."""

    name: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float | None:
        """Items per second; None for a one-item step (creating the project), where a rate
        means nothing."""
        if self.items <= 1 or self.seconds <= 0:
            return None
        return self.items / self.seconds


@dataclass
class QuickstartReport:
    """What the quickstart did: counts, and each step with its duration."""

    project_id: str = ""
    assets: int = 0
    labels: int = 0
    streamed: int = 0
    cats: int = 0
    steps: list[Step] = field(default_factory=list)


class _Timer:
    """``with timer(name) as step: ...; step.items = n`` records a :class:`Step`."""

    def __init__(self, report: QuickstartReport, announce: Callable[[str], None]) -> None:
        self._report = report
        self._announce = announce

    @contextmanager
    def __call__(self, name: str) -> Iterator[_Count]:
        self._announce(name)
        count = _Count()
        start = time.perf_counter()
        yield count
        self._report.steps.append(Step(name, count.items, time.perf_counter() - start))


@dataclass
class _Count:
    items: int = 1


async def run_quickstart(
    kili: AsyncKili, n_assets: int = 10_000, step: Callable[[str], None] = lambda _: None
) -> QuickstartReport:
    """Create a project, import ``n_assets``, label each, stream the labels back."""
    report = QuickstartReport()
    timed = _Timer(report, step)

    with timed("create project"):
        project = await kili.create_project(
            title="aiokili quickstart", input_type="IMAGE", json_interface=JSON_INTERFACE
        )
    report.project_id = project.id

    with timed(f"import {n_assets:,} assets") as done:
        result = await kili.append_many_to_dataset(
            project.id,
            content_array=[f"https://picsum.photos/id/{i % 1000}/200/300" for i in range(n_assets)],
            external_id_array=[f"image-{i:05d}" for i in range(n_assets)],
            json_metadata_array=[{"batch": i // 1000} for i in range(n_assets)],
        )
        report.assets = done.items = len(result["asset_ids"])

    with timed(f"append {n_assets:,} labels") as done:
        categories = ["CAT", "DOG"]
        label_ids = await kili.append_labels(
            asset_id_array=result["asset_ids"],
            json_response_array=[
                {"CLASSIFICATION_JOB": {"categories": [{"name": categories[i % 2]}]}}
                for i in range(report.assets)
            ],
            project_id=project.id,
        )
        report.labels = done.items = len(label_ids)

    with timed("stream labels back (async for)") as done:
        async for label in kili.labels(project.id):
            report.streamed += 1
            answer = label.json_response or {}
            if answer["CLASSIFICATION_JOB"]["categories"][0]["name"] == "CAT":
                report.cats += 1
        done.items = report.streamed
    return report
