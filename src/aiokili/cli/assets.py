"""``aiokili assets import|list``.

``import`` reads SOURCE (:mod:`.sources`), asks the project which external ids it already
has, and appends only the others, in batches (one progress step each), so that an
interrupted import is finished by running the same command again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .._generated.enums import InputType
from ..client import AsyncKili
from ..errors import APIConnectionError, BulkOperationError, KiliInputError, NotFoundError
from ._common import (
    FAILED,
    INTERRUPTED,
    USAGE,
    ApiKey,
    Endpoint,
    Hints,
    command_group,
    emit_json,
    err,
    fail,
    one_line,
    out,
    run,
    say,
    settings,
    shown_failures,
)
from ._fields import Fields, First, dump, split_fields, stream_json, table
from .sources import OUTSIDE_FLAG, Item, SourceError, read_source

BATCH_SIZE = 500
"""Assets per ``append_many_to_dataset`` call (one progress step)..."""
FILE_BATCH_SIZE = 100
"""... when files are uploaded (each a request of its own: smaller steps)."""
TABLE_FIELDS = ["id", "externalId", "status", "content"]
TABLE_LIMIT = 1000
"""Rows a table shows when --first is not given (--json streams every asset)."""
PROJECT_HINT: Hints = {NotFoundError: "`aiokili projects list` shows the projects."}
_ARRAY_INDEX = re.compile(r"\b\w+_array\[(\d+)\]")

ProjectId = Annotated[
    str, typer.Argument(metavar="PROJECT", show_default=False, help="The project's id.")
]


@dataclass
class Summary:
    """What an import did (its --json output)."""

    project_id: str
    source: str
    total: int
    already_present: int = 0
    imported: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "source": self.source,
            "total": self.total,
            "alreadyPresent": self.already_present,
            "imported": self.imported,
            "failed": self.failed,
        }


class _Rate(ProgressColumn):
    """Assets per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed and task.elapsed:
            speed = task.completed / task.elapsed
        return Text(f"{speed:,.0f} assets/s" if speed else "- assets/s")


app = command_group("Import and list assets.")


@app.command("import")
def import_(
    ctx: typer.Context,
    project_id: ProjectId,
    source: Annotated[
        Path,
        typer.Argument(
            metavar="SOURCE",
            show_default=False,
            help="A folder (each file an asset, external id = its path in the folder), "
            "or a .csv/.tsv/.jsonl file with a url, text or content column, external_id "
            "and an optional json_metadata.",
        ),
    ],
    separator: Annotated[
        str | None,
        typer.Option(
            "--separator",
            show_default=False,
            help="The CSV separator (default: ',' for .csv, tab for .tsv).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            show_default=False,
            help=f"Assets per progress step (default: {BATCH_SIZE}; {FILE_BATCH_SIZE} when "
            "uploading files).",
        ),
    ] = None,
    allow_outside: Annotated[
        bool,
        typer.Option(
            OUTSIDE_FLAG,
            help="Also import files outside SOURCE's folder: links leading out of it, "
            "CSV/JSONL paths naming files elsewhere (refused by default).",
        ),
    ] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="A JSON summary on stdout (failures included).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no summary line.")
    ] = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Import SOURCE into PROJECT; what the project already has (same external id) is
    skipped, so running the same command again finishes an interrupted import."""
    if quiet:
        settings(ctx).quiet = True
    items = _read(source, separator, allow_outside)
    summary = Summary(project_id, str(source), len(items))
    step = batch_size or _default_batch_size(items)
    quiet = settings(ctx).quiet

    async def work(kili: AsyncKili) -> None:
        todo = await _missing(kili, project_id, items, summary, quiet)
        await _import(kili, project_id, todo, step, summary, quiet)

    try:
        run(ctx, work, api_key, endpoint, PROJECT_HINT, {"project_id": "PROJECT"})
    except typer.Exit as exc:
        if exc.exit_code in (INTERRUPTED, FAILED) and summary.imported:
            err().print(
                f"{summary.imported:,} assets were imported before this; run the same "
                "command again to import the rest.",
                markup=False,
            )
        raise
    _report(ctx, summary, json_)


def _read(source: Path, separator: str | None, allow_outside: bool) -> list[Item]:
    """SOURCE's assets, checked before any request (a mistake exits 2)."""
    if separator is not None and len(separator) != 1:
        fail(USAGE, f"--separator must be one character, got {separator!r}.")
    try:
        return read_source(source, separator, allow_outside=allow_outside)
    except SourceError as exc:
        fail(USAGE, str(exc), "`aiokili assets import --help` describes SOURCE.")


def _default_batch_size(items: list[Item]) -> int:
    return FILE_BATCH_SIZE if any(item.kind == "file" for item in items) else BATCH_SIZE


async def _missing(
    kili: AsyncKili, project_id: str, items: list[Item], summary: Summary, quiet: bool
) -> list[Item]:
    """The items whose external id the project does not have yet (their contents checked
    against the project's input type)."""
    project = await kili.get_project(project_id)
    _check_contents(items, project.input_type)
    # which external ids the project has (filterExistingAssets: ~7x faster than
    # get_asset_ids_for_external_ids, which also fetches the asset ids)
    existing = await kili._core.lookups.existing_external_ids(
        project_id, [item.external_id for item in items]
    )
    todo = [item for item in items if item.external_id not in existing]
    summary.already_present = len(items) - len(todo)
    if todo and summary.already_present and not quiet:
        err().print(
            f"{summary.already_present:,} of {len(items):,} assets are already in the "
            "project: importing the others.",
            markup=False,
        )
    return todo


async def _import(
    kili: AsyncKili, project_id: str, todo: list[Item], step: int, summary: Summary, quiet: bool
) -> None:
    """Append ``todo`` in batches of ``step``, the progress bar advancing per batch."""
    if not todo:
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("Importing", total=len(todo))
        for start in range(0, len(todo), step):
            batch = todo[start : start + step]
            await _import_batch(kili, project_id, batch, summary)
            bar.advance(task, len(batch))


@app.command("list")
def list_(
    ctx: typer.Context,
    project_id: ProjectId,
    fields: Fields = None,
    first: First = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="A JSON array on stdout (streamed: any number of assets)."),
    ] = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """The project's assets, oldest first: a table (at most 1000 rows unless --first),
    or --json (default fields: id, externalId, status, content, jsonMetadata)."""
    chosen = split_fields(fields) or [*TABLE_FIELDS, "jsonMetadata"]
    limit = first if first is not None or json_ else TABLE_LIMIT + 1

    async def work(kili: AsyncKili) -> list[dict[str, Any]]:
        if json_:
            await stream_json(kili.assets(project_id, fields=chosen, first=first))
            return []
        found = await kili.assets(project_id, fields=chosen, first=limit)
        return [dump(asset) for asset in found]

    rows = run(
        ctx, work, api_key, endpoint, PROJECT_HINT, {"project_id": "PROJECT", "fields": "--fields"}
    )
    if json_:
        return
    if settings(ctx).quiet:
        for row in rows[:TABLE_LIMIT] if first is None else rows:
            out().print(row.get("id"), markup=False)
        return
    if not rows:
        out().print("No assets.")
        return
    columns = split_fields(fields) or TABLE_FIELDS
    shown = rows[:TABLE_LIMIT] if first is None else rows
    out().print(table(f"Assets of project {escape(project_id)}", columns, shown))
    if len(rows) > len(shown):
        say(
            ctx,
            f"Only the first {TABLE_LIMIT} assets are shown: --first N shows more, "
            "--json all of them.",
        )


def _check_contents(items: list[Item], input_type: InputType | None) -> None:
    """Text goes only into TEXT projects: say which line, before anything is imported."""
    if input_type == InputType.TEXT:
        return
    for item in items:
        if item.kind == "text" or (
            item.kind == "content" and not item.content.startswith(("http://", "https://"))
        ):
            column = "text" if item.kind == "text" else "content"
            shown = input_type.value if input_type else "?"
            raise KiliInputError(
                f"{item.where}, column {column}: {item.content[:60]!r} is neither a URL nor an "
                f"existing file, and raw text only goes into TEXT projects (this one is "
                f"{shown}). Nothing was imported. Hint: give URLs or file paths, or import "
                "into a TEXT project."
            )


async def _import_batch(
    kili: AsyncKili, project_id: str, batch: list[Item], summary: Summary
) -> None:
    """Append one batch; count what was created, record each failed asset."""
    metadata = [item.metadata or {} for item in batch]
    try:
        result = await kili.append_many_to_dataset(
            project_id,
            content_array=[item.content for item in batch],
            external_id_array=[item.external_id for item in batch],
            json_metadata_array=metadata if any(metadata) else None,
        )
    except BulkOperationError as exc:
        summary.imported += sum(1 for _, asset_id in exc.succeeded if asset_id is not None)
        for failure in exc.failures:
            item = batch[failure.index]
            summary.failed.append(
                {
                    "externalId": item.external_id,
                    "where": item.where,
                    "error": one_line(failure.error),
                }
            )
        if not exc.succeeded and all(isinstance(f.error, APIConnectionError) for f in exc.failures):
            raise exc.failures[0].error from exc  # the API is unreachable: stop here
        return
    except KiliInputError as exc:  # content_array[3] -> the line it came from
        message = _ARRAY_INDEX.sub(lambda m: batch[int(m.group(1))].where, str(exc))
        raise KiliInputError(message) from exc
    summary.imported += len(result["asset_ids"])
    summary.already_present += len(result["skipped_external_ids"])  # imported meanwhile


def _report(ctx: typer.Context, summary: Summary, json_: bool) -> None:
    if json_:
        emit_json(summary.as_json())
    failed = len(summary.failed)
    if failed:
        details = shown_failures(
            [f"{f['where']} ({f['externalId']}): {f['error']}" for f in summary.failed]
        )
        fail(
            FAILED,
            f"{failed:,} of {summary.total:,} assets failed to import ({summary.imported:,} "
            f"imported, {summary.already_present:,} already in the project).",
            "Fix them and run the same command again: only the missing assets are imported.",
            details,
        )
    if json_:
        return
    if not summary.imported:
        say(
            ctx,
            f"Nothing to import: all {summary.total:,} assets are already in project "
            f"{escape(summary.project_id)}.",
        )
        return
    present = (
        f" ({summary.already_present:,} were already there)" if summary.already_present else ""
    )
    say(
        ctx,
        f"Imported {summary.imported:,} assets into project {escape(summary.project_id)}{present}.",
    )
