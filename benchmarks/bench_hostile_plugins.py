"""GraphQL latency of the local server while four hostile plugins run.

Run: ``python benchmarks/bench_hostile_plugins.py [--requests 1000] [--concurrency 1000 100 1]
[--rounds 5] [--loads 0.25 0.5 0.75] [--seconds 10] [--connections 1000]``

The server runs in its own process (``aiokili server``, SQLite file, default plugin limits:
512 MB, 60 s, 128 processes per run). Four plugins are deployed and activated on one
project, then a label sets them all running at once:

* ``memory``: four processes taking and touching 100 MiB, again and again;
* ``fork``: a fork bomb (every process forks forever);
* ``loop``: busy loops in four processes;
* ``disk``: writes, syncs and rewrites 64 MiB files in its scratch folder.

While they run (the benchmark waits until each has logged that it started), batches of
``--requests`` small GraphQL queries (``countProjects`` and ``projects(first: 1)``) are sent
``--concurrency`` at a time, over as many connections (1,000: all at once), ``--rounds``
times; the same is done
before the plugins start. Printed: p50 / p99 / max latency in ms, per round and over all
rounds.

Then, open loop: the server's capacity is measured first (answers per second with a
request always waiting on each of ``--connections`` connections, before the plugins
start), and requests arrive at fixed rates (each ``--loads`` share of that capacity) for
``--seconds`` over as many connections: an arrival does not wait for earlier answers, and
its latency counts from when it was due to be sent (time waiting for a free connection
included). Printed per rate, quiet and hostile: p50 / p99 / max, the rate of answers and
the load generator's own CPU per request (it shares the machine's cores with the server).
Noisy on shared machines: compare figures of the same session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _shared import KEY, start_server

import aiokili

QUERIES = [
    "{ countProjects(where: {}) }",
    "{ projects(where: {}, first: 1, skip: 0) { id title } }",
]
HEAD = (
    "import os, time\n"
    "from aiokili.plugins import PluginCore\n\n"
    "class PluginHandler(PluginCore):\n"
    "    def on_submit(self, label, asset_id):\n"
    "        print('started', flush=True)\n"
)
HOSTILE = {
    "memory": (  # four processes taking and touching 100 MiB again and again
        "        for _ in range(3):\n"
        "            if os.fork() == 0:\n"
        "                break\n"
        "        while True:\n"
        "            hog = bytearray(100 * 1024 * 1024)\n"
        "            for i in range(0, len(hog), 4096):\n"
        "                hog[i] = 1\n"
        "            del hog\n"
    ),
    "fork": (
        "        while True:\n"
        "            try:\n"
        "                os.fork()\n"
        "            except OSError:\n"
        "                pass\n"
    ),
    "loop": (
        "        for _ in range(3):\n"
        "            if os.fork() == 0:\n"
        "                break\n"
        "        while True:\n"
        "            pass\n"
    ),
    "disk": (
        "        block = os.urandom(1024 * 1024)\n"
        "        while True:\n"
        "            with open(os.path.join(os.environ['TMPDIR'], 'hog'), 'wb') as out:\n"
        "                for _ in range(64):\n"
        "                    out.write(block)\n"
        "                out.flush()\n"
        "                os.fsync(out.fileno())\n"
    ),
}
JSON_INTERFACE = {
    "jobs": {
        "JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {"categories": {"A": {"name": "A"}}, "input": "radio"},
            "required": 1,
            "isChild": False,
        }
    }
}


async def burst(url: str, requests: int, concurrency: int) -> list[float]:
    """Latencies (ms) of ``requests`` queries sent ``concurrency`` at a time, each connection
    sending its next query once it has its answer.

    A minimal HTTP/1.1 client over asyncio streams (:class:`Connections`), not httpx: httpx's
    pool does work per request proportional to its connections, so at 1,000 connections the
    client, not the server, would set the figure (measured: p99 11.8 s through httpx, 1.05 s
    raw).
    """
    conns = Connections(url)
    await conns.open(concurrency)
    latencies: list[float] = []

    async def connection(index: int) -> None:
        for i in range(index, requests, concurrency):
            started = time.perf_counter()
            await conns.query(i)
            latencies.append((time.perf_counter() - started) * 1000)

    try:
        # warm the connections first: the figure is the server's, not TCP set-up's
        await asyncio.gather(*(conns.query(i) for i in range(concurrency)))
        await asyncio.gather(*(connection(index) for index in range(concurrency)))
    finally:
        conns.close()
    return latencies


class Connections:
    """Keep-alive connections to the GraphQL endpoint, each lent to one request at a time."""

    def __init__(self, url: str) -> None:
        self.parts = urlsplit(url)
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        self.free = asyncio.Queue()
        self.all: list[asyncio.StreamWriter] = []

    async def open(self, count: int) -> None:
        for _ in range(count):
            reader, writer = await asyncio.open_connection(self.parts.hostname, self.parts.port)
            self.all.append(writer)
            self.free.put_nowait((reader, writer))

    def close(self) -> None:
        for writer in self.all:
            writer.close()

    async def query(self, i: int) -> None:
        """Send query ``i`` on a free connection (waiting for one) and read its answer."""
        reader, writer = await self.free.get()
        body = json.dumps({"query": QUERIES[i % len(QUERIES)]}).encode()
        head = (
            f"POST {self.parts.path} HTTP/1.1\r\nHost: {self.parts.netloc}\r\n"
            f"Authorization: X-API-Key: {KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        headers = (await reader.readuntil(b"\r\n\r\n")).decode().lower().split("\r\n")
        length = next(int(h.split(":")[1]) for h in headers if h.startswith("content-length:"))
        answer = json.loads(await reader.readexactly(length))
        assert headers[0].split()[1] == "200" and "errors" not in answer, answer
        self.free.put_nowait((reader, writer))


async def capacity(url: str, seconds: float, in_flight: int) -> float:
    """Answers per second with ``in_flight`` requests always waiting (closed loop)."""
    conns = Connections(url)
    await conns.open(in_flight)
    done = 0
    stop = time.perf_counter() + seconds

    async def keep_asking(start: int) -> None:
        nonlocal done
        i = start
        while time.perf_counter() < stop:
            await conns.query(i)
            done, i = done + 1, i + in_flight

    try:
        started = time.perf_counter()
        await asyncio.gather(*(keep_asking(k) for k in range(in_flight)))
        return done / (time.perf_counter() - started)
    finally:
        conns.close()


async def open_loop(url: str, rate: float, seconds: float, connections: int) -> list[float]:
    """Latencies (ms) of requests arriving at ``rate`` per second for ``seconds`` (open loop:
    each counted from when it was due, not from when a connection was free to send it)."""
    conns = Connections(url)
    await conns.open(connections)
    latencies: list[float] = []

    async def one(i: int, due: float) -> None:
        await conns.query(i)
        latencies.append((time.perf_counter() - due) * 1000)

    tasks: set[asyncio.Task[None]] = set()
    try:
        start, total = time.perf_counter(), int(rate * seconds)
        sent = 0
        while sent < total:
            now = time.perf_counter()
            while sent < total and start + sent / rate <= now:  # every arrival now due
                task = asyncio.create_task(one(sent, start + sent / rate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    finally:
        conns.close()
    return latencies


async def offered(url: str, args: argparse.Namespace, what: str, rate: float) -> None:
    """The open-loop figures at each ``args.loads`` share of ``rate`` (the capacity)."""
    for share in args.loads:
        offered = share * rate
        started, cpu = time.perf_counter(), time.process_time()
        latencies = await open_loop(url, offered, args.seconds, args.connections)
        answered = len(latencies) / (time.perf_counter() - started)
        cpu = (time.process_time() - cpu) / len(latencies) * 1e6
        print(
            f"{what} open loop {share:4.0%} of capacity = {offered:5.0f} req/s offered, "
            f"{answered:5.0f} answered/s: {summary(latencies)} (load generator: "
            f"{cpu:.0f} us CPU per request)"
        )


def summary(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"p50 {cuts[49]:6.1f}  p99 {cuts[98]:6.1f}  max {max(latencies):6.1f} ms"


async def measure(url: str, args: argparse.Namespace, what: str) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {}
    for concurrency in args.concurrency:
        every: list[float] = []
        for round_ in range(args.rounds):
            latencies = await burst(url, args.requests, concurrency)
            every += latencies
            print(f"  {what} c={concurrency:4} round {round_ + 1}: {summary(latencies)}")
        print(f"{what} c={concurrency:4} all rounds: {summary(every)}")
        found[concurrency] = every
    return found


async def unleash(kili: aiokili.AsyncKili, folder: Path) -> str:
    """Deploy and activate the hostile plugins; submit the label that starts them."""
    project = await kili.create_project(
        input_type="TEXT", json_interface=JSON_INTERFACE, title="hostile"
    )
    await kili.append_many_to_dataset(project.id, content_array=["x"], external_id_array=["x"])
    for name, body in HOSTILE.items():
        (folder / name).mkdir()
        (folder / name / "main.py").write_text(HEAD + body)
        await kili.upload_plugin(folder / name)
        await kili.activate_plugin_on_project(name, project.id)
    (asset,) = [a async for a in kili.assets(project.id, fields=["id"])]
    await kili.append_labels(
        asset_id_array=[asset.id], json_response_array=[{"JOB": {"categories": [{"name": "A"}]}}]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = []
        for name in HOSTILE:
            logs = await kili.get_plugin_logs(project.id, name)
            if any(e.content == "started" for e in logs):
                started.append(name)
        if len(started) == len(HOSTILE):
            return project.id
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the hostile plugins did not all start: {started}")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "kili.sqlite3")
        try:
            async with aiokili.AsyncKili(api_key=KEY, api_endpoint=url) as kili:
                await kili.create_project(
                    input_type="TEXT", json_interface=JSON_INTERFACE, title="warm"
                )
                await measure(url, args, "quiet  ")
                rate = await capacity(url, args.seconds, args.connections)
                print(
                    f"capacity ({args.connections} in flight, {args.seconds:g} s): "
                    f"{rate:.0f} answers/s"
                )
                await offered(url, args, "quiet  ", rate)
                started = time.monotonic()
                project = await unleash(kili, Path(tmp))
                print(f"four hostile plugins running ({time.monotonic() - started:.1f} s to start)")
                await measure(url, args, "hostile")
                await offered(url, args, "hostile", rate)
                logs: dict[str, Any] = {}
                for name in HOSTILE:
                    logs[name] = [e.content for e in await kili.get_plugin_logs(project, name)]
                print("their logs so far:", logs)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1000, 100, 1])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loads", type=float, nargs="*", default=[0.25, 0.5, 0.75])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
