"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import official_env
import pytest

import aiokili
from aiokili.server import LocalServer


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
async def kili(local_server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    """A client on the local server, with small pages so listings span many of them."""
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=20, prefetch=3
    ) as client:
        yield client
