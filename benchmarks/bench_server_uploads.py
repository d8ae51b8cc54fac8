"""Uploads the local server takes per second, and its CPU per upload, with a client that
costs next to nothing (aiohttp, ~0.15 ms of CPU per PUT): the server's own upload path.

Run: ``python benchmarks/bench_server_uploads.py [--uploads 4000] [--size 260]
[--loads 0:16,50:64] [--before REF] [--repeat 2]``

``aiokili server`` runs in its own process (SQLite file, ``--latency-ms``); the benchmark
asks signed URLs (by 30) and then PUTs ``--uploads`` bodies of ``--size`` bytes, with
``concurrency`` requests in flight, for each ``latency_ms:concurrency`` of ``--loads``.
Reported: PUTs per second, the answers' round trip (p50 / p90), and the server process's
CPU per upload (user and kernel, over the whole run, signed URLs included). ``--before
REF`` also runs the server as of that git ref (``git archive``), alternating with the
current one round after round. Noisy machines: compare figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from _helpers import KEY, ROOT, client_from, machine_note, real_server

SIGN = "query ($p: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $p) }"
HEADERS = {"Authorization": f"X-API-Key: {KEY}", "Content-Type": "application/json"}


def _cpu(pid: int) -> tuple[float, float]:
    """User and kernel CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def _uploads(url: str, n: int, size: int, concurrency: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        targets: list[str] = []
        for start in range(0, n, 30):
            paths = [f"bench/{i}" for i in range(start, min(n, start + 30))]
            body = json.dumps({"query": SIGN, "variables": {"p": paths}})
            async with session.post(url, data=body, headers=HEADERS) as answer:
                urls = (await answer.json())["data"]["urls"]
            targets += [u.split("&id=")[0] for u in urls]
        body, waits = b"x" * size, []

        async def worker() -> None:
            while targets:
                target = targets.pop()
                sent = time.perf_counter()
                async with session.put(target, data=body) as answer:
                    await answer.read()
                    assert answer.status == 200, answer.status
                waits.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    waits.sort()
    return {"rate": n / wall, "p50": waits[len(waits) // 2], "p90": waits[int(len(waits) * 0.9)]}


def _run(side: str, src: str | None, latency: float, concurrency: int, args: Any) -> str:
    if src:
        os.environ["PYTHONPATH"] = src
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            real_server(Path(folder) / "kili.sqlite3", latency) as server,
        ):
            user, kernel = _cpu(server.pid)
            got = asyncio.run(_uploads(server.url, args.uploads, args.size, concurrency))
            user2, kernel2 = _cpu(server.pid)
    finally:
        os.environ.pop("PYTHONPATH", None)
    per = 1e3 / args.uploads
    return (
        f"| {side} | {latency:g} ms | {concurrency} | {got['rate']:,.0f} | "
        f"{got['p50'] * 1e3:.1f} / {got['p90'] * 1e3:.1f} ms | "
        f"{(user2 - user) * per:.2f} + {(kernel2 - kernel) * per:.2f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=4000)
    parser.add_argument("--size", type=int, default=260, help="bytes per upload")
    parser.add_argument("--loads", default="0:16,50:64", help="latency_ms:in_flight, ...")
    parser.add_argument("--before", help="also run the server as of this git ref")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    loads = [(float(a), int(b)) for a, b in (x.split(":") for x in args.loads.split(","))]
    sides: list[tuple[str, str | None]] = [("current", None)]
    if args.before:
        folder = Path(tempfile.mkdtemp()) / "before"
        src = client_from(args.before, folder)
        (folder / "schema.graphql").write_bytes((ROOT / "schema.graphql").read_bytes())
        sides.insert(0, (f"before ({args.before})", src))
    print(f"Machine: {machine_note()}; {args.uploads:,} uploads of {args.size} bytes\n")
    print("| server | latency | in flight | PUT/s | round trip p50 / p90 | "
          "server CPU per upload (user + kernel) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for _ in range(args.repeat):
        for latency, concurrency in loads:
            for side, src in sides:
                print(_run(side, src, latency, concurrency, args), flush=True)


if __name__ == "__main__":
    main()
