"""Filtered vs unfiltered asset listings on the local server (filters run in SQL).

Run: ``python benchmarks/bench_server_filters.py [--assets 10000]``

Seeds a project with N assets (metadata ``{"size": i % 20, "kind": "a"|"b"}``) and one
label each, then lists every matching asset page by page (count + pages of 100) with no
filter and with each filter, and prints seconds and the ratio to the unfiltered listing.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx

from aiokili.server import LocalServer

LIST = ("query($w: AssetWhere!, $s: Int!) { data: assets(where: $w, first: 100, skip: $s) "
        "{ id externalId jsonMetadata } }")  # fmt: skip
COUNT = "query($w: AssetWhere!) { data: countAssets(where: $w) }"


def call(http: httpx.Client, url: str, query: str, **variables: Any) -> Any:
    body = http.post(url, json={"query": query, "variables": variables}).json()
    assert not body.get("errors"), body
    return body["data"]["data"]


def seed(http: httpx.Client, url: str, n: int) -> str:
    create = 'mutation { data: createProject(data: {title: "bench", inputType: TEXT}) { id } }'
    project = str(call(http, url, create)["id"])
    append = ("mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
              "{ data: appendManyAssets(data: $d, where: $w) { id } }")  # fmt: skip
    meta = [json.dumps({"size": i % 20, "kind": "ab"[i % 2]}) for i in range(n)]
    assets = call(http, url, append, w={"id": project}, d={
        "contentArray": [str(i) for i in range(n)], "jsonMetadataArray": meta})  # fmt: skip
    labels = ("mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
              "{ data: appendManyLabels(data: $d, where: $w) { id } }")  # fmt: skip
    items = [{"assetID": a["id"], "jsonResponse": json.dumps({"JOB": {"categories": [
        {"name": "AB"[i % 2]}]}})} for i, a in enumerate(assets)]  # fmt: skip
    call(http, url, labels, d={"labelType": "DEFAULT", "labelsData": items},
         w={"project": {"id": project}})  # fmt: skip
    return project


def listing(http: httpx.Client, url: str, where: dict[str, Any]) -> tuple[int, float]:
    start = time.perf_counter()
    total = call(http, url, COUNT, w=where)
    n = sum(len(call(http, url, LIST, w=where, s=s)) for s in range(0, total, 100))
    assert n == total
    return n, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=10_000)
    args = parser.parse_args()
    with (
        LocalServer() as server,
        httpx.Client(
            headers={"Authorization": f"X-API-Key: {server.api_key}"}, timeout=300
        ) as http,
    ):
        project = seed(http, server.url, args.assets)
        base = {"project": {"id": project}}
        cases = {
            "unfiltered": base,
            "metadata equality": {**base, "metadata": {"kind": "b"}},
            "metadata range": {**base, "metadata": {"size": [5, 14]}},
            "label category search": {**base, "label": {"search": "JOB.A.count > 0"}},
            "label authorIn": {**base, "label": {"authorIn": ["admin@aiokili.local"]}},
        }
        unfiltered = 0.0
        for name, where in cases.items():
            n, seconds = listing(http, server.url, where)
            unfiltered = unfiltered or seconds
            print(f"{name:24s} {n:7,d} assets {seconds:6.2f} s  {seconds / unfiltered:5.2f}x")


if __name__ == "__main__":
    main()
