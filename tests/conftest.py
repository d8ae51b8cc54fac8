"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiokili.server import LocalServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """A local server with an in-memory database, shared by the session."""
    with LocalServer(api_key="test-key-123") as server:
        yield server
