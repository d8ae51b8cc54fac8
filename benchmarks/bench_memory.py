"""Client memory (RSS, not only Python allocations) of a long listing and of big uploads.

Run: ``python benchmarks/bench_memory.py [labels] [uploads] [--labels 1000000]
[--server real] [--files 100] [--mib 4] [--before main]``

* ``labels``: ``async for label in kili.labels(project_id)`` over N labels (default one
  million, every ``Label`` field), default settings. The labels are seeded straight into
  the server's SQLite file through its store (the time it takes is printed); ``--server
  canned`` instead replays a few thousand recorded labels cyclically (no seeding, server
  almost free). The client process samples its RSS (``/proc/self/status``) every
  ``N / 10`` labels; the peak is ``ru_maxrss``.
* ``uploads``: ``append_many_to_dataset`` of ``--files`` local files of ``--mib`` MiB each.
  Reported: RSS before the import, and the peak. ``--official`` adds the official SDK's
  peak for the same import.

``--before REF`` also runs the aiokili client as of git ``REF`` (e.g. ``main``), against
the same server, for a before/after. Every contender runs in a fresh process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from _helpers import (
    INTERFACE,
    KEY,
    ROOT,
    canned_server,
    client_from,
    machine_note,
    real_server,
    recording_proxy,
    run_contender,
    seed_via_store,
)

from aiokili import AsyncKili


def report_list(name: str, r: dict[str, Any]) -> str:
    samples = ", ".join(f"{n // 1000:,}k: {rss:.0f}" for n, rss in r["samples"])
    return (f"| {name} | {r['n']:,} | {r['n'] / r['wall']:,.0f} | {r['rss_before_mib']:.0f} | "
            f"{r['max_rss_mib']:.0f} | {samples} |")  # fmt: skip


def labels(args: argparse.Namespace, tmp: Path, before: str | None, out: list[str]) -> None:
    n, sample = args.labels, max(1, args.labels // 10)
    db = tmp / "memory.sqlite3"
    started = time.perf_counter()
    if args.server == "real":
        project = seed_via_store(db, n, progress=True)
        seeded = f"seeded {n:,} labels into SQLite through the store in {time.perf_counter() - started:.0f} s"
    else:
        project = seed_via_store(db, 5_000)
        seeded = "5,000 labels recorded, replayed cyclically"
    print(seeded, flush=True)
    rows = []
    contenders = [("aiokili", None)] + (
        [(f"aiokili before ({args.before})", before)] if before else []
    )

    def run(url: str) -> None:
        for name, src in contenders:
            task = {"kind": "memory-list", "url": url, "project_id": project, "sample": sample,
                    "fields": None, "client_src": src, "name": name}  # fmt: skip
            r = run_contender(task)
            print(report_list(name, r), flush=True)
            rows.append(report_list(name, r))

    if args.server == "real":
        with real_server(db, 0) as server:
            run(server.url)
    else:
        store = tmp / "memory.pickle"
        with real_server(db, 0) as server, recording_proxy(server, store) as proxy:
            for name, src in contenders:  # record the pages of each client's documents
                run_contender({"kind": "list-aiokili", "url": proxy.url, "project_id": project,
                               "fields": None, "client_src": src, "name": name})  # fmt: skip
        with canned_server(store, 0, cycle_labels=n) as canned:
            run(canned.url)
    out.append(
        f"### Streaming {n:,} labels ({args.server} server), default settings, all Label fields\n\n"
        f"{seeded}.\n\n| client | labels | labels/s | RSS before (MiB) | peak RSS (MiB) | "
        "RSS (MiB) every 10% |\n|---|---:|---:|---:|---:|---|\n" + "\n".join(rows)
    )


async def project(url: str) -> str:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        p = await kili.create_project(title="files", input_type="TEXT", json_interface=INTERFACE)
        return p.id


def uploads(args: argparse.Namespace, tmp: Path, before: str | None, out: list[str]) -> None:
    folder = tmp / "big"
    folder.mkdir()
    block = bytes(range(256)) * 4096  # 1 MiB
    paths = []
    for i in range(args.files):
        path = folder / f"file{i:03d}.txt"
        with path.open("wb") as f:
            for _ in range(args.mib):
                f.write(block)
        paths.append(str(path))
    rows = []
    with real_server(tmp / "uploads.sqlite3", 0) as server:
        contenders = [("aiokili", None, False)]
        if before:
            contenders.append((f"aiokili before ({args.before})", before, False))
        if args.official:
            contenders.append(("official kili 26.2.4", None, True))
        for name, src, official in contenders:
            project_id = anyio.run(project, server.url)
            if official:
                task = {"kind": "import", "url": server.url, "project_id": project_id,
                        "content": "files", "n": args.files, "files_dir": str(folder),
                        "files": args.files, "tag": "official", "name": name,
                        "schema_file": str(ROOT / "schema.graphql"),
                        "file_pattern": "file{:03d}.txt"}  # fmt: skip
            else:
                task = {"kind": "memory-upload", "url": server.url, "project_id": project_id,
                        "paths": paths, "client_src": src, "name": name}  # fmt: skip
            r = run_contender(task, official=official)
            mib = args.files * args.mib
            row = (f"| {name} | {args.files} × {args.mib} MiB | {mib / r['wall']:,.0f} MiB/s | "
                   f"{r.get('rss_before_mib', float('nan')):.0f} | {r['max_rss_mib']:.0f} |")  # fmt: skip
            print(row, flush=True)
            rows.append(row)
    out.append(
        f"### Uploading {args.files} local files of {args.mib} MiB (real server, 0 ms)\n\n"
        "| client | files | throughput | RSS before (MiB) | peak RSS (MiB) |\n"
        "|---|---|---:|---:|---:|\n" + "\n".join(rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", nargs="*", choices=["labels", "uploads"], default=[])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--server", choices=["real", "canned"], default="real")
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--mib", type=int, default=4)
    parser.add_argument("--official", action="store_true", help="official SDK's upload peak too")
    parser.add_argument("--before", help="also run the aiokili client of this git ref")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    what = args.what or ["labels", "uploads"]
    out = [f"Machine: {machine_note()}; {time.strftime('%Y-%m-%d %H:%M')}"]
    print(out[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        before = client_from(args.before, tmp / "before") if args.before else None
        if "labels" in what:
            labels(args, tmp, before, out)
        if "uploads" in what:
            uploads(args, tmp, before, out)
    print("\n" + "\n\n".join(out[1:]))
    if args.markdown:
        args.markdown.write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
