"""Latency of small requests while the heaviest queries the limits allow run.

Run: ``python benchmarks/bench_heavy_query.py [--seconds 15] [--heavy 1]``

The server runs in its own process (``aiokili server``, SQLite file, 0 ms latency), seeded
with 1,000 assets of 100 labels each. For each scenario, ``--heavy`` threads send the heavy
query back to back while two probes, each every 20 ms, time ``GET /healthz`` and a small
GraphQL query (``countAssets``); the figures are the probes' p50 / p99 / max and the heavy
queries' count and mean time. Scenarios:

* ``idle``: the probes alone;
* ``100k labels``: one page of 1,000 assets with their 100 labels each;
* ``N x 1,000 assets``: ``--aliases`` aliases of ``assets(first: 1000)`` (default 39, the
  most that ``max_cost`` allows; 50 before it was lowered).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from bench_server_requests import KEY, start_server

ASSETS, LABELS_PER_ASSET = 1000, 100
LABELS_PAGE = (
    "query($w: AssetWhere!) { assets(where: $w, first: 1000) "
    "{ id externalId labels { id jsonResponse labelType author { id } } } }"
)


def aliases(n: int) -> str:
    """``n`` aliases of a page of 1,000 assets (cost 5,001 each: 39 pass max_cost=200,000)."""
    pages = (
        f"a{i}: assets(where: $w, first: 1000) {{ id externalId status jsonMetadata createdAt }}"
        for i in range(n)
    )
    return "query($w: AssetWhere!) { " + " ".join(pages) + " }"


SMALL = "query($w: AssetWhere!) { countAssets(where: $w) }"


def post(http: httpx.Client, url: str, query: str, variables: dict[str, Any]) -> Any:
    answer = http.post(url, json={"query": query, "variables": variables})
    body = answer.json()
    assert answer.status_code == 200 and not body.get("errors"), answer.text[:500]
    return body["data"]


def seed(http: httpx.Client, url: str) -> str:
    """A project of ``ASSETS`` assets with ``LABELS_PER_ASSET`` labels each."""
    create = "mutation($d: CreateProjectData!) { createProject(data: $d) { id } }"
    project = post(http, url, create, {"d": {"title": "heavy", "inputType": "TEXT"}})
    project_id = str(project["createProject"]["id"])
    append = (
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ appendManyAssets(data: $d, where: $w) { id } }"
    )
    data = {
        "contentArray": [f"text {i}" for i in range(ASSETS)],
        "externalIDArray": [f"a{i}" for i in range(ASSETS)],
    }
    assets = post(http, url, append, {"d": data, "w": {"id": project_id}})["appendManyAssets"]
    labels = (
        "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
        "{ appendManyLabels(data: $d, where: $w) { id } }"
    )
    answer = json.dumps({"JOB": {"categories": [{"name": "A", "confidence": 100}]}})
    for start in range(0, ASSETS, 100):
        items = [
            {"assetID": a["id"], "jsonResponse": answer, "secondsToLabel": 3}
            for a in assets[start : start + 100]
            for _ in range(LABELS_PER_ASSET)
        ]
        variables = {"d": {"labelType": "DEFAULT", "labelsData": items}}
        post(http, url, labels, {**variables, "w": {"project": {"id": project_id}}})
    return project_id


class Probe(threading.Thread):
    """Sends one request every ``period`` s until stopped; keeps the latencies (ms)."""

    def __init__(self, send: Any, period: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.send, self.period = send, period
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            self.send()
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.stop.wait(max(0.0, self.period - (time.perf_counter() - started)))


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms  "
        f"max {ordered[-1]:7.1f} ms  (n={len(ordered)})"
    )


def scenario(url: str, project: str, heavy: str | None, workers: int, seconds: float) -> None:
    headers = {"Authorization": f"X-API-Key: {KEY}"}
    where = {"w": {"project": {"id": project}}}
    base = url.split("/api/")[0]
    health_http = httpx.Client(timeout=120)
    small_http = httpx.Client(headers=headers, timeout=120)
    probes = [
        Probe(lambda: health_http.get(f"{base}/healthz").raise_for_status()),
        Probe(lambda: post(small_http, url, SMALL, where)),
    ]
    # The heavy clients run in processes of their own: decoding their large answers would
    # hold this process's GIL, and delay the probes' timings.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    durations: Any = context.Queue()
    workers_threads = [
        context.Process(target=heavy_worker, args=(url, heavy, where, stop, durations))
        for _ in range(workers if heavy else 0)
    ]
    for thread in workers_threads:
        thread.start()
    time.sleep(0.5 if heavy else 0)  # the heavy queries are under way
    for probe in probes:
        probe.start()
    time.sleep(seconds)
    for probe in probes:
        probe.stop.set()
        probe.join()
    stop.set()
    done: list[float] = []
    for thread in workers_threads:
        done.extend(durations.get())
        thread.join()
    health_http.close()
    small_http.close()
    print(f"  /healthz        {summary(probes[0].latencies)}")
    print(f"  countAssets     {summary(probes[1].latencies)}")
    if done:
        print(f"  heavy queries   {len(done)} done, mean {statistics.mean(done):.2f} s")


def heavy_worker(url: str, query: str, where: Any, stop: Any, durations: Any) -> None:
    """Send ``query`` back to back until ``stop`` is set; put the list of durations (s)."""
    done: list[float] = []
    with httpx.Client(headers={"Authorization": f"X-API-Key: {KEY}"}, timeout=600) as http:
        while not stop.is_set():
            started = time.perf_counter()
            post(http, url, query, where)
            done.append(time.perf_counter() - started)
    durations.put(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--heavy", type=int, default=1, help="threads sending heavy queries")
    parser.add_argument("--aliases", type=int, default=39)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.sqlite3")
        try:
            with httpx.Client(headers={"Authorization": f"X-API-Key: {KEY}"}, timeout=600) as h:
                started = time.perf_counter()
                project = seed(h, url)
                print(
                    f"seeded {ASSETS * LABELS_PER_ASSET:,} labels in {time.perf_counter() - started:.0f} s"
                )
            for name, heavy in (
                ("idle", None),
                ("100k labels", LABELS_PAGE),
                (f"{args.aliases} x 1,000 assets", aliases(args.aliases)),
            ):
                print(
                    f"{name} ({args.heavy if heavy else 0} heavy in flight, {args.seconds:.0f} s):"
                )
                scenario(url, project, heavy, args.heavy, args.seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
