"""Asynchronous imports whose server process died are marked failed, not left pending for
ever: at once on SQLite (one process serves a file: the one starting is the only one), after
the process has been silent for 30 s with several processes on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import aiokili
from aiokili.server import LocalServer
from aiokili.server.store import DatabaseStore, open_store, processes
from aiokili.server.store.db import Database

pytestmark = pytest.mark.anyio
KEY = "processes-admin-key-0123456789"
NOTIFICATIONS = (
    "query { data: notifications(where: {}, first: 100, skip: 0) { id status message } }"
)


def _pending(db: Database, notification_id: str, owner: str) -> None:
    with db.write() as c:
        c.execute(
            "INSERT INTO notifications (id, status, created_at, owner, organization_id) "
            "VALUES (?, 'PENDING', '2026-12-06T10:00:00.000Z', ?, "
            "(SELECT id FROM organizations ORDER BY created_at LIMIT 1))",
            (notification_id, owner),
        )


def _statuses(store: DatabaseStore) -> dict[str, tuple[str, str | None]]:
    return {n["id"]: (n["status"], n["message"]) for n in store.assets.notifications(None)}


async def test_a_restarted_server_fails_the_imports_its_earlier_run_left(tmp_path: Path) -> None:
    db = str(tmp_path / "kili.sqlite3")
    with LocalServer(db=db, api_key=KEY) as server:
        _pending(server.store.db, "left-by-this-run", server.store.db.token)
    with LocalServer(db=db, api_key=KEY) as server:
        async with aiokili.AsyncKili(api_key=KEY, api_endpoint=server.url) as kili:
            with anyio.fail_after(30):
                while True:  # the first heartbeat runs as the server starts
                    data = await kili.execute(NOTIFICATIONS)
                    found = {n["id"]: n for n in data["data"]}
                    if found["left-by-this-run"]["status"] != "PENDING":
                        break
                    await anyio.sleep(0.05)
    assert found["left-by-this-run"]["status"] == "FAILURE"
    assert "import again" in found["left-by-this-run"]["message"]


def test_with_several_processes_only_those_silent_for_30_s_are_dead(
    postgres_database: str, tmp_path: Path
) -> None:
    first, second = (open_store(postgres_database, tmp_path / "files") for _ in range(2))
    try:
        processes.beat(first.db, now=1000.0)
        processes.beat(second.db, now=1000.0)
        _pending(first.db, "of-the-first", first.db.token)
        _pending(second.db, "of-the-second", second.db.token)
        _pending(second.db, "of-an-older-version", None)  # type: ignore[arg-type]
        assert processes.beat(second.db, now=1020.0) == 1  # the first spoke 20 s ago
        assert _statuses(second)["of-the-first"] == ("PENDING", None)
        assert _statuses(second)["of-an-older-version"][0] == "FAILURE"
        assert processes.beat(second.db, now=1031.0) == 1  # silent for 31 s: dead
        assert _statuses(second)["of-the-first"][0] == "FAILURE"
        assert _statuses(second)["of-the-second"] == ("PENDING", None)  # its own: running
    finally:
        first.close()
        second.close()
