"""Import assets and append labels under injected faults; count what was lost or doubled.

Run: ``python benchmarks/bench_faults.py [--items 100000] [--spec SPEC]``

Two rounds, each against ``aiokili server`` in its own process over a new SQLite file:
fault-free, then with ``--faults SPEC`` (default: 20% of requests, every kind of fault,
see ``docs/faults.md``). Each round, with aiokili's default settings: import ``--items``
URL assets (IMAGE project), append one label to each, then list the assets and the labels
back. The faults by kind come from the server's ``GET /faults``; the client's retries,
unknown outcomes (mutations not resent) and settle look-ups from its ``aiokili.http`` log.
After each round the SQLite file itself is read (the server stopped): assets by external
id, labels per asset. Lost = asked for and not stored (or reported failed); duplicates =
stored more than once. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
from _helpers import INTERFACE, Service, answer, machine_note
from _shared import KEY

from aiokili import AsyncKili, BulkOperationError

EVERY_KIND = (
    "500=0.02, 502=0.02, 503=0.03, 429=0.02:0s, reset=0.03, reset_after=0.03, "
    "truncated=0.02, malformed=0.02, slow=0.01:50ms; CreateProject: off; seed=16"
)


class Events(logging.Handler):
    """Counts the retry policy's log lines by what they say."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.msg)
        if "; retry %d of %d in" in text:
            self.counts["retries"] += 1
        elif "not resent (it may have been applied)" in text:
            self.counts["unknown outcomes (reconciled)"] += 1
        elif "every request of the client pauses" in text:
            self.counts["client-wide pauses (429 / 503 + Retry-After)"] += 1
        elif "giving up after" in text:
            self.counts["given up"] += 1


@contextlib.contextmanager
def server(db: Path, spec: str | None) -> Iterator[Service]:
    command = [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", str(db),
               "--api-key", KEY]  # fmt: skip
    if spec:
        command += ["--faults", spec]
    service = Service(command, "aiokili server")
    try:
        yield service
    finally:
        service.stop()


async def run(url: str, items: int, max_retries: int | None = None) -> dict[str, Any]:
    externals = [f"asset-{i:06}" for i in range(items)]
    report: dict[str, Any] = {"reported failed": 0}
    async with AsyncKili(api_key=KEY, api_endpoint=url, max_retries=max_retries) as kili:
        project = (
            await kili.create_project(title="faults", input_type="IMAGE", json_interface=INTERFACE)
        ).id
        started = time.perf_counter()
        try:
            result = await kili.append_many_to_dataset(
                project,
                content_array=[f"https://example.com/{e}.jpg" for e in externals],
                external_id_array=externals,
            )
            asset_ids = result["asset_ids"]
        except BulkOperationError as exc:
            report["reported failed"] += len(exc.failures)
            asset_ids = [asset_id for _, asset_id in exc.succeeded]
        report["import s"] = time.perf_counter() - started
        started = time.perf_counter()
        try:
            await kili.append_labels(
                asset_id_array=asset_ids,
                json_response_array=[answer(i) for i in range(len(asset_ids))],
            )
        except BulkOperationError as exc:
            report["reported failed"] += len(exc.failures)
        report["labels s"] = time.perf_counter() - started
        started = time.perf_counter()
        listed = [a.external_id async for a in kili.assets(project, fields=["externalId"])]
        listed_labels = [lb.id async for lb in kili.labels(project, fields=["id"])]
        report["listing s"] = time.perf_counter() - started
    report["listed assets"] = len(listed)
    report["listed distinct"] = len(set(listed))
    report["listed labels"] = len(listed_labels)
    report["project"] = project
    return report


def stored(db: Path, project: str, items: int) -> dict[str, int]:
    """What the database holds: lost and doubled assets and labels."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        externals = Counter(
            e
            for (e,) in con.execute("SELECT external_id FROM assets WHERE project_id=?", [project])
        )
        per_asset = Counter(
            a for (a,) in con.execute("SELECT asset_id FROM labels WHERE project_id=?", [project])
        )
        assets = {a for (a,) in con.execute("SELECT id FROM assets WHERE project_id=?", [project])}
    wanted = {f"asset-{i:06}" for i in range(items)}
    return {
        "assets stored": len(externals),
        "assets lost": len(wanted - set(externals)),
        "assets duplicated": sum(n - 1 for n in externals.values()),
        "labels stored": sum(per_asset.values()),
        "assets without a label": len(assets - set(per_asset)),
        "labels duplicated": sum(n - 1 for n in per_asset.values()),
    }


def round_(items: int, spec: str | None, max_retries: int | None = None) -> dict[str, Any]:
    events = Events()
    logging.getLogger("aiokili.http").addHandler(events)
    logging.getLogger("aiokili.http").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "kili.sqlite3"
        with server(db, spec) as service:
            report = anyio.run(run, service.url, items, max_retries)
            faults = httpx.get(service.origin + "/faults").json()
        report.update(stored(db, report.pop("project"), items))
    logging.getLogger("aiokili.http").removeHandler(events)
    report["requests"] = faults["requests"]
    report["faults"] = faults["faults"]
    report["faults by kind"] = faults["by_kind"]
    report.update(events.counts)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--spec", default=EVERY_KIND)
    parser.add_argument(
        "--max-retries",
        type=int,
        help="the client's max_retries (default: its own, 4). At 20%% of requests faulted, 5 "
        "failures in a row (0.2**5 = 0.03%% of requests) end a listing of 2,000 pages in "
        "about half the runs",
    )
    args = parser.parse_args()
    print(f"{machine_note()}; {args.items:,} assets and labels; faults: {args.spec!r}")
    clean = round_(args.items, None, args.max_retries)
    faulty = round_(args.items, args.spec, args.max_retries)
    names = [k for k in faulty if k != "faults by kind"]
    print("| | fault-free | faults |\n|---|---:|---:|")
    for name in names:
        a, b = clean.get(name, 0), faulty.get(name, 0)
        fa, fb = (f"{a:.1f}", f"{b:.1f}") if name.endswith(" s") else (f"{a:,}", f"{b:,}")
        print(f"| {name} | {fa} | {fb} |")
    for step in ("import s", "labels s", "listing s"):
        print(f"{step}: {faulty[step] / clean[step]:.2f}x the fault-free time")
    print("faults by kind:", json.dumps(faulty["faults by kind"]))


if __name__ == "__main__":
    main()
