"""``aiokili server --workers N``: processes sharing one port and one PostgreSQL database.
Killing workers during a burst of labels loses or repeats nothing: every plugin run
finishes once, a subscription gets every label once, and the killed workers are replaced."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from plugin_support import SLOW_PLUGIN, contents, finished_runs, wait_logs
from support import answer, import_images, new_project
from typer.testing import CliRunner

import aiokili
from aiokili.cli import _app
from aiokili.server.faults import FaultSpec

pytestmark = pytest.mark.anyio
KEY = "workers-admin-key-0123456789"
LABELS = 16


def _workers(pid: int) -> list[int]:
    """The worker processes of the server ``pid`` (uvicorn spawns them)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return sorted(found)


@pytest.fixture
def server(postgres_database: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``aiokili server --workers 2`` on a new database: its endpoint and process id."""
    with _workers_server(postgres_database, tmp_path) as (endpoint, proc):
        yield endpoint, proc.pid


@contextlib.contextmanager
def _workers_server(
    db: str, tmp_path: Path, *options: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    command = [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--workers", "2",
               "--db", db, "--files", str(tmp_path / "files"), "--api-key", KEY, *options]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    endpoint = ""
    for line in proc.stdout:
        if line.startswith("GraphQL endpoint: "):
            endpoint = line.split()[-1]
            break
    try:
        assert endpoint, "the server did not start"
        deadline = time.monotonic() + 60
        while len(_workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        yield endpoint, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _kill_one(pid: int, before: list[int]) -> list[int]:
    """Kill the first of ``before`` (SIGKILL) and wait for its replacement."""
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = _workers(pid)
        if len(now) == 2 and before[0] not in now:
            return now
        assert time.monotonic() < deadline, f"no worker replaced {before[0]}: {now}"
        time.sleep(0.05)


async def test_workers_killed_during_a_burst_lose_and_repeat_nothing(
    server: tuple[str, int], tmp_path: Path
) -> None:
    endpoint, pid = server
    since = datetime.now(timezone.utc)
    async with aiokili.AsyncKili(api_key=KEY, api_endpoint=endpoint) as kili:
        (tmp_path / "slow").mkdir()
        (tmp_path / "slow" / "main.py").write_text(SLOW_PLUGIN)
        await kili.upload_plugin(tmp_path / "slow")
        project_id = await new_project(kili)
        ids = await import_images(kili, project_id, LABELS)
        await kili.activate_plugin_on_project("slow", project_id)
        seen: list[str] = []

        async def follow() -> None:
            async with kili.label_created_or_updated(
                project_id, updated_at_gte=since
            ) as subscription:
                async for label in subscription:
                    seen.append(label.id)
                    if len(seen) >= LABELS:
                        await asyncio.sleep(1.0)  # time for a repeat to show
                        return

        listening = asyncio.ensure_future(follow())
        made = await kili.append_labels(
            asset_id_array=ids, json_response_array=[answer("A")] * LABELS
        )
        await wait_logs(kili, project_id, "slow", lambda e: sum(finished_runs(e).values()) >= 2)
        original = _workers(pid)
        after_first = await asyncio.to_thread(_kill_one, pid, original)
        await asyncio.to_thread(_kill_one, pid, [original[1], *after_first])
        entries = await wait_logs(
            kili, project_id, "slow", lambda e: len(finished_runs(e)) == LABELS
        )
        await asyncio.wait_for(listening, 120)
        assert finished_runs(entries) == Counter(ids)  # each run finished once
        assert sorted(seen) == sorted(made)  # each label once


CALLER = """
import os
import aiokili
from aiokili.plugins import PluginCore

class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        for n in range(1, 31):  # a connection each: they reach either worker
            async with aiokili.AsyncKili(api_key=os.environ["KILI_API_KEY"],
                                         api_endpoint=os.environ["KILI_API_ENDPOINT"]) as kili:
                await kili.count_assets(project_id=self.project_id)
        self.logger.info(f"answered {n}")
"""


async def test_a_runs_calls_are_answered_by_every_worker(
    server: tuple[str, int], tmp_path: Path
) -> None:
    endpoint, _ = server
    async with aiokili.AsyncKili(api_key=KEY, api_endpoint=endpoint) as kili:
        (tmp_path / "caller").mkdir()
        (tmp_path / "caller" / "main.py").write_text(CALLER)
        await kili.upload_plugin(tmp_path / "caller")
        project_id = await new_project(kili)
        (asset_id,) = await import_images(kili, project_id, 1)
        await kili.activate_plugin_on_project("caller", project_id)
        await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
        entries = await wait_logs(
            kili, project_id, "caller", lambda e: any(c.startswith("Run ") for c in contents(e))
        )
    assert "answered 30" in contents(entries), contents(entries)


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    sqlite = CliRunner().invoke(_app(), ["server", "--port", "0", "--workers", "2",
                                         "--db", str(tmp_path / "kili.sqlite3")])  # fmt: skip
    assert sqlite.exit_code == 2
    assert "workers=2 needs a PostgreSQL database" in sqlite.output
    assert not (tmp_path / "kili.sqlite3").exists()


async def _viewer_codes(endpoint: str, n: int) -> tuple[list[int], dict[str, Any]]:
    """Status codes of ``n`` queries sent one after the other, most on new connections
    (the kernel spreads them over the workers), and ``GET /faults``."""
    body = {"query": "query Viewer { viewer { id } }", "operationName": "Viewer"}
    headers = {"Authorization": f"X-API-Key: {KEY}"}
    codes = []
    for i in range(n):
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            codes.append((await http.post(endpoint, json=body)).status_code)
            if i == n - 1:
                summary = (await http.get(endpoint.split("/api/")[0] + "/faults")).json()
    return codes, summary


async def test_the_rate_limit_holds_for_every_worker_together(
    postgres_database: str, tmp_path: Path
) -> None:
    with _workers_server(postgres_database, tmp_path, "--rate-limit", "6/h") as (url, proc):
        codes, summary = await _viewer_codes(url, 20)
        proc.send_signal(signal.SIGINT)
        printed = proc.communicate(timeout=30)[0]
    assert codes.count(200) == 1  # one token for all: per worker, each would pass one
    assert summary["rate_limited"] == codes.count(429) == 19
    assert "19 requests refused with HTTP 429" in printed


async def test_the_nth_request_gets_its_fault_whichever_worker_takes_it(
    postgres_database: str, tmp_path: Path
) -> None:
    with _workers_server(postgres_database, tmp_path, "--faults", "500=0.5;seed=11") as (
        url,
        _,
    ):
        codes, summary = await _viewer_codes(url, 20)
    drawn = [FaultSpec.parse("500=0.5", seed=11).draw("Viewer", n) for n in range(20)]
    assert codes == [200 if rule is None else 500 for rule in drawn]
    assert summary["requests"] == 20
    assert summary["faults"] == codes.count(500)
