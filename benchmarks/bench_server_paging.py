"""Deep offset paging on the local server: time per page at skip=0 vs skip=900,000.

Run: ``python benchmarks/bench_server_paging.py [--labels 1000000] [--walk]``

Seeds a project with N labels straight through the store (``executemany``), then times
``labels(first: 100, skip: s)`` pages over HTTP. A cold jump to a deep ``skip`` walks the
rows once; later pages start from the remembered boundary (``server/paging.py``), so a
page-by-page listing stays linear. ``--walk`` lists everything in pages of 1,000.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx

from aiokili.server import LocalServer
from aiokili.server.store.db import new_id, now

PAGE = ("query($w: LabelWhere!, $s: Int!, $f: PageSize!) { data: labels(where: $w, first: $f,"
        " skip: $s) { id assetId labelType jsonResponse author { id email } } }")  # fmt: skip


def seed(server: LocalServer, n: int) -> str:
    store = server.store
    user = store.users.user_for_key(server.api_key)
    assert user is not None
    project = store.projects.create({"title": "paging", "inputType": "TEXT"}, user.id)
    at, answer = now(), json.dumps({"JOB": {"categories": [{"name": "A"}]}})
    assets = [new_id() for _ in range(1000)]
    with store.db.write() as c:
        c.executemany("INSERT INTO assets (id, project_id, external_id, content, json_content, "
                      "json_metadata, status, is_honeypot, created_at, updated_at) VALUES "
                      "(?,?,?,'','','{}','LABELED',0,?,?)",
                      [(a, project.id, a, at, at) for a in assets])  # fmt: skip
        c.executemany("INSERT INTO labels (id, project_id, asset_id, author_id, label_type, "
                      "json_response, created_at, updated_at) VALUES (?,?,?,?,'DEFAULT',?,?,?)",
                      ((new_id(), project.id, assets[i % 1000], user.id, answer, at, at)
                       for i in range(n)))  # fmt: skip
    return project.id


def page(http: httpx.Client, url: str, project: str, skip: int, first: int = 100) -> float:
    start = time.perf_counter()
    body: dict[str, Any] = http.post(url, json={"query": PAGE, "variables": {
        "w": {"project": {"id": project}}, "s": skip, "f": first}}).json()  # fmt: skip
    assert not body.get("errors") and len(body["data"]["data"]) == first, body
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--walk", action="store_true")
    args = parser.parse_args()
    deep = args.labels * 9 // 10
    with (
        LocalServer() as server,
        httpx.Client(
            headers={"Authorization": f"X-API-Key: {server.api_key}"}, timeout=600
        ) as http,
    ):
        start = time.perf_counter()
        project = seed(server, args.labels)
        print(f"seeded {args.labels:,} labels in {time.perf_counter() - start:.1f} s")
        shallow = [page(http, server.url, project, s) for s in range(0, 1000, 100)]
        cold = page(http, server.url, project, deep)
        warm = [page(http, server.url, project, deep + s) for s in range(100, 1100, 100)]
        print(f"page at skip=0..900 (sequential):       median {sorted(shallow)[5]:7.1f} ms")
        print(f"page at skip={deep:,} (cold jump):    {cold:7.1f} ms")
        print(f"next pages after skip={deep:,}:       median {sorted(warm)[5]:7.1f} ms")
        if args.walk:
            start = time.perf_counter()
            for s in range(0, args.labels, 1000):
                page(http, server.url, project, s, 1000)
            print(f"walked {args.labels:,} labels in pages of 1,000: "
                  f"{time.perf_counter() - start:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
