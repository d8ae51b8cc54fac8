"""``aiokili server`` and ``aiokili quickstart``."""

from __future__ import annotations

import errno
import gc
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..quickstart import QuickstartReport
    from ..server import LocalServer


def register(app: typer.Typer) -> None:
    """Add ``server`` and ``quickstart`` to ``app`` (the root application)."""
    app.command("server")(serve)
    app.command("quickstart")(quickstart)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(4000, help="Port; 0 picks a free one."),
    db: str = typer.Option(
        "aiokili.sqlite3",
        help="SQLite file, sqlite:///PATH, :memory:, or postgresql://USER@HOST:PORT/NAME "
        "(pip install 'aiokili[postgres]'; the password from PGPASSWORD or ~/.pgpass).",
    ),
    files: str | None = typer.Option(
        None,
        help="Folder of uploads and media (default: DB.files beside a SQLite file, "
        "./NAME.files for PostgreSQL; shared by every server on one database).",
    ),
    workers: int = typer.Option(
        1, min=1, help="Server processes sharing the port (several need a PostgreSQL --db)."
    ),
    api_key: str = typer.Option(None, help="Also accept this API key."),
    latency_ms: float = typer.Option(0.0, help="Delay every response (models a remote API)."),
    log_level: str = typer.Option("warning", help="info: one line per GraphQL request."),
    plugin_memory_mb: int | None = typer.Option(
        None, min=1, help="Memory limit of each plugin run, in MB (default 512)."
    ),
    plugin_timeout_s: float | None = typer.Option(
        None, min=0.001, help="Time limit of each plugin run, in seconds (default 60)."
    ),
    plugin_cpus: float | None = typer.Option(
        None, min=0.01, help="CPUs all plugin runs may use together (default half the machine's)."
    ),
    plugin_requirement: Annotated[
        list[str] | None,
        typer.Option(
            help="A package every plugin gets (repeatable), e.g. kili==26.2.4 to run "
            "plugins written for the official SDK."
        ),
    ] = None,
    faults: str | None = typer.Option(
        None,
        help="Inject faults into GraphQL requests, e.g. '503=0.05,reset_after=0.02;seed=7' "
        "(see the docs' Faults page); counted at GET /faults and printed at exit.",
    ),
    rate_limit: str | None = typer.Option(
        None, help="Requests allowed per API key, e.g. 600/min; past it, HTTP 429."
    ),
) -> None:
    """Run the local Kili-compatible server until Ctrl-C."""
    import logging

    from ..errors import DatabaseVersionError, KiliInputError
    from ..server import LocalServer
    from ..server.faults import FaultSpecError

    try:
        server = LocalServer(
            host=host,
            port=port,
            db=db,
            files_dir=files,
            workers=workers,
            api_key=api_key,
            latency_ms=latency_ms,
            log_level=log_level.lower(),
            plugin_memory_mb=plugin_memory_mb,
            plugin_timeout_s=plugin_timeout_s,
            plugin_cpus=plugin_cpus,
            plugin_requirements=plugin_requirement,
            faults=faults,
            rate_limit=rate_limit,
        )
    except (FaultSpecError, KiliInputError) as exc:  # a bad option: usage error
        print(f"Error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    except DatabaseVersionError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"Port {port} is already in use: pass --port N or --port 0", file=sys.stderr)
        raise typer.Exit(1) from None
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokili.server").setLevel(log_level.upper())
    if faults or rate_limit:  # stop (and print the summary) on SIGTERM as on Ctrl-C
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever(on_ready=_print_ready)
    finally:
        if faults or rate_limit:
            print(server.faults.summary_text(), flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_ready(server: LocalServer) -> None:
    # What the process holds once started (modules, the schema: ~85,000 objects) lives as
    # long as it: the garbage collector's full collections, which hold every request while
    # they run, no longer walk it.
    gc.collect()
    gc.freeze()
    # one value per line: nothing wraps in an 80-column terminal
    print(f"GraphQL endpoint: {server.url}", flush=True)
    print(f"API key: {server.api_key}", flush=True)
    print("Use them as KILI_API_ENDPOINT and KILI_API_KEY.", flush=True)
    print("Keys are stored hashed: each start without --api-key prints a new one.", flush=True)


def quickstart(
    assets: int = typer.Option(10_000, min=1, help="Number of assets to import and label."),
    concurrency: int = typer.Option(4, min=1, help="At most this many requests in flight."),
) -> None:
    """Run the quickstart against an embedded local server and print what it did."""
    import anyio

    from ..client import AsyncKili
    from ..quickstart import run_quickstart
    from ..server import LocalServer

    console = Console()
    with LocalServer() as srv:
        console.print(f"Local Kili server on {srv.url}")

        async def go() -> QuickstartReport:
            async with AsyncKili(
                api_key=srv.api_key, api_endpoint=srv.url, concurrency=concurrency
            ) as kili:
                with console.status("starting") as status:
                    return await run_quickstart(
                        kili, assets, step=lambda s: status.update(s + "...")
                    )

        report = anyio.run(go)
    console.print(_steps_table(report))
    console.print(
        f"Imported {report.assets:,} assets, appended {report.labels:,} labels, "
        f"streamed back {report.streamed:,} labels ({report.cats:,} CAT)."
    )


def _steps_table(report: QuickstartReport) -> Table:
    """Each step of the quickstart with its duration, and its rate if it has several items."""
    table = Table(title=f"aiokili quickstart (project {report.project_id})")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("items/s", justify="right")
    for step in report.steps:
        rate = "-" if step.per_second is None else f"{step.per_second:,.0f}"
        table.add_row(step.name, f"{step.seconds:.2f}", rate)
    return table
