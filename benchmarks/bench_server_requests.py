"""Requests/s of the local server for one ``labels(first: 100)`` page.

Run: ``python benchmarks/bench_server_requests.py [--requests 2000] [--concurrency 1 4]``

The server runs in its own process (``aiokili server``, SQLite file, 0 ms latency), seeded
with 1,000 assets and one label each. Each request asks a page of 100 labels with their
author and asset (``labelOf``), as the client benchmarks do. Noisy on shared machines:
compare figures measured in the same session.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _shared import KEY, start_server

PAGE = (
    "query L($where: LabelWhere!, $first: PageSize!, $skip: Int!) { data: labels(where: $where,"
    " first: $first, skip: $skip) { id assetId labelType jsonResponse secondsToLabel"
    " isLatestLabelForUser author { id email } labelOf { id externalId } } }"
)


def post(http: httpx.Client, url: str, query: str, variables: dict[str, Any]) -> Any:
    body = http.post(url, json={"query": query, "variables": variables}).json()
    assert not body.get("errors"), body
    return body["data"]["data"]


def seed(http: httpx.Client, url: str, n: int) -> str:
    create = "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }"
    project = post(http, url, create, {"d": {"title": "bench", "inputType": "TEXT"}})["id"]
    append = ("mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
              "{ data: appendManyAssets(data: $d, where: $w) { id } }")  # fmt: skip
    assets = post(http, url, append, {"d": {"contentArray": [f"text {i}" for i in range(n)],
                  "externalIDArray": [f"a{i}" for i in range(n)]}, "w": {"id": project}})  # fmt: skip
    labels = ("mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
              "{ data: appendManyLabels(data: $d, where: $w) { id } }")  # fmt: skip
    answer = json.dumps({"JOB": {"categories": [{"name": "A", "confidence": 100}]}})
    items = [{"assetID": a["id"], "jsonResponse": answer, "secondsToLabel": 3} for a in assets]
    post(http, url, labels, {"d": {"labelType": "DEFAULT", "labelsData": items},
                             "w": {"project": {"id": project}}})  # fmt: skip
    return str(project)


def run(url: str, project: str, requests: int, concurrency: int) -> float:
    """Send ``requests`` page queries from ``concurrency`` threads; return requests/s."""
    per_thread = requests // concurrency

    def worker() -> None:
        with httpx.Client(headers={"Authorization": f"X-API-Key: {KEY}"}, timeout=60) as http:
            for i in range(per_thread):
                variables = {"where": {"project": {"id": project}}, "first": 100,
                             "skip": (i * 100) % 1000}  # fmt: skip
                assert len(post(http, url, PAGE, variables)) == 100

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_thread * concurrency / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.sqlite3")
        try:
            with httpx.Client(headers={"Authorization": f"X-API-Key: {KEY}"}, timeout=120) as h:
                project = seed(h, url, 1000)
            run(url, project, 50, 1)  # warm-up
            for concurrency in args.concurrency:
                rate = run(url, project, args.requests, concurrency)
                print(f"labels(first: 100) page, {concurrency} in flight: {rate:8.1f} requests/s")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
