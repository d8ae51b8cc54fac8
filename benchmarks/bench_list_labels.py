"""List N labels from the local server with aiokili, the official SDK and raw httpx.

Run: ``python benchmarks/bench_list_labels.py [--labels 100000] [--latency-ms 0]``

The server runs in its own process (``aiokili server``) so that client and server do not
share a GIL. All contenders read the same labels with the same fields (the official
SDK's defaults) in one run, and the script prints items/s and the ratios. Figures are
noisy on shared machines: compare ratios within one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

from aiokili import AsyncKili

KEY = "bench-key"
FIELDS = [
    "author.email",
    "author.id",
    "id",
    "jsonResponse",
    "labelType",
    "secondsToLabel",
    "isLatestLabelForUser",
    "assetId",
]
INTERFACE = {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "content": {"input": "radio",
             "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}, "required": 1}}}  # fmt: skip


def start_server(db: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """Start ``aiokili server`` on a free port; return the process and its endpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", str(db),
         "--api-key", KEY, "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("GraphQL endpoint:"):
            return proc, line.split(":", 1)[1].strip()
    raise RuntimeError("the server did not start")


async def seed(url: str, n: int) -> str:
    """Create a project with n assets and one label each; return the project id."""
    async with AsyncKili(api_key=KEY, api_endpoint=url, concurrency=4) as kili:
        project = await kili.create_project(
            title="bench", input_type="IMAGE", json_interface=INTERFACE
        )
        for start in range(0, n, 10_000):
            count = min(10_000, n - start)
            result = await kili.append_many_to_dataset(
                project.id,
                content_array=[f"https://img.example/{i}.jpg" for i in range(start, start + count)],
                external_id_array=[f"a{i}" for i in range(start, start + count)],
            )
            await kili.append_labels(
                asset_id_array=result["asset_ids"],
                json_response_array=[
                    {"JOB": {"categories": [{"name": "AB"[i % 2], "confidence": 100}]}}
                    for i in range(count)
                ],
                seconds_to_label_array=[12] * count,
            )
        return project.id


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    n = fn()
    return n, time.perf_counter() - start


def run_aiokili(url: str, project_id: str, prefetch: int, fields: list[str] | None) -> int:
    async def go() -> int:
        async with AsyncKili(api_key=KEY, api_endpoint=url, prefetch=prefetch) as kili:
            n = 0
            async for _ in kili.labels(project_id, fields=fields):
                n += 1
            return n

    return anyio.run(go)


def run_official(url: str, project_id: str) -> int:
    os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
    from kili.client import Kili

    kili = Kili(
        api_key=KEY,
        api_endpoint=url,
        disable_tqdm=True,
        graphql_client_params={"graphql_schema_cache_dir": tempfile.mkdtemp()},
    )
    return sum(1 for _ in kili.labels(project_id, fields=FIELDS, as_generator=True))


def run_raw_httpx(url: str, project_id: str, n_labels: int) -> int:
    """The floor: sequential pages of 100 with httpx + json, no models."""
    selection = "id assetId labelType jsonResponse secondsToLabel isLatestLabelForUser " \
        "author { id email }"  # fmt: skip
    query = (
        "query L($where: LabelWhere!, $first: PageSize!, $skip: Int!) "
        f"{{ data: labels(where: $where, first: $first, skip: $skip) {{ {selection} }} }}"
    )
    where: dict[str, Any] = {"project": {"id": project_id}}
    n = 0
    with httpx.Client(headers={"Authorization": f"X-API-Key: {KEY}"}, timeout=120) as http:
        for skip in range(0, n_labels, 100):
            body = {"query": query, "variables": {"where": where, "first": 100, "skip": skip}}
            page = http.post(url, json=body).json()["data"]["data"]
            n += sum(1 for item in page if json.loads(item["jsonResponse"]))
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.sqlite3", args.latency_ms)
        try:
            start = time.perf_counter()
            project_id = anyio.run(seed, url, args.labels)
            print(f"seeded {args.labels:,} assets + labels in {time.perf_counter() - start:.1f} s")
            contenders: list[tuple[str, Callable[[], int]]] = [
                ("official kili 26.2.4", lambda: run_official(url, project_id)),
                ("aiokili, same fields, sequential", lambda: run_aiokili(url, project_id, 1, FIELDS)),
                ("aiokili, same fields, prefetch 4", lambda: run_aiokili(url, project_id, 4, FIELDS)),
                ("aiokili, all Label fields, prefetch 4", lambda: run_aiokili(url, project_id, 4, None)),
                ("raw httpx floor, sequential", lambda: run_raw_httpx(url, project_id, args.labels)),
            ]  # fmt: skip
            results: dict[str, float] = {}
            print(f"\nlisting {args.labels:,} labels, server latency {args.latency_ms:g} ms")
            for name, fn in contenders:
                n, seconds = timed(fn)
                assert n == args.labels, f"{name} listed {n} labels"
                results[name] = n / seconds
                print(f"{name:40s} {seconds:7.2f} s {n / seconds:10,.0f} labels/s")
            base = results["official kili 26.2.4"]
            print("\nratio to the official SDK:")
            for name, rate in results.items():
                print(f"{name:40s} {rate / base:6.2f}x")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
