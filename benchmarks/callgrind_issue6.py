"""Client CPU of issue 6's operations in instructions per item, counted by
``valgrind --tool=callgrind`` (deterministic, unlike CPU time on a shared machine).

Run: ``python benchmarks/callgrind_issue6.py [--small 500] [--large 2500]
[--ops import,labels,list]``

Each contender (``_contenders.py``: aiokili default, and the raw async floor with the same
requests in flight) runs under callgrind twice, for ``--small`` and ``--large`` items,
against the stub server of ``bench_issue6.py`` (reads replayed from a recording of the real
server, bulk writes answered from the request: the server is another process, never
counted). Instructions per item = (large - small) / (large - small items), so start-up and
imports cancel out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from _helpers import (
    HERE,
    canned_server,
    real_server,
    recording_proxy,
    run_contender,
    seed_via_store,
)
from bench_issue6 import FIELDS, new_project, seed_assets

_COLLECTED = re.compile(r"Collected : (\d+)")


def contenders(op: str) -> dict[str, dict[str, Any]]:
    if op == "list":
        return {
            "aiokili default": {"kind": "i6-list-aiokili"},
            "raw async floor, 1 in flight": {"kind": "i6-list-raw", "concurrency": 1},
            "raw async floor, 16 in flight": {"kind": "i6-list-raw", "concurrency": 16},
        }
    return {
        "aiokili default": {"kind": f"i6-{op}-aiokili"},
        "raw async floor, 4 in flight": {"kind": f"i6-{op}-raw", "concurrency": 4},
    }


def instructions(task: dict[str, Any]) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, str(HERE / "_contenders.py"), json.dumps(task)]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, cwd=HERE, timeout=3600)
    found = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or found is None or "RESULT " not in proc.stdout:
        raise RuntimeError(f"{task['name']} failed:\n{proc.stderr[-3000:]}\n{proc.stdout[-1000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=2500)
    parser.add_argument("--ops", default="import,labels,list")
    args = parser.parse_args()
    ops = [o for o in args.ops.split(",") if o]
    sizes = (args.small, args.large)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "callgrind.sqlite3"
        lists = {n: seed_via_store(db, n) for n in sizes}
        label_project, ids = seed_assets(db, args.large)
        ids_file = Path(tmp) / "ids.json"
        ids_file.write_text(json.dumps(ids))
        store = Path(tmp) / "stub.pickle"

        def task(op: str, name: str, spec: dict[str, Any], url: str, n: int) -> dict[str, Any]:
            out = {**spec, "name": name, "url": url, "n": n, "tag": f"{op}{n}", "fields": FIELDS}
            if op == "import":
                out["project_id"] = fixed
            elif op == "labels":
                out.update(project_id=label_project, ids_file=str(ids_file))
            else:
                out["project_id"] = lists[n]
            return out

        with real_server(db, 0) as server:
            fixed = anyio.run(new_project, server.url)
            with recording_proxy(server, store) as proxy:
                for op in ops:
                    for name, spec in contenders(op).items():
                        for n in sizes if op == "list" else sizes[:1]:
                            run_contender(task(op, name, spec, proxy.url, n))
        with canned_server(store, 0, synthetic_writes=True) as stub:
            for op in ops:
                counts: dict[str, float] = {}
                for name, spec in contenders(op).items():
                    small, large = (instructions(task(op, name, spec, stub.url, n)) for n in sizes)
                    counts[name] = (large - small) / (args.large - args.small)
                    print(f"{op}: {name:32s} {counts[name]:10,.0f} instructions/item", flush=True)
                base = counts["aiokili default"]
                for name, value in counts.items():
                    if name != "aiokili default":
                        print(f"{op}: aiokili default / {name}: {base / value:.2f}x", flush=True)


if __name__ == "__main__":
    main()
