"""Shared fixtures: the suite uses aiokili's own pytest plugin (aiokili.testing: kili_server,
kili, kili_project, kili_env, kili_fresh_server); ``local_server`` is its session server."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import official_env
import postgres_cluster
import pytest

import aiokili
from aiokili.server import LocalServer, runner

# The sample user project (run in a subprocess by test_pytest_plugin.py) is not ours to collect.
collect_ignore = ["data"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server(kili_server: LocalServer) -> LocalServer:
    """The pytest plugin's local server (in-memory database), shared by the session."""
    return kili_server


@pytest.fixture(scope="session")
def kili_plugin_server() -> Iterator[LocalServer]:
    """A local server whose plugins also get the official ``kili`` package (installed once,
    by pip, on the first build), to run plugins written for the official SDK."""
    if os.environ.get("AIOKILI_SKIP_OFFICIAL"):
        pytest.skip("AIOKILI_SKIP_OFFICIAL is set")
    with LocalServer(plugin_requirements=[f"kili=={official_env.KILI_VERSION}"]) as srv:
        anyio.run(_warm_up, srv)
        yield srv


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (``postgres_cluster.py``); skipped with
    the reason when the machine has none, failed instead under ``AIOKILI_REQUIRE_POSTGRES=1``
    (``.ci/run``)."""
    bindir = postgres_cluster.binaries()
    if bindir is None:
        reason = f"no PostgreSQL on this machine: {postgres_cluster.HOW}"
        if os.environ.get(postgres_cluster.REQUIRE) == "1":
            pytest.fail(f"{reason} ({postgres_cluster.REQUIRE}=1: not skipped)")
        pytest.skip(reason)
    with postgres_cluster.cluster(bindir) as url:
        yield url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of an empty database of the session's cluster, dropped afterwards."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


STORE = os.environ.get("AIOKILI_TEST_STORE", "sqlite")
"""The store every test server runs on: ``sqlite`` (default) or ``postgresql`` (a database
of its own per server, in a throwaway cluster; ``.ci/run`` runs the suite on both)."""


@pytest.fixture(scope="session", autouse=True)
def _test_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """With ``AIOKILI_TEST_STORE=postgresql``: every ``LocalServer`` made with the default
    in-memory database gets instead a new PostgreSQL database (copied from one migrated
    template, dropped when the server stops), so the whole suite runs on PostgreSQL."""
    if STORE == "sqlite":
        yield STORE
        return
    if STORE != "postgresql":
        pytest.fail(f"AIOKILI_TEST_STORE must be sqlite or postgresql, got {STORE!r}")
    url = request.getfixturevalue("postgres_url")
    with postgres_cluster.databases(url) as make:
        patch = pytest.MonkeyPatch()
        original = runner.open_store

        def open_store(db: str = ":memory:", files_dir: str | Path | None = None) -> Any:
            if db != ":memory:":
                return original(db, files_dir)
            return make()

        patch.setattr(runner, "open_store", open_store)
        try:
            yield STORE
        finally:
            patch.undo()


async def _warm_up(server: LocalServer) -> None:
    """Wait until the shared packages are installed (the first build waits for them), so
    that the tests' own deployments take their usual time."""
    with tempfile.TemporaryDirectory() as folder:
        main = Path(folder) / "warm_up" / "main.py"
        main.parent.mkdir()
        main.write_text(
            "from aiokili.plugins import PluginCore\n\nclass PluginHandler(PluginCore):\n"
            "    def on_submit(self, label, asset_id):\n        pass\n"
        )
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            await kili.upload_plugin(main.parent, deploy_timeout=900, verbose=False)


@pytest.fixture
def kili_client_options() -> dict[str, Any]:
    """The plugin's ``kili`` fixture (the client on ``local_server``) with small pages, so
    listings span many of them."""
    return {"page_size": 20, "prefetch": 3}
