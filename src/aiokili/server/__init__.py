"""The local Kili-compatible server (needs the ``server`` extra).

``LocalServer`` runs it on a loopback port; ``create_app`` gives the ASGI app.
"""

_EXTRA_MODULES = frozenset({"ariadne", "starlette", "uvicorn"})
"""Top-level modules of the ``server`` extra's packages."""

try:
    from .accounts import Account
    from .app import create_app
    from .runner import LocalServer
    from .store import SQLiteStore, Store
except ModuleNotFoundError as exc:
    if (exc.name or "").partition(".")[0] not in _EXTRA_MODULES:
        raise
    raise ModuleNotFoundError(
        f"aiokili.server needs the 'server' extra ({exc.name} is not installed): "
        "pip install 'aiokili[server]'",
        name=exc.name,
    ) from exc

__all__ = ["Account", "LocalServer", "SQLiteStore", "Store", "create_app"]
