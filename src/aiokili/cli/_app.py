"""The ``aiokili`` application: global options, then one sub-application per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from .._core.constants import VERSION
from . import assets, labels, plugins, projects, server, webhooks
from ._common import EXIT_CODES, Settings, configure_logging


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aiokili {VERSION}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and requested output.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="Log the aiokili logger at INFO (-vv: DEBUG).",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    # no docstring: the application's help is the root's (typer would show the callback's)
    ctx.obj = Settings(quiet=quiet, verbose=verbose)
    configure_logging(ctx, verbose)


def build_app() -> typer.Typer:
    """The root application: its options, ``server``, ``quickstart`` and the command groups."""
    app = typer.Typer(
        help="aiokili: async Kili SDK and local Kili server.",
        epilog=EXIT_CODES,
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    app.callback()(root)
    server.register(app)
    app.add_typer(projects.app, name="projects")
    app.add_typer(assets.app, name="assets")
    app.add_typer(plugins.app, name="plugins")
    app.add_typer(webhooks.app, name="webhooks")
    app.add_typer(labels.app, name="labels")
    return app
