"""List labels with the official SDK, aiokili and the raw httpx floors; print labels/s, client
CPU µs per label and the ratios, all from one run.

Run: ``python benchmarks/bench_list_labels.py [--labels 20000] [--long-labels 100000]
[--latencies 0,50] [--repeat 3] [--mode both]``

Contenders, each in a fresh process of its own, all reading the same labels with the same
fields (the official SDK's defaults), rotated from one round to the next:

* ``official`` — kili 26.2.4 in its own virtualenv, ``labels(as_generator=True)``;
* ``aiokili default`` — ``async for label in kili.labels(...)``, default settings;
* ``aiokili prefetch=1`` — the same, one page at a time;
* ``raw sync floor`` — ``httpx.Client`` + ``json.loads``, the same documents and pages,
  sequential (what the issue measured);
* ``raw async floor`` — the same with ``httpx.AsyncClient`` (the floor of an async client).

Modes: ``real`` talks to ``aiokili server`` (its own process, SQLite, ``--latency-ms``);
``canned`` replays answers recorded from the real server (``_canned.py``), so the server
costs almost no CPU and the client's CPU is measured without that noise. The official SDK
has two regimes: short listings stay under its 500 requests/minute limit (20,000 labels
are ~200 requests), long ones (``--long-labels``) hit it; the long regime runs once, real
server, 0 ms. Labels are seeded straight into the server's SQLite file through its store.

Machines are noisy: compare figures within one run. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _helpers import (
    FIELDS,
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

SCHEMA = str(ROOT / "schema.graphql")
OFFICIAL = "official kili 26.2.4"
DEFAULT = "aiokili default"
SEQUENTIAL = "aiokili prefetch=1"
SYNC_FLOOR = "raw sync floor (httpx.Client + json.loads)"
ASYNC_FLOOR = "raw async floor (httpx.AsyncClient + json.loads)"
BEFORE = "aiokili default, before"
ALL_FIELDS = "aiokili default, all Label fields"
ALL_FLOOR = "raw async floor, all Label fields"


def tasks(
    url: str,
    project_id: str,
    n: int,
    *,
    official: bool,
    all_fields: bool,
    before: str | None = None,
) -> dict[str, dict[str, Any]]:
    base = {"url": url, "project_id": project_id, "fields": FIELDS, "expect": n}
    out = {
        DEFAULT: {**base, "kind": "list-aiokili"},
        SEQUENTIAL: {**base, "kind": "list-aiokili", "prefetch": 1},
        SYNC_FLOOR: {**base, "kind": "list-raw-sync"},
        ASYNC_FLOOR: {**base, "kind": "list-raw-async"},
    }
    if before:
        out[BEFORE] = {**base, "kind": "list-aiokili", "client_src": before}
    if all_fields:
        out[ALL_FIELDS] = {**base, "kind": "list-aiokili", "fields": None}
        out[ALL_FLOOR] = {**base, "kind": "list-raw-async", "fields": None}
    if official:
        out[OFFICIAL] = {**base, "kind": "list", "schema_file": SCHEMA}
    return {name: {**task, "name": name} for name, task in out.items()}


def run(name: str, task: dict[str, Any]) -> dict[str, Any]:
    result = run_contender(task, official=name == OFFICIAL)
    if result["n"] != task["expect"]:
        raise RuntimeError(f"{name} listed {result['n']} labels, not {task['expect']}")
    return result


def rounds(named: dict[str, dict[str, Any]], repeat: int, log: Callable[[str], None]) -> list[Row]:
    rows = {name: Row(name) for name in named}
    names = list(named)
    for r in range(repeat):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            result = run(name, named[name])
            rows[name].runs.append(result)
            log(f"  round {r + 1}: {name:48s} {result['n'] / result['wall']:9,.0f} labels/s "
                f"{result['cpu'] / result['n'] * 1e6:6.1f} µs/label")  # fmt: skip
    order = [OFFICIAL, DEFAULT, SEQUENTIAL, BEFORE, ALL_FIELDS, SYNC_FLOOR, ASYNC_FLOOR, ALL_FLOOR]
    return [rows[n] for n in order if n in rows]


def report(title: str, rows: list[Row], out: list[str]) -> None:
    names = {r.name for r in rows}
    text = f"### {title}\n\n" + table(
        rows, "label", OFFICIAL if OFFICIAL in names else None, ASYNC_FLOOR
    )
    by = {r.name: r for r in rows}
    extra = []
    for floor in (SYNC_FLOOR, ASYNC_FLOOR):
        if DEFAULT in by and floor in by:
            d, f = by[DEFAULT], by[floor]
            extra.append(f"aiokili default vs {floor}: CPU {d.median_cpu / f.median_cpu:.2f}x "
                         f"(min {d.min_cpu / f.min_cpu:.2f}x), throughput "
                         f"{d.median_rate / f.median_rate:.2f}x")  # fmt: skip
    if ALL_FIELDS in by and ALL_FLOOR in by:
        d, f = by[ALL_FIELDS], by[ALL_FLOOR]
        extra.append(
            f"all fields: aiokili vs its async floor: CPU {d.median_cpu / f.median_cpu:.2f}x"
        )
    text += "\n\n" + "\n".join(f"- {line}" for line in extra) + "\n"
    print("\n" + text, flush=True)
    out.append(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=20_000, help="short listing (default 20,000)")
    parser.add_argument("--long-labels", type=int, default=100_000,
                        help="long listing for the official SDK's rate-limited regime; 0: skip")  # fmt: skip
    parser.add_argument("--latencies", default="0,50", help="server latencies in ms (default 0,50)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per latency (default 3)")
    parser.add_argument("--mode", choices=["real", "canned", "both"], default="both")
    parser.add_argument("--no-official", action="store_true", help="leave the official SDK out")
    parser.add_argument("--all-fields", action="store_true",
                        help="also list every Label field (aiokili and its floor)")  # fmt: skip
    parser.add_argument("--before", help="also run aiokili's default listing as of this git ref")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    official = not args.no_official
    out: list[str] = [f"Machine: {machine_note()}; {time.strftime('%Y-%m-%d %H:%M')}"]
    print(out[0], flush=True)

    def log(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        before = client_from(args.before, Path(tmp) / "before") if args.before else None
        db = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        short_project = seed_via_store(db, args.labels)
        long_project = seed_via_store(db, args.long_labels) if args.long_labels else None
        log(f"seeded {args.labels + args.long_labels:,} labels into SQLite in "
            f"{time.perf_counter() - started:.1f} s")  # fmt: skip

        if args.mode in ("real", "both"):
            for latency in latencies:
                with real_server(db, latency) as server:
                    log(f"\nreal server, {latency:g} ms, {args.labels:,} labels")
                    named = tasks(server.url, short_project, args.labels,
                                  official=official, all_fields=args.all_fields, before=before)  # fmt: skip
                    rows = rounds(named, args.repeat, log)
                    report(f"Real server, {latency:g} ms latency, {args.labels:,} labels "
                           f"(official: short regime)", rows, out)  # fmt: skip

        if args.mode in ("canned", "both"):
            store = Path(tmp) / "canned.pickle"
            with real_server(db, 0) as server, recording_proxy(server, store) as proxy:
                log("\nrecording the real server's answers")
                for name, task in tasks(proxy.url, short_project, args.labels,
                                        official=official, all_fields=args.all_fields, before=before).items():  # fmt: skip
                    run(name, task)
            for latency in latencies:
                with canned_server(store, latency) as canned:
                    log(f"\ncanned server, {latency:g} ms, {args.labels:,} labels")
                    named = tasks(canned.url, short_project, args.labels,
                                  official=official, all_fields=args.all_fields, before=before)  # fmt: skip
                    rows = rounds(named, args.repeat, log)
                    report(f"Canned server (client CPU only), {latency:g} ms latency, "
                           f"{args.labels:,} labels", rows, out)  # fmt: skip

        if long_project is not None:
            with real_server(db, 0) as server:
                log(f"\nlong listing: real server, 0 ms, {args.long_labels:,} labels")
                named = tasks(server.url, long_project, args.long_labels,
                              official=official, all_fields=False, before=before)  # fmt: skip
                named.pop(SEQUENTIAL)
                named.pop(SYNC_FLOOR)
                rows = rounds(named, 1, log)
                report(f"Real server, 0 ms, {args.long_labels:,} labels "
                       "(official: rate-limited regime, 500 requests/min)", rows, out)  # fmt: skip

    if args.markdown:
        args.markdown.write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
