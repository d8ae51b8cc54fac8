"""Shared by the benchmark scripts: servers in their own processes, seeding, contenders in
their own processes, statistics and tables.

Every contender (aiokili, the raw httpx floors, the official SDK) runs in a fresh process
of its own and measures itself: wall time (``time.perf_counter``) and the CPU time of its
own process (``time.process_time``) around the work only, plus its peak RSS; it prints one
line ``RESULT <json>``. The server runs in another process, so its CPU is never counted as
the client's. The official SDK runs with the python of its own cached virtualenv
(``tests/official_env.py``), never imported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _shared import KEY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIELDS = [
    "author.email",
    "author.id",
    "id",
    "jsonResponse",
    "labelType",
    "secondsToLabel",
    "isLatestLabelForUser",
    "assetId",
]
"""The official SDK's default label fields: every contender lists these."""
INTERFACE = {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "content": {"input": "radio",
             "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}, "required": 1}}}  # fmt: skip
_URL = re.compile(r"(https?://\S+?/graphql)\b")


def answer(i: int) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": "AB"[i % 2], "confidence": 100}]}}


# ------------------------------------------------------------------ processes
class Service:
    """A server in a child process; its endpoint read from its ``.../graphql`` line."""

    def __init__(self, command: Sequence[str], what: str) -> None:
        self.what = what
        self.proc = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"},
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.output: list[str] = []
        self.url = ""
        for line in self.proc.stdout:
            self.output.append(line)
            if match := _URL.search(line):
                self.url = match.group(1)
                break
        if not self.url:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"{what} did not start:\n{''.join(self.output)}")
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def origin(self) -> str:
        return str(httpx.URL(self.url).copy_with(path="/", query=None)).rstrip("/")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@contextlib.contextmanager
def real_server(db: Path, latency_ms: float = 0.0) -> Iterator[Service]:
    """``aiokili server`` on a free port, over the SQLite file ``db``."""
    service = Service(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", str(db),
         "--api-key", KEY, "--latency-ms", str(latency_ms)],
        "aiokili server",
    )  # fmt: skip
    try:
        yield service
    finally:
        service.stop()


@contextlib.contextmanager
def recording_proxy(upstream: Service, store: Path) -> Iterator[Service]:
    """A canned server recording ``upstream``'s answers; saved to ``store`` on exit."""
    service = Service(
        [sys.executable, str(HERE / "_canned.py"), "--record", upstream.origin,
         "--store", str(store)],
        "recording proxy",
    )  # fmt: skip
    try:
        yield service
        httpx.post(service.origin + "/__save__", timeout=60).raise_for_status()
    finally:
        service.stop()


@contextlib.contextmanager
def canned_server(
    store: Path,
    latency_ms: float = 0.0,
    cycle_labels: int | None = None,
    synthetic_writes: bool = False,
) -> Iterator[Service]:
    """A canned server replaying ``store`` (bulk writes answered synthetically if asked)."""
    command = [sys.executable, str(HERE / "_canned.py"), "--replay", str(store),
               "--latency-ms", str(latency_ms)]  # fmt: skip
    if cycle_labels:
        command += ["--cycle-labels", str(cycle_labels)]
    if synthetic_writes:
        command.append("--synthetic-writes")
    service = Service(command, "canned server")
    try:
        yield service
    finally:
        service.stop()


def client_from(ref: str, into: Path) -> str:
    """The ``src`` folder of aiokili as of git ``ref`` (e.g. ``main``), unpacked into
    ``into``: contenders given it as ``client_src`` run that client (same server)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src/aiokili"],
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into / "src")


def official_python() -> str:
    """The python of the official SDK's cached virtualenv (created on first use)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "official_env.py")],
        capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def official_env() -> dict[str, str]:
    """Environment of the official SDK's processes: nothing of ours leaks in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"} and not k.startswith("KILI_")
    }
    env["PYTHONNOUSERSITE"] = "1"
    # The SDK builds some selections from sets (e.g. the fields it adds to assets()): a
    # fixed hash seed keeps its queries the same from one process to the next, so the
    # canned server can replay them.
    env["PYTHONHASHSEED"] = "0"
    return env


def run_contender(
    task: dict[str, Any], *, official: bool = False, timeout: float = 3600
) -> dict[str, Any]:
    """Run one contender in a fresh process; return what it measured (``RESULT`` line)."""
    if official:
        command = [official_python(), str(HERE / "_official.py")]
        env = official_env()
    else:
        command = [sys.executable, str(HERE / "_contenders.py")]
        env = dict(os.environ)
        if task.get("client_src"):  # another aiokili client (e.g. "before") first on the path
            env["PYTHONPATH"] = os.pathsep.join([task["client_src"], str(HERE)])
    proc = subprocess.run(
        [*command, json.dumps(task)], capture_output=True, text=True, env=env,
        timeout=timeout, stdin=subprocess.DEVNULL, cwd=HERE,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"contender {task.get('name')} failed ({proc.returncode}):\n"
            f"{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


# ------------------------------------------------------------------ seeding
async def seed_via_api(url: str, n: int, *, input_type: str = "IMAGE") -> str:
    """A project with ``n`` URL assets and one label each, through aiokili; its id."""
    from aiokili import AsyncKili

    async with AsyncKili(api_key=KEY, api_endpoint=url, concurrency=4) as kili:
        project = await kili.create_project(
            title="bench", input_type=input_type, json_interface=INTERFACE
        )
        for start in range(0, n, 10_000):
            stop = min(start + 10_000, n)
            result = await kili.append_many_to_dataset(
                project.id,
                content_array=[f"https://img.example/{i}.jpg" for i in range(start, stop)],
                external_id_array=[f"a{i}" for i in range(start, stop)],
            )
            await kili.append_labels(
                asset_id_array=result["asset_ids"],
                json_response_array=[answer(i) for i in range(start, stop)],
                seconds_to_label_array=[12] * (stop - start),
            )
        return project.id


def seed_via_store(db: Path, n: int, *, progress: bool = False) -> str:
    """The same project written straight into the server's SQLite file (server stopped)
    through its store (``executemany`` in one transaction per 50,000 rows, as the server's
    own paging benchmark does); its id. Far faster than the API for millions of labels."""
    from aiokili.server.store import SQLiteStore
    from aiokili.server.store.db import new_id, now

    store = SQLiteStore(str(db))
    store.ensure_api_key(KEY)
    user = store.users.user_for_key(KEY)
    assert user is not None
    project = store.projects.create(
        {"title": "bench", "inputType": "IMAGE", "jsonInterface": json.dumps(INTERFACE)}, user.id
    )
    started, at = time.perf_counter(), now()
    answers = [json.dumps(answer(i)) for i in range(2)]
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
            c.executemany(
                "INSERT INTO labels (id, project_id, asset_id, author_id, label_type, "
                "json_response, seconds_to_label, created_at, updated_at) VALUES "
                "(?,?,?,?,'DEFAULT',?,12,?,?)",
                [(new_id(), project.id, a, user.id, answers[i % 2], at, at)
                 for i, a in zip(range(start, stop), ids, strict=True)],
            )  # fmt: skip
        if progress and (stop // 50_000) % 4 == 0:
            print(f"  seeded {stop:,} labels in {time.perf_counter() - started:.0f} s", flush=True)
    store.close()
    return str(project.id)


# ------------------------------------------------------------------ statistics
@dataclass
class Row:
    """Repeated measurements of one contender."""

    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [r["n"] / r["wall"] for r in self.runs]

    def cpu_us(self) -> list[float]:
        return [r["cpu"] / r["n"] * 1e6 for r in self.runs]

    @property
    def best_rate(self) -> float:
        return max(self.rates())

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rates())

    @property
    def min_cpu(self) -> float:
        return min(self.cpu_us())

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_us())


def table(rows: Sequence[Row], unit: str, base: str | None, floor: str | None) -> str:
    """A Markdown table: items/s (best / median), client CPU µs per item (min / median),
    throughput against ``base`` and CPU against ``floor`` (both on medians)."""
    by_name = {r.name: r for r in rows}
    head = (f"| contender | runs | {unit}/s best | {unit}/s median | CPU µs/{unit} min | "
            f"CPU µs/{unit} median |")  # fmt: skip
    sep = "|---|---:|---:|---:|---:|---:|"
    if base:
        head += " throughput vs official |"
        sep += "---:|"
    if floor:
        head += f" CPU vs {floor} |"
        sep += "---:|"
    lines = [head, sep]
    for r in rows:
        line = (f"| {r.name} | {len(r.runs)} | {r.best_rate:,.0f} | {r.median_rate:,.0f} | "
                f"{r.min_cpu:.1f} | {r.median_cpu:.1f} |")  # fmt: skip
        if base:
            b = by_name.get(base)
            line += f" {r.median_rate / b.median_rate:.2f}x |" if b and b.runs else " |"
        if floor:
            f = by_name.get(floor)
            line += f" {r.median_cpu / f.median_cpu:.2f}x |" if f and f.runs else " |"
        lines.append(line)
    return "\n".join(lines)


def machine_note() -> str:
    load = os.getloadavg()
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load[0]:.1f} at start")  # fmt: skip
