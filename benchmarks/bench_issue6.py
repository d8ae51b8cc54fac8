"""Issue 6's speed targets, side by side in one run: importing assets (URLs + external ids +
metadata), appending labels, and listing assets with their labels, with the official SDK,
aiokili and the raw httpx floors, at each server latency.

Run: ``python benchmarks/bench_issue6.py [--items 100000] [--list-items N]
[--official-items 20000] [--latencies 0,50] [--repeat 2] [--ops import,labels,list]
[--concurrency 16] [--servers real,stub]``

Operations (each contender in a fresh process of its own, rotated from round to round):

* ``import`` — ``append_many_to_dataset`` of image URLs with external ids and one metadata
  dict each, into a new IMAGE project per run;
* ``labels`` — ``append_labels(asset_id_array=..., json_response_array=...)``, one label
  per asset, onto assets seeded beforehand;
* ``list`` — ``assets(project_id, fields=FIELDS)`` with ``labels.jsonResponse``, over
  assets seeded beforehand with one label each.

Contenders: ``official`` (kili 26.2.4 in its own virtualenv; ``--official-items`` items,
since its client-side limit of 500 requests per minute would make a 100,000-item run a
measure of that limit: with fewer items it runs unthrottled, its best case; rates are
compared in items/s), ``aiokili default``, ``aiokili concurrency=C`` (bulk operations only,
``--concurrency``), and the raw floors (``_issue6.py``): aiokili's own documents and chunk
sizes with ``httpx.AsyncClient`` + ``json.loads``, with the same number of requests in
flight as aiokili (4 for bulk calls, ``C`` for the ``concurrency=C`` row; listings: 1 and
16, aiokili's window moving between 2 and 16), plus one at a time at 0 ms.

Servers (``--servers``): ``real`` is ``aiokili server`` in its own process (SQLite,
``--latency-ms``), seeded straight through its SQLite file; ``stub`` replays the real
server's answers to reads (recorded through a proxy first) and answers the bulk writes
from the request itself (``_canned.py --synthetic-writes``), so the server costs almost
nothing and the throughput at a latency is the client's own. A contender's CPU is its own process's, around the
work only. Machines are noisy: compare figures within one run. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from _helpers import (
    INTERFACE,
    KEY,
    ROOT,
    Row,
    canned_server,
    client_from,
    machine_note,
    real_server,
    recording_proxy,
    run_contender,
    seed_via_store,
    table,
)

from aiokili import AsyncKili

SCHEMA = str(ROOT / "schema.graphql")
FIELDS = [
    "id",
    "externalId",
    "content",
    "jsonMetadata",
    "labels.id",
    "labels.labelType",
    "labels.jsonResponse",
    "labels.author.email",
]
"""Fields of the asset listing: every contender asks for these."""
OFFICIAL = "official kili 26.2.4"
AIOKILI = "aiokili default"
BEFORE = "aiokili default, before"
_tags = itertools.count()


def seed_assets(db: Path, n: int) -> tuple[str, list[str]]:
    """A project with ``n`` URL assets and no label, written through the server's store
    (server stopped); its id and the asset ids."""
    from aiokili.server.store import SQLiteStore
    from aiokili.server.store.db import new_id, now

    store = SQLiteStore(str(db))
    store.ensure_api_key(KEY)
    user = store.users.user_for_key(KEY)
    assert user is not None
    project = store.projects.create(
        {"title": "labels", "inputType": "IMAGE", "jsonInterface": json.dumps(INTERFACE)}, user.id
    )
    ids, at = [new_id() for _ in range(n)], now()
    with store.db.write() as c:
        c.executemany(
            "INSERT INTO assets (id, project_id, external_id, content, json_content, "
            "json_metadata, status, is_honeypot, created_at, updated_at) VALUES "
            "(?,?,?,?,'','{}','TODO',0,?,?)",
            [(a, project.id, f"l{i}", f"https://img.example/{i}.jpg", at, at)
             for i, a in enumerate(ids)],
        )  # fmt: skip
    store.close()
    return str(project.id), ids


async def new_project(url: str) -> str:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        project = await kili.create_project(
            title="import", input_type="IMAGE", json_interface=INTERFACE
        )
        return project.id


def floor_name(concurrency: int) -> str:
    return f"raw async floor, {concurrency} in flight"


def tasks(
    op: str, base: dict[str, Any], latency: float, args: argparse.Namespace, before: str | None
) -> tuple[dict[str, dict[str, Any]], str]:
    """The contenders of ``op``, and the name of the floor aiokili default is compared with."""
    n = args.list_items if op == "list" and args.list_items else args.items
    small = min(args.official_items, n)
    ours = {**base, "n": n}
    out: dict[str, dict[str, Any]] = {}
    if not args.no_official:
        out[OFFICIAL] = {**base, "n": small, "kind": f"i6-{op}", "schema_file": SCHEMA}
        if op == "list":
            out[OFFICIAL]["first"] = small
    out[AIOKILI] = {**ours, "kind": f"i6-{op}-aiokili"}
    if before:
        out[BEFORE] = {**ours, "kind": f"i6-{op}-aiokili", "client_src": before}
    if op == "list":
        widths, same = [1, 16], 16
    else:
        widths, same = [4], 4
        if args.concurrency:
            c = args.concurrency
            out[f"aiokili concurrency={c}"] = {**ours, "kind": f"i6-{op}-aiokili", "concurrency": c}
            widths.append(c)
        if latency == 0:
            widths.insert(0, 1)
    for k in widths:
        out[floor_name(k)] = {**ours, "kind": f"i6-{op}-raw", "concurrency": k}
    return {name: {**task, "name": name} for name, task in out.items()}, floor_name(same)


def rounds(
    op: str, fresh_url: str | None, named: dict[str, dict[str, Any]], repeat: int
) -> list[Row]:
    """``repeat`` rounds; with ``fresh_url``, each run imports into a new project there."""
    rows = {name: Row(name) for name in named}
    names = list(named)
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            task = {**named[name], "tag": f"t{next(_tags)}"}
            if fresh_url:
                task["project_id"] = anyio.run(new_project, fresh_url)
            result = run_contender(task, official=name == OFFICIAL)
            expect = task.get("first") or task["n"]
            if result["n"] != expect:
                raise RuntimeError(f"{name}: {op} handled {result['n']} items, not {expect}")
            rows[name].runs.append(result)
            print(f"  round {r + 1}: {name:40s} {result['n'] / result['wall']:9,.0f} items/s "
                  f"{result['cpu'] / result['n'] * 1e6:7.1f} µs/item ({result['n']:,} items, "
                  f"{result['wall']:.1f} s)", flush=True)  # fmt: skip
    return list(rows.values())


TITLES = {
    "import": "Import of assets (URLs + external ids + metadata)",
    "labels": "append_labels",
    "list": "Listing assets with labels.jsonResponse",
}


STUB = "stub server (reads replayed, bulk writes answered from the request)"


def bases(
    op: str, url: str, label_project: str, ids_file: Path, list_project: str
) -> dict[str, Any]:
    base: dict[str, Any] = {"url": url}
    if op == "labels":
        base.update(project_id=label_project, ids_file=str(ids_file))
    elif op == "list":
        base.update(project_id=list_project, fields=FIELDS)
    return base


def measure(
    op: str,
    base: dict[str, Any],
    latency: float,
    args: argparse.Namespace,
    before: str | None,
    server: str,
) -> str:
    """Every contender of ``op`` against one server; the Markdown of the results."""
    named, floor = tasks(op, base, latency, args, before)
    sizes = {name: task["n"] for name, task in named.items()}
    print(f"\n{op}: {sizes.get(AIOKILI, 0):,} items (official: {sizes.get(OFFICIAL, 0):,}), "
          f"{latency:g} ms, {server}", flush=True)  # fmt: skip
    fresh = op == "import" and server != STUB
    rows = rounds(op, base["url"] if fresh else None, named, args.repeat)
    text = (f"### {TITLES[op]}, {latency:g} ms, {server}\n\n"
            + table(rows, "item", None if args.no_official else OFFICIAL, floor))  # fmt: skip
    by = {r.name: r for r in rows}
    a, f = by[AIOKILI], by[floor]
    text += (f"\n\n- aiokili default vs {floor}: CPU {a.median_cpu / f.median_cpu:.2f}x"
             f" (min {a.min_cpu / f.min_cpu:.2f}x), throughput "
             f"{a.median_rate / f.median_rate:.2f}x")  # fmt: skip
    if OFFICIAL in by:
        o = by[OFFICIAL]
        text += (f"\n- aiokili default vs official: throughput "
                 f"{a.median_rate / o.median_rate:.2f}x (best {a.best_rate / o.best_rate:.2f}x)")  # fmt: skip
    print("\n" + text, flush=True)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000, help="per run (default 100,000)")
    parser.add_argument("--list-items", type=int, default=0,
                        help="assets listed (default: --items)")  # fmt: skip
    parser.add_argument("--official-items", type=int, default=20_000,
                        help="per official SDK run (default 20,000: under its rate limit)")  # fmt: skip
    parser.add_argument("--latencies", default="0,50", help="server latencies in ms (default 0,50)")
    parser.add_argument("--ops", default="import,labels,list")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="also run aiokili bulk calls with this concurrency (0: not)")  # fmt: skip
    parser.add_argument("--servers", default="real,stub",
                        help="real (aiokili server), stub (canned reads, synthetic bulk writes)")  # fmt: skip
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--before", help="also run aiokili as of this git ref")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    ops = [o for o in args.ops.split(",") if o]
    out = [f"Machine: {machine_note()}; {time.strftime('%Y-%m-%d %H:%M')}"]
    print(out[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        before = client_from(args.before, Path(tmp) / "before") if args.before else None
        db = Path(tmp) / "issue6.sqlite3"
        started = time.perf_counter()
        listed = args.list_items or args.items
        list_project = seed_via_store(db, listed) if "list" in ops else ""
        label_project, ids = seed_assets(db, args.items) if "labels" in ops else ("", [])
        ids_file = Path(tmp) / "asset_ids.json"
        ids_file.write_text(json.dumps(ids))
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
        if "real" in args.servers:
            for latency in latencies:
                with real_server(db, latency) as server:
                    for op in ops:
                        base = bases(op, server.url, label_project, ids_file, list_project)
                        out.append(measure(op, base, latency, args, before, "real server"))
        if "stub" in args.servers:
            store = Path(tmp) / "stub.pickle"
            with real_server(db, 0) as server:
                fixed = anyio.run(new_project, server.url)
                with recording_proxy(server, store) as proxy:
                    print("\nrecording the real server's answers for the stub", flush=True)
                    for op in ops:
                        base = bases(op, proxy.url, label_project, ids_file, list_project)
                        named, _ = tasks(op, base, 0, args, before)
                        for name, task in named.items():
                            if op != "list":  # writes are synthetic: record the reads only
                                task["n"] = min(task["n"], 300)
                            if op == "import":
                                task["project_id"] = fixed
                            run_contender({**task, "tag": f"r{next(_tags)}"},
                                          official=name == OFFICIAL)  # fmt: skip
            for latency in latencies:
                with canned_server(store, latency, synthetic_writes=True) as stub:
                    for op in ops:
                        base = bases(op, stub.url, label_project, ids_file, list_project)
                        if op == "import":
                            base["project_id"] = fixed
                        try:
                            out.append(measure(op, base, latency, args, before, STUB))
                        except RuntimeError:
                            print("".join(stub.output[-5:]), flush=True)
                            raise
    if args.markdown:
        args.markdown.write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
