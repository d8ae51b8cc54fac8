"""Import assets with the official SDK, aiokili and a raw httpx floor; print assets/s, client
CPU µs per asset and the ratios, all from one run.

Run: ``python benchmarks/bench_import.py [--assets 5000] [--latencies 0,50]
[--latency-assets 2000] [--kinds urls,text,files] [--repeat 2]``

Three kinds of content, each into a project of its own (every run with new external ids):

* ``urls`` — image URLs (IMAGE project): nothing to upload;
* ``text`` — raw texts of ~260 bytes (TEXT project): each is uploaded through a signed URL;
* ``files`` — local text files of 1 KiB (TEXT project; 100 files, each imported many
  times): uploaded through signed URLs, streamed from disk by aiokili.

Contenders, each in a fresh process of its own, rotated from one round to the next:
``official`` (kili 26.2.4, ``append_many_to_dataset``), ``aiokili`` (default settings) and,
at 0 ms only, the raw floors: the requests every client must send (existing external ids by
1,000, signed URLs by 30, one PUT per upload, ``appendManyAssets`` by 100), one after the
other with ``httpx.Client`` (sync floor) or ``httpx.AsyncClient`` (async floor), bodies
built with ``json.dumps`` and answers decoded with ``json.loads``. Under latency the sequential floor would only measure the latency, so
latency rounds import ``--latency-assets`` assets and leave the floor out.

The server is ``aiokili server`` in its own process (SQLite file, ``--latency-ms``); the
client CPU of a contender is its own process's, measured around the import only.
Machines are noisy: compare figures within one run. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import itertools
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
    client_from,
    machine_note,
    real_server,
    run_contender,
    table,
)

from aiokili import AsyncKili

SCHEMA = str(ROOT / "schema.graphql")
OFFICIAL = "official kili 26.2.4"
AIOKILI = "aiokili default"
FLOOR = "raw sync floor (httpx.Client + json.loads)"
ASYNC_FLOOR = "raw async floor (httpx.AsyncClient + json.loads)"
BEFORE = "aiokili default, before"
FILES = 100
_tags = itertools.count()


async def projects(url: str) -> dict[str, str]:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        image = await kili.create_project(
            title="urls", input_type="IMAGE", json_interface=INTERFACE
        )
        text = await kili.create_project(title="text", input_type="TEXT", json_interface=INTERFACE)
        files = await kili.create_project(
            title="files", input_type="TEXT", json_interface=INTERFACE
        )
        return {"urls": image.id, "text": text.id, "files": files.id}


def tasks(
    url: str,
    project: str,
    kind: str,
    n: int,
    files_dir: Path,
    *,
    official: bool,
    floor: bool,
    before: str | None = None,
) -> dict[str, dict[str, Any]]:
    base = {"url": url, "project_id": project, "content": kind, "n": n,
            "files_dir": str(files_dir), "files": FILES, "schema_file": SCHEMA}  # fmt: skip
    out: dict[str, dict[str, Any]] = {AIOKILI: {**base, "kind": "import-aiokili"}}
    if before:
        out[BEFORE] = {**base, "kind": "import-aiokili", "client_src": before}
    if floor:
        out[FLOOR] = {**base, "kind": "import-raw"}
        out[ASYNC_FLOOR] = {**base, "kind": "import-raw-async"}
    if official:
        out[OFFICIAL] = {**base, "kind": "import"}
    return {name: {**task, "name": name} for name, task in out.items()}


def rounds(named: dict[str, dict[str, Any]], repeat: int) -> list[Row]:
    rows = {name: Row(name) for name in named}
    names = list(named)
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            task = {**named[name], "tag": f"{name[:3]}{next(_tags)}"}
            result = run_contender(task, official=name == OFFICIAL)
            if result["n"] != task["n"]:
                raise RuntimeError(f"{name} imported {result['n']} assets, not {task['n']}")
            rows[name].runs.append(result)
            print(f"  round {r + 1}: {name:44s} {result['n'] / result['wall']:8,.0f} assets/s "
                  f"{result['cpu'] / result['n'] * 1e6:7.1f} µs/asset "
                  f"(peak RSS {result['max_rss_mib']:.0f} MiB)", flush=True)  # fmt: skip
    return [rows[n] for n in (OFFICIAL, AIOKILI, BEFORE, FLOOR, ASYNC_FLOOR) if n in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=5_000, help="per import at 0 ms")
    parser.add_argument("--latency-assets", type=int, default=2_000,
                        help="per import when the latency is not 0")  # fmt: skip
    parser.add_argument("--latencies", default="0,50", help="server latencies in ms (default 0,50)")
    parser.add_argument("--kinds", default="urls,text,files")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--before", help="also run aiokili as of this git ref (e.g. main)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    out = [f"Machine: {machine_note()}; {time.strftime('%Y-%m-%d %H:%M')}"]
    print(out[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        before = client_from(args.before, Path(tmp) / "before") if args.before else None
        files_dir = Path(tmp) / "files"
        files_dir.mkdir()
        for i in range(FILES):
            (files_dir / f"f{i}.txt").write_text(f"local file {i}\n" + "x" * 1000 + "\n")
        db = Path(tmp) / "import.sqlite3"
        for latency in [float(x) for x in args.latencies.split(",") if x.strip()]:
            n = args.assets if latency == 0 else args.latency_assets
            with real_server(db, latency) as server:
                ids = anyio.run(projects, server.url)
                for kind in kinds:
                    print(f"\n{kind}: {n:,} assets, server latency {latency:g} ms", flush=True)
                    named = tasks(server.url, ids[kind], kind, n, files_dir,
                                  official=not args.no_official, floor=latency == 0,
                                  before=before)  # fmt: skip
                    rows = rounds(named, args.repeat)
                    text = (f"### Import of {n:,} assets: {kind}, {latency:g} ms latency\n\n"
                            + table(rows, "asset", OFFICIAL if not args.no_official else None,
                                    FLOOR if latency == 0 else None))  # fmt: skip
                    by = {r.name: r for r in rows}
                    for floor in (FLOOR, ASYNC_FLOOR):
                        if floor in by:
                            a, f = by[AIOKILI], by[floor]
                            text += (f"\n\n- aiokili vs {floor}: CPU {a.median_cpu / f.median_cpu:.2f}x "
                                     f"(min {a.min_cpu / f.min_cpu:.2f}x), throughput "
                                     f"{a.median_rate / f.median_rate:.2f}x")  # fmt: skip
                    print("\n" + text, flush=True)
                    out.append(text)
    if args.markdown:
        args.markdown.write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
