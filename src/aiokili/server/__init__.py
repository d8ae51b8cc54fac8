"""The local Kili-compatible server (needs the ``server`` extra).

``LocalServer`` runs it on a loopback port; ``create_app`` gives the ASGI app.
"""

from .app import create_app
from .runner import LocalServer
from .store import SQLiteStore, Store

__all__ = ["LocalServer", "SQLiteStore", "Store", "create_app"]
