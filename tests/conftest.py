"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import aiokili
from aiokili.server import LocalServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """A local server with an in-memory database, shared by the session."""
    with LocalServer(api_key="test-key-123") as server:
        yield server


@pytest.fixture
async def kili(local_server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    """A client on the local server, with small pages so listings span many of them."""
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=20, prefetch=3
    ) as client:
        yield client
