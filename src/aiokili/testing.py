"""pytest plugin: test your own Kili code against the local server.

Installed with aiokili (the ``server`` extra is needed). Fixtures:

* ``kili_server`` (session): a started :class:`~aiokili.server.LocalServer`
  (in-memory database, free loopback port); ``.url`` and ``.api_key``.
* ``kili_env``: sets ``KILI_API_ENDPOINT`` and ``KILI_API_KEY`` to that server for one
  test, so ``AsyncKili()`` and the official ``Kili()`` both reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import LocalServer


@pytest.fixture(scope="session")
def kili_server() -> Iterator[LocalServer]:
    """A local Kili server shared by the test session."""
    from .server import LocalServer

    with LocalServer() as server:
        yield server


@pytest.fixture
def kili_env(kili_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Point KILI_API_ENDPOINT / KILI_API_KEY at ``kili_server`` for one test."""
    monkeypatch.setenv("KILI_API_ENDPOINT", kili_server.url)
    monkeypatch.setenv("KILI_API_KEY", kili_server.api_key)
    return kili_server
