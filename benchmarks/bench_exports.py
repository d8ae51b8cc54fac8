"""Export 100,000 labels in the kili and coco formats: aiokili against the official SDK,
wall time and peak RSS, each in a fresh process of its own, against ``aiokili server``.

Run: ``python benchmarks/bench_exports.py [--labels 100000] [--formats kili,coco]``

The project (seeded straight into the server's SQLite file) is an IMAGE project, 200x100
assets, one DEFAULT label each answering a classification job and a bounding-box job. Both
clients export without media (``with_assets=False``). The official SDK (kili 26.2.4) runs in
its own virtualenv; that venv has no numpy/shapely (its ``kili[coco]`` extra), so for COCO
the ones of this environment are put on its path (same CPython). Peak RSS is each process's
own ``ru_maxrss``. Nothing here asserts on timings: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _helpers import HERE, machine_note, official_env, official_python, real_server
from _shared import KEY

INTERFACE = {"jobs": {
    "CLASSIF": {"mlTask": "CLASSIFICATION", "required": 0, "isChild": False,
                "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}},
    "BBOX": {"mlTask": "OBJECT_DETECTION", "tools": ["rectangle"], "required": 0, "isChild": False,
             "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}},
}}  # fmt: skip


def response(i: int) -> dict[str, Any]:
    x = (i % 50) / 100
    square = [{"x": x, "y": 0.25}, {"x": x, "y": 0.75}, {"x": x + 0.25, "y": 0.75},
              {"x": x + 0.25, "y": 0.25}]  # fmt: skip
    cat = "AB"[i % 2]
    return {
        "CLASSIF": {"categories": [{"name": cat}]},
        "BBOX": {"annotations": [{"mid": f"m{i}", "type": "rectangle",
                                  "categories": [{"name": cat}],
                                  "boundingPoly": [{"normalizedVertices": square}]}]},
    }  # fmt: skip


def seed(db: Path, n: int) -> str:
    """The project, written straight into the SQLite file (server stopped); its id."""
    from aiokili.server.store import SQLiteStore
    from aiokili.server.store.db import new_id, now

    store = SQLiteStore(str(db))
    store.ensure_api_key(KEY)
    user = store.users.user_for_key(KEY)
    assert user is not None
    project = store.projects.create(
        {"title": "bench exports", "inputType": "IMAGE", "jsonInterface": json.dumps(INTERFACE)},
        user.id,
    )
    at = now()
    size = json.dumps({"width": 200, "height": 100})
    for start in range(0, n, 50_000):
        stop = min(start + 50_000, n)
        ids = [new_id() for _ in range(start, stop)]
        with store.db.write() as c:
            c.executemany(
                "INSERT INTO assets (id, project_id, external_id, content, json_content, "
                "json_metadata, status, is_honeypot, created_at, updated_at) VALUES "
                "(?,?,?,?,'','{}','LABELED',0,?,?)",
                [(a, project.id, f"a{i}", f"https://img.example/{i}.jpg", at, at)
                 for i, a in zip(range(start, stop), ids, strict=True)],
            )  # fmt: skip
            c.executemany("INSERT INTO asset_properties VALUES (?, NULL, ?, NULL)",
                          [(a, size) for a in ids])  # fmt: skip
            c.executemany(
                "INSERT INTO labels (id, project_id, asset_id, author_id, label_type, "
                "json_response, seconds_to_label, created_at, updated_at) VALUES "
                "(?,?,?,?,'DEFAULT',?,12,?,?)",
                [(new_id(), project.id, a, user.id, json.dumps(response(i)), at, at)
                 for i, a in zip(range(start, stop), ids, strict=True)],
            )  # fmt: skip
    store.close()
    return str(project.id)


def coco_path(into: Path) -> str:
    """A folder holding links to this environment's numpy and shapely (for the official SDK)."""
    import numpy
    import shapely

    into.mkdir(parents=True, exist_ok=True)
    for module in (numpy, shapely):
        folder = Path(module.__file__).parent  # type: ignore[arg-type]
        for item in folder.parent.glob(f"{folder.name}*"):
            if item.name.endswith((".dist-info",)) or (into / item.name).exists():
                continue
            (into / item.name).symlink_to(item)
    return str(into)


def contender(task: dict[str, Any]) -> dict[str, Any]:
    official = task["side"] == "official"
    command = [official_python() if official else sys.executable,
               str(HERE / "_exports_contender.py"), json.dumps(task)]  # fmt: skip
    env = official_env() if official else dict(os.environ)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE,
                          timeout=7200, stdin=subprocess.DEVNULL)  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{task['side']} {task['fmt']} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--formats", default="kili,coco")
    parser.add_argument("--sides", default="aiokili,official")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        started = time.perf_counter()
        project_id = seed(db, args.labels)
        print(f"seeded {args.labels:,} labels in {time.perf_counter() - started:.0f} s", flush=True)
        extra = coco_path(folder / "coco-path")
        rows = []
        with real_server(db) as server:
            for fmt in args.formats.split(","):
                layout = "merged" if fmt == "coco" else "split"
                for side in args.sides.split(","):
                    out = folder / f"{side}-{fmt}.zip"
                    task = {"side": side, "fmt": fmt, "layout": layout, "out": str(out),
                            "url": server.url, "key": KEY, "project_id": project_id,
                            "n": args.labels, "extra_path": extra,
                            "schema_dir": str(folder / "schema")}  # fmt: skip
                    result = contender(task)
                    rows.append((fmt, side, result))
                    print(f"{fmt:5} {side:9} {result['wall']:8.1f} s  {result['cpu']:8.1f} s CPU  "
                          f"{result['max_rss_mib']:8.0f} MiB peak RSS  "
                          f"{result['bytes'] / 2**20:7.1f} MiB zip", flush=True)  # fmt: skip
                    out.unlink(missing_ok=True)
        print()
        print("| format | client | wall (s) | client CPU (s) | peak RSS (MiB) | labels/s |")
        print("|---|---|---:|---:|---:|---:|")
        for fmt, side, r in rows:
            print(f"| {fmt} | {side} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['max_rss_mib']:.0f} "
                  f"| {args.labels / r['wall']:,.0f} |")  # fmt: skip
        print()
        print(machine_note())


if __name__ == "__main__":
    main()
