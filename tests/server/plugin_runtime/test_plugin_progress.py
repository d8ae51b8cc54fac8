"""The plugin service's progress is kept in the database: a server stopped during a burst of
events, started again on the same database, delivers every event once (none lost, none
repeated); of two servers on one PostgreSQL database (two workers), one runs the service and
the other takes it over when it stops."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from plugin_support import SLOW_PLUGIN, finished_runs, wait_logs
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer
from aiokili.server.store import open_store

pytestmark = pytest.mark.anyio
KEY = "progress-admin-key-0123456789"
ASSETS = 12


async def _burst(kili: aiokili.AsyncKili, folder: Path) -> tuple[str, list[str]]:
    """The slow plugin active on a new project, then a label on each of its assets."""
    (folder / "slow").mkdir()
    (folder / "slow" / "main.py").write_text(SLOW_PLUGIN)
    await kili.upload_plugin(folder / "slow")
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, ASSETS)
    await kili.activate_plugin_on_project("slow", project_id)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * ASSETS)
    return project_id, ids


async def _somefinished_runs(kili: aiokili.AsyncKili, project_id: str) -> None:
    await wait_logs(kili, project_id, "slow", lambda e: sum(finished_runs(e).values()) >= 2)


async def _allfinished_runs(kili: aiokili.AsyncKili, project_id: str, ids: list[str]) -> None:
    entries = await wait_logs(kili, project_id, "slow", lambda e: len(finished_runs(e)) == ASSETS)
    assert finished_runs(entries) == Counter(ids)  # each once
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("B")])
    entries = await wait_logs(kili, project_id, "slow", lambda e: finished_runs(e)[ids[0]] == 2)
    assert sum(finished_runs(entries).values()) == ASSETS + 1  # later events: still once each


async def test_a_server_stopped_during_a_burst_delivers_each_event_once_after_a_restart(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "kili.sqlite3")
    with LocalServer(db=db, api_key=KEY) as server:
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=server.url) as kili:
            project_id, ids = await _burst(kili, tmp_path)
            await _somefinished_runs(kili, project_id)
    # stopped: runs in flight were cut short, others never started
    with LocalServer(db=db, api_key=KEY) as server:
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=server.url) as kili:
            await _allfinished_runs(kili, project_id, ids)


async def test_of_two_servers_on_one_database_one_runs_plugins_and_the_other_takes_over(
    postgres_database: str, tmp_path: Path
) -> None:
    stores = [open_store(postgres_database, tmp_path / "files") for _ in range(2)]
    for store in stores:
        store.shared = True
    second = LocalServer(store=stores[1], api_key=KEY)
    with LocalServer(store=stores[0], api_key=KEY) as first:
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=first.url) as kili:
            project_id, ids = await _burst(kili, tmp_path)  # the first runs the service
            second.start()  # waits: the first holds the service
            await _somefinished_runs(kili, project_id)
    stores[0].close()  # as when a worker dies: its connections close, the service is free
    try:
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=second.url) as kili:
            await _allfinished_runs(kili, project_id, ids)
    finally:
        second.stop()
        stores[1].close()
