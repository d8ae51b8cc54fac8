"""Helpers shared by the plugin tests: plugin files on disk and waiting for a run's logs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio

import aiokili
from aiokili.plugins import PluginLog
from aiokili.server import LocalServer

DEADLINE = 60.0  # seconds a wait for log entries may take before the test fails


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``folder``; the folder."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


async def wait_logs(
    kili: aiokili.AsyncKili,
    project_id: str,
    name: str,
    until: Callable[[list[PluginLog]], bool],
) -> list[PluginLog]:
    """The plugin's entries on the project once ``until(entries)`` holds."""
    deadline = time.monotonic() + DEADLINE
    while not until(found := await kili.get_plugin_logs(project_id, name, limit=10_000)):
        assert time.monotonic() < deadline, [e.content for e in found]
        await anyio.sleep(0.05)
    return found


def contents(entries: list[PluginLog]) -> list[str]:
    return [e.content or "" for e in entries]


def of_label(entries: list[PluginLog], label_id: str) -> list[PluginLog]:
    """The entries of the runs for ``label_id``."""
    return [e for e in entries if e.metadata and e.metadata.label_id == label_id]


def run_over(label_id: str, method: str = "on_submit") -> Callable[[list[PluginLog]], bool]:
    """Whether the run for ``label_id`` has logged its last entry ("Run ... finished/failed")."""

    def over(entries: list[PluginLog]) -> bool:
        return any(
            (e.content or "").startswith(f"Run {method} ") for e in of_label(entries, label_id)
        )

    return over


def server_secret(server: LocalServer) -> str:
    """A file of the server that no plugin run or build may read: its SQLite database, or on
    PostgreSQL (no database file: the run's environment holds no URL of it) a file in its
    uploads folder."""
    if server.store.db.path is not None:
        return server.store.db.path
    secret = server.store.db.files_dir / "server-secret"
    secret.write_text("42")
    return str(secret)


SLOW_PLUGIN = (
    "import asyncio\n"
    "from aiokili.plugins import PluginCore\n\n"
    "class PluginHandler(PluginCore):\n"
    "    async def on_submit(self, label, asset_id):\n"
    "        await asyncio.sleep(0.3)\n"
    "        self.logger.info(f'handled {asset_id}')\n"
)


def finished_runs(entries: list[PluginLog]) -> Counter[str]:
    """Runs that finished, per asset (the summary is stored with the service's progress)."""
    return Counter(
        e.metadata.asset_id or ""
        for e in entries
        if e.metadata is not None and e.content.startswith("Run on_submit finished")
    )
