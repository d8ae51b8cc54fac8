"""What the contenders of both environments share (stdlib only: the official SDK's own
python imports it too)."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

KEY = "bench-key"


def measure(work: Any) -> dict[str, Any]:
    """Run ``work()`` (returns an item count); its wall and CPU time and the peak RSS."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    n = work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "wall": wall, "cpu": cpu, "max_rss_mib": rss}


def emit(result: dict[str, Any]) -> None:
    """Print a contender's result as the one ``RESULT {...}`` line the runner reads."""
    print("RESULT " + json.dumps(result), flush=True)


def contents(task: dict[str, Any]) -> list[str]:
    """What an import sends: URLs, raw texts, or the paths of local files."""
    n, start = task["n"], task.get("start", 0)
    if task["content"] == "urls":
        return [f"https://img.example/{i}.jpg" for i in range(start, start + n)]
    if task["content"] == "text":
        return [f"raw text number {i}: " + "lorem ipsum " * 20 for i in range(start, start + n)]
    folder = Path(task["files_dir"])
    pattern = task.get("file_pattern", "f{}.txt")
    return [str(folder / pattern.format(i % task["files"])) for i in range(start, start + n)]


def start_server(db: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``aiokili server`` on a free port; return the process and its endpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", str(db),
         "--api-key", KEY],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("GraphQL endpoint:"):
            return proc, line.split(":", 1)[1].strip()
    raise RuntimeError("the server did not start")
