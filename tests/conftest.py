"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

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
        yield srv


@pytest.fixture
async def kili(local_server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    """A client on the local server, with small pages so listings span many of them."""
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=20, prefetch=3
    ) as client:
        yield client
