"""The ``aiokili`` application: global options, then one sub-application per command group.

A group's module is imported when a command line names it (``--help`` lists them all), so
``aiokili --version`` or ``aiokili server`` import none of them.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .._core.constants import VERSION
from . import server
from ._common import EXIT_CODES, Settings, configure_logging

GROUPS = ("projects", "assets", "plugins", "webhooks", "labels", "users", "orgs")
"""The command groups, in their ``--help`` order: ``aiokili.cli.<group>.app`` is each."""
ROOT: dict[str, Any] = {"rich_markup_mode": None}
"""Options of the root Typer that typer passes down to its groups."""


class _LazyGroups(TyperGroup):
    """The root command, whose groups are imported and converted on first look-up, exactly
    as ``add_typer`` + typer's conversion would have done it at start-up. (Contexts and
    commands are typed ``Any``: click's, or the copy of click that recent typers carry.)"""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*(name for name in self.commands if name not in GROUPS), *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS and cmd_name not in self.commands:
            holder = typer.Typer(**ROOT)
            holder.add_typer(
                importlib.import_module(f".{cmd_name}", __package__).app, name=cmd_name
            )
            self.add_command(typer.main.get_group(holder).commands[cmd_name], cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in GROUPS:
            for name in GROUPS:  # an unknown name: "did you mean" weighs every group
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


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
        cls=_LazyGroups,
        help="aiokili: async Kili SDK and local Kili server.",
        epilog=EXIT_CODES,
        no_args_is_help=True,
        **ROOT,
    )
    app.callback()(root)
    server.register(app)  # `server` and `quickstart`; the groups load when named
    return app
