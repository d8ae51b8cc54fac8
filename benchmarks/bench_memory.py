"""Memory of ``async for`` listings: the peak must not grow with the number of labels.

Run: ``python benchmarks/bench_memory.py [--labels 100000]``

Seeds a local server process, then lists the first 10% of the labels and all of them
with aiokili under tracemalloc, and prints the peak of Python allocations for each.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

import anyio
from bench_list_labels import KEY, seed, start_server

from aiokili import AsyncKili


async def peak_while_listing(url: str, project_id: str, first: int) -> tuple[int, float]:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        tracemalloc.start()
        tracemalloc.reset_peak()
        n = 0
        async for _ in kili.labels(project_id, first=first):
            n += 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return n, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "mem.sqlite3", 0.0)
        try:
            project_id = anyio.run(seed, url, args.labels)
            for first in (args.labels // 10, args.labels):
                n, peak = anyio.run(peak_while_listing, url, project_id, first)
                print(f"listed {n:>8,} labels: peak traced memory {peak:6.1f} MiB")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
