"""The local server as a team's shared service (issue 17): SQLite in one process against
PostgreSQL, with 8 clients importing and labelling at once.

Run: ``python benchmarks/bench_team.py [--items 1000000] [--clients 8]
[--stores sqlite,pg1,pg2,pg4] [--skip-labels]``

For each store, ``aiokili server`` runs in processes of its own: a SQLite file (``sqlite``),
or a new database of a throwaway PostgreSQL cluster started from the machine's PostgreSQL
(``tests/postgres_cluster.py``) served by N workers (``pgN``). Then, timed one after the other:

1. import ``--items`` URL assets into one project, from ``--clients`` clients at once (one
   ``AsyncKili`` each, an equal share of the external ids each);
2. append one label to every asset, from the same clients at once (each labels the assets
   it imported, their ids read back by external id);
3. list every label (one client, ``async for``).

Reported: items per second for each step, the server's CPU (user + kernel, its workers
included) and the PostgreSQL cluster's, and peak memory (proportional set size) of the
server's processes together, per worker, and of the cluster. Noisy machines: compare the
figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _helpers import INTERFACE, KEY, ROOT, Service, answer, machine_note

import aiokili

sys.path.insert(0, str(ROOT / "tests"))
import postgres_cluster


def _cpu(pids: list[int]) -> float:
    """User + kernel CPU seconds of ``pids`` (and their waited-for children) so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _pss_mib(pids: list[int]) -> float:
    """Memory of ``pids`` together, in MiB: their proportional set size (shared pages, e.g.
    PostgreSQL's buffers, counted once across processes)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
    return found


@contextlib.contextmanager
def _server(store: str, folder: Path) -> Iterator[tuple[Service, list[int]]]:
    """``aiokili server`` on ``store``; also the PostgreSQL cluster's process ids."""
    command = [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--api-key", KEY]
    if store != "sqlite":
        command += ["--workers", store.removeprefix("pg")]
    if store == "sqlite":
        with _service([*command, "--db", str(folder / "team.sqlite3")]) as service:
            yield service, []
        return
    bindir = postgres_cluster.binaries()
    if bindir is None:
        raise SystemExit(f"no PostgreSQL: {postgres_cluster.HOW}")
    with postgres_cluster.cluster(bindir) as url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE team")
            cluster = [
                pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity")
            ]  # at least this connection's backend: its postmaster is its parent
        parent = int(Path(f"/proc/{cluster[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])
        db = url.rsplit("/", 1)[0] + "/team"
        with _service([*command, "--db", db, "--files", str(folder / "files")]) as service:
            yield service, [parent]


@contextlib.contextmanager
def _service(command: list[str]) -> Iterator[Service]:
    service = Service(command, "aiokili server")
    try:
        yield service
    finally:
        service.stop()


async def _import(url: str, project_id: str, items: int, clients: int) -> None:
    async def one(index: int) -> None:
        mine = range(index, items, clients)
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=url) as kili:
            await kili.append_many_to_dataset(
                project_id=project_id,
                content_array=[f"https://example.com/{i}.jpg" for i in mine],
                external_id_array=[f"asset-{i}" for i in mine],
            )

    await asyncio.gather(*(one(i) for i in range(clients)))


async def _label(url: str, project_id: str, items: int, clients: int) -> None:
    async def one(index: int) -> None:
        mine = [f"asset-{i}" for i in range(index, items, clients)]
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=url) as kili:
            await kili.append_labels(
                project_id=project_id,
                asset_external_id_array=mine,
                json_response_array=[answer(i) for i in range(len(mine))],
            )

    await asyncio.gather(*(one(i) for i in range(clients)))


async def _list(url: str, project_id: str) -> int:
    count = 0
    async with aiokili.AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        async for _ in kili.labels(project_id, fields=["id", "jsonResponse", "labelType"]):
            count += 1
    return count


def _measure(store: str, items: int, clients: int, labels: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, _server(store, Path(folder)) as (srv, db):
        time.sleep(3)  # the workers start
        peak = {"server": 0.0, "worker": 0.0, "database": 0.0}

        def cluster() -> list[int]:
            return [p for d in db for p in _children(d)]

        def sample() -> None:
            server = _children(srv.proc.pid)
            workers = [_pss_mib([p]) for p in server if p != srv.proc.pid]
            peak["server"] = max(peak["server"], _pss_mib(server))
            peak["worker"] = max([peak["worker"], *workers])
            peak["database"] = max(peak["database"], _pss_mib(cluster()))

        def cpu() -> tuple[float, float]:
            return _cpu(_children(srv.proc.pid)), _cpu(cluster())

        async def timed(step: Any) -> float:
            task = asyncio.ensure_future(step)
            start = time.perf_counter()
            while not task.done():
                sample()
                await asyncio.sleep(0.5)
            await task
            return time.perf_counter() - start

        async def main() -> dict[str, Any]:
            async with aiokili.AsyncKili(api_key=KEY, api_endpoint=srv.url) as kili:
                project = await kili.create_project(
                    input_type="IMAGE", json_interface=INTERFACE, title="team"
                )
            before = cpu()
            figures: dict[str, Any] = {"store": store}
            figures["import"] = items / await timed(_import(srv.url, project.id, items, clients))
            if labels:
                figures["labels"] = items / await timed(_label(srv.url, project.id, items, clients))
                start = time.perf_counter()
                listed = await _list(srv.url, project.id)
                assert listed == items, (listed, items)
                figures["list"] = listed / (time.perf_counter() - start)
            after = cpu()
            figures["server_cpu_s"] = after[0] - before[0]
            figures["db_cpu_s"] = after[1] - before[1]
            figures["peak"] = dict(peak)
            return figures

        return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stores", default="sqlite,pg1,pg2,pg4")
    parser.add_argument("--skip-labels", action="store_true")
    args = parser.parse_args()
    print(machine_note())
    print(f"{args.items:,} items, {args.clients} clients")
    print(
        "| store | import items/s | labels items/s | list labels/s | server CPU s | "
        "PostgreSQL CPU s | server MiB | per worker MiB | PostgreSQL MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for store in args.stores.split(","):
        f = _measure(store, args.items, args.clients, not args.skip_labels)
        print(
            f"| {store} | {f['import']:,.0f} | {f.get('labels', 0):,.0f} | "
            f"{f.get('list', 0):,.0f} | {f['server_cpu_s']:.1f} | {f['db_cpu_s']:.1f} | "
            f"{f['peak']['server']:.0f} | {f['peak']['worker']:.0f} | "
            f"{f['peak']['database']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
