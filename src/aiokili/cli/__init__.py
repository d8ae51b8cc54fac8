"""The ``aiokili`` command line (the ``cli`` extra: typer + rich).

``aiokili server``, ``aiokili quickstart``, ``aiokili plugins ...``, ``aiokili webhooks ...``;
one module per command group, the app assembled in :mod:`aiokili.cli._app`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``aiokili`` command."""
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the install
        sys.exit("The aiokili command needs the cli extra: pip install 'aiokili[cli]'")
    if sys.argv[1:] == ["--version"]:  # what the app's --version prints, without the SDK
        from .._core.constants import VERSION

        print(f"aiokili {VERSION}")
        return
    _app()()


def _app() -> typer.Typer:
    """The typer application (built on each call: tests get a fresh one)."""
    from ._app import build_app

    return build_app()
