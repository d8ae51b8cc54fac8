"""Issue 16's adaptive concurrency and cheaper requests, in one run.

Run: ``python benchmarks/bench_adaptive.py [--parts latency,ratelimit] [--repeat 2]
[--urls 10000] [--uploads 6000] [--labels 20000] [--per-minute 600] [--seconds 120]``

* ``latency`` — every import kind (image URLs; raw texts and local files, both uploaded
  through signed URLs) and a label listing, with default settings, against two ``aiokili
  server`` processes at once, one at 0 ms and one at 50 ms of latency (same data, same
  sizes), the contenders alternating between them round after round: throughput at 50 ms
  as a share of the same contender's at 0 ms. Contenders: aiokili with its default
  transport (``"auto"``: httpx, then aiohttp for bulk work), over httpx alone and over
  aiohttp alone (``http_transport=``), and at 0 ms the raw floors
  (the same requests one after the other with ``httpx.Client`` / ``httpx.AsyncClient``,
  ``_contenders.py``): client CPU per item against both floors. An import's fixed round
  trips (the project's input type, the first signed URLs, the ramp-up, the last append:
  ~0.4 s at 50 ms) would be 15% of a 2,000-item upload at 50 ms, hence 6,000 by default:
  the ratio is one of throughputs.
* ``ratelimit`` — ``aiokili server --rate-limit`` at ``--per-minute`` requests per minute
  per key (token bucket, 429 with ``Retry-After``), 0 ms: aiokili imports URL assets for
  about ``--seconds`` seconds with default settings while the benchmark reads the server's
  counts of accepted and refused GraphQL requests (``GET /faults``, counted because a
  fault spec injecting nothing is set) every second: the share of 429 answers, the
  accepted rate per 10 s and after the first 30 s against the limit, and the assets
  imported against those stored.

Each contender runs in a fresh process of its own; the servers in others. Machines are
noisy: compare figures within one run. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from _helpers import (
    FIELDS,
    INTERFACE,
    KEY,
    ROOT,
    Row,
    Service,
    machine_note,
    real_server,
    run_contender,
    seed_via_store,
)

from aiokili import AsyncKili

HERE = Path(__file__).resolve().parent
SCHEMA = str(ROOT / "schema.graphql")
FILES = 100
DEFAULT, HTTPX, AIOHTTP = "aiokili (default: auto)", "aiokili (httpx)", "aiokili (aiohttp)"
SYNC, ASYNC = "raw sync floor", "raw async floor"
_tags = itertools.count()


async def new_projects(url: str) -> dict[str, str]:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        out = {}
        for kind, input_type in (("urls", "IMAGE"), ("text", "TEXT"), ("files", "TEXT")):
            project = await kili.create_project(
                title=kind, input_type=input_type, json_interface=INTERFACE
            )
            out[kind] = project.id
        return out


def contenders(kind: str, url: str, project: str, n: int, files: Path, *, floors: bool) -> dict[str, dict[str, Any]]:  # fmt: skip
    if kind == "list":
        base: dict[str, Any] = {"url": url, "project_id": project, "fields": FIELDS, "expect": n}
        out = {DEFAULT: {**base, "kind": "list-aiokili"},
               HTTPX: {**base, "kind": "list-aiokili", "http_transport": "httpx"},
               AIOHTTP: {**base, "kind": "list-aiokili", "http_transport": "aiohttp"}}  # fmt: skip
        if floors:
            out[SYNC] = {**base, "kind": "list-raw-sync"}
            out[ASYNC] = {**base, "kind": "list-raw-async"}
        return out
    base = {"url": url, "project_id": project, "content": kind, "n": n, "expect": n,
            "files_dir": str(files), "files": FILES, "schema_file": SCHEMA}  # fmt: skip
    out = {DEFAULT: {**base, "kind": "import-aiokili"},
           HTTPX: {**base, "kind": "import-aiokili", "http_transport": "httpx"},
           AIOHTTP: {**base, "kind": "import-aiokili", "http_transport": "aiohttp"}}  # fmt: skip
    if floors:
        out[SYNC] = {**base, "kind": "import-raw"}
        out[ASYNC] = {**base, "kind": "import-raw-async"}
    return out


def one(name: str, task: dict[str, Any]) -> dict[str, Any]:
    task = {**task, "name": name, "tag": f"t{next(_tags)}"}
    result = run_contender(task)
    if result["n"] != task["expect"]:
        raise RuntimeError(f"{name} did {result['n']} items, not {task['expect']}")
    return result


def latency_part(args: argparse.Namespace, tmp: Path, out: list[str]) -> None:
    files = tmp / "files"
    files.mkdir()
    for i in range(FILES):
        (files / f"f{i}.txt").write_text(f"local file {i}\n" + "x" * 1000 + "\n")
    dbs = {lat: tmp / f"lat{lat}.sqlite3" for lat in (0, 50)}
    listed = {lat: seed_via_store(db, args.labels) for lat, db in dbs.items()}
    sizes = {"urls": args.urls, "text": args.uploads, "files": args.uploads, "list": args.labels}
    kinds = [k for k in args.kinds.split(",") if k]
    rows: dict[tuple[str, int, str], Row] = {}
    with real_server(dbs[0], 0) as fast, real_server(dbs[50], 50) as slow:
        servers = {0: fast, 50: slow}
        projects = {lat: anyio.run(new_projects, s.url) for lat, s in servers.items()}
        for r in range(args.repeat):
            for kind in kinds:
                for lat, server in servers.items():
                    project = listed[lat] if kind == "list" else projects[lat][kind]
                    named = contenders(kind, server.url, project, sizes[kind], files,
                                       floors=lat == 0)  # fmt: skip
                    names = list(named)
                    names = names[r % len(names) :] + names[: r % len(names)]
                    for name in names:
                        result = one(name, named[name])
                        rows.setdefault((kind, lat, name), Row(name)).runs.append(result)
                        print(f"  round {r + 1}: {kind:5s} {lat:2d} ms {name:24s} "
                              f"{result['n'] / result['wall']:8,.0f} items/s "
                              f"{result['cpu'] / result['n'] * 1e6:8.1f} µs/item", flush=True)  # fmt: skip
    lines = ["### Throughput at 50 ms as a share of 0 ms, and client CPU per item (0 ms)", "",
             "Items per import or listing: " + ", ".join(f"{k} {sizes[k]:,}" for k in kinds)
             + f"; {args.repeat} rounds, medians (best in brackets).", "",
             "| kind | contender | items/s at 0 ms | items/s at 50 ms | 50 ms / 0 ms | "
             "CPU µs/item at 0 ms | vs sync floor | vs async floor |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for kind in kinds:
        sync, asyn = rows.get((kind, 0, SYNC)), rows.get((kind, 0, ASYNC))
        for name in (DEFAULT, HTTPX, AIOHTTP, SYNC, ASYNC):
            zero, fifty = rows.get((kind, 0, name)), rows.get((kind, 50, name))
            if zero is None:
                continue
            cells = [kind, name, f"{zero.median_rate:,.0f} ({zero.best_rate:,.0f})"]
            if fifty is not None:
                cells += [f"{fifty.median_rate:,.0f} ({fifty.best_rate:,.0f})",
                          f"**{fifty.median_rate / zero.median_rate:.0%}**"]  # fmt: skip
            else:
                cells += ["", ""]
            cells.append(f"{zero.median_cpu:.1f} ({zero.min_cpu:.1f})")
            cells += [f"{zero.median_cpu / f.median_cpu:.2f}x" if f else "" for f in (sync, asyn)]
            lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print("\n" + text, flush=True)
    out.append(text)


Sample = tuple[float, int, int]
"""Server counts at a time: (monotonic s, GraphQL requests accepted, answered 429)."""


async def _import_for(url: str, seconds: float, samples: list[Sample]) -> tuple[int, int]:
    """Import URL assets in calls of 2,000 until ``seconds`` passed, reading the server's
    counts (``GET /faults``) every second into ``samples``; (assets imported, stored)."""
    n, started = 0, time.monotonic()
    origin = str(httpx.URL(url).copy_with(path="/", query=None)).rstrip("/")
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        project = await kili.create_project(
            title="ratelimit", input_type="IMAGE", json_interface=INTERFACE
        )
        async with httpx.AsyncClient(timeout=30) as http, anyio.create_task_group() as tg:

            async def poll() -> None:
                while True:
                    counts = (await http.get(origin + "/faults")).json()
                    samples.append((time.monotonic(), counts["requests"], counts["rate_limited"]))
                    await anyio.sleep(1)

            tg.start_soon(poll)
            while time.monotonic() - started < seconds:
                result = await kili.append_many_to_dataset(
                    project.id,
                    content_array=[f"https://img.example/{n + i}.jpg" for i in range(2000)],
                    external_id_array=[f"r{n + i}" for i in range(2000)],
                )
                n += len(result["asset_ids"])
            await anyio.sleep(1.1)  # one more sample, after the last request
            tg.cancel_scope.cancel()
        stored = await kili.count_assets(project.id)
    return n, stored


def ratelimit_part(args: argparse.Namespace, tmp: Path, out: list[str]) -> None:
    command = [sys.executable, "-m", "aiokili.cli", "server", "--port", "0",
               "--db", str(tmp / "rl.sqlite3"), "--api-key", KEY,
               "--rate-limit", f"{args.per_minute:g}/min",
               "--faults", "503=0; seed=1"]  # fmt: skip  # a spec, so requests are counted
    service = Service(command, "aiokili server --rate-limit")
    samples: list[Sample] = []
    try:
        n, stored = anyio.run(_import_for, service.url, args.seconds, samples)
    finally:
        service.stop()
    start, end = samples[0], samples[-1]
    limit = args.per_minute / 60
    windows = []
    for w in range(0, int(end[0] - start[0]), 10):
        inside = [s for s in samples if start[0] + w <= s[0] <= start[0] + w + 10]
        if len(inside) < 2:
            continue
        first, last = inside[0], inside[-1]
        rate = (last[1] - first[1]) / (last[0] - first[0])
        windows.append(f"| {w}-{w + 10} s | {rate:.1f} | {rate / limit:.0%} | "
                       f"{last[2] - first[2]} |")  # fmt: skip
    settle = next(s for s in samples if s[0] >= start[0] + 30)
    after = (end[1] - settle[1]) / (end[0] - settle[0])
    accepted, refused = end[1] - start[1], end[2] - start[2]
    share = refused / (accepted + refused)
    text = "\n".join([
        f"### Under a rate limit of {args.per_minute:g} requests/min per key ({limit:g}/s), 0 ms",
        "",
        f"`aiokili server --rate-limit {args.per_minute:g}/min`, counts read from its "
        f"`GET /faults` every second. aiokili default settings, URL imports of 2,000 assets "
        f"per call for {end[0] - start[0]:.0f} s: {n:,} assets imported, {stored:,} stored; "
        f"{accepted:,} requests accepted, **{refused} answered 429 ({share:.1%} of "
        f"answers)**; accepted after the first 30 s: **{after * 60:.0f} requests/min = "
        f"{after / limit:.0%} of the limit**.",
        "",
        "| window | accepted requests/s | of the limit | 429 answers |",
        "|---|---:|---:|---:|",
        *windows,
    ])  # fmt: skip
    print("\n" + text, flush=True)
    out.append(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="latency,ratelimit")
    parser.add_argument("--kinds", default="urls,text,files,list")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--urls", type=int, default=10_000, help="URL assets per import")
    parser.add_argument("--uploads", type=int, default=6_000, help="texts / files per import")
    parser.add_argument("--labels", type=int, default=20_000, help="labels listed")
    parser.add_argument("--per-minute", type=float, default=600)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    out = [f"Machine: {machine_note()}; {time.strftime('%Y-%m-%d %H:%M')}"]
    print(out[0], flush=True)
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "latency" in parts:
            latency_part(args, Path(tmp), out)
        if "ratelimit" in parts:
            ratelimit_part(args, Path(tmp), out)
    if args.markdown:
        args.markdown.write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
