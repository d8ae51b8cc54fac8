"""``aiokili labels export|import``: a project's labels to an archive in any export format,
and labels from a JSON / JSONL file, both with a progress bar (rate and ETA).

``import`` checks the whole file and finds every label's asset before writing anything,
skips the labels the project already has (same asset, label type, model name and json
response, by the API key's user), and appends the others in batches: running the same
command again after an interruption or a failure imports only what is missing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ..client import AsyncKili
from ..errors import APIConnectionError, BulkOperationError, KiliInputError, NotFoundError
from ..exports.formats import FORMATS, ExportFormat, Layout
from ..models import LabelType
from ._common import (
    FAILED,
    INTERRUPTED,
    USAGE,
    ApiKey,
    Endpoint,
    Hints,
    Json,
    command_group,
    emit_json,
    err,
    fail,
    one_line,
    run,
    say,
    shown_failures,
)
from ._common import settings as cli_settings
from .label_files import LabelFile, LabelRow, read_labels

IMPORT_CHUNK = 500
"""Labels sent per append_labels call by ``labels import`` (the bar moves per chunk)."""
NAMES = {
    "fmt": "--format",
    "filename": "--output",
    "layout": "--layout",
    "single_file": "--single-file",
    "with_assets": "--with-assets",
    "label_type_in": "--label-type",
    "json_response_array": "json_response",
}
PROJECT_HINT: Hints = {NotFoundError: "`aiokili projects list` shows the projects."}

Project = Annotated[str, typer.Argument(show_default=False, help="The project id.")]
Update = Callable[[int, int], None]


class Rate(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s")


@contextmanager
def bar(ctx: typer.Context, description: str) -> Iterator[Update]:
    """A progress bar on stderr with count, rate and ETA; ``update(done, total)`` moves it.
    It is drawn at the first ``update`` (an error found before is the only output), and
    never with ``--quiet``."""
    if cli_settings(ctx).quiet:
        yield lambda done, total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with ExitStack() as stack:
        shown: list[tuple[Progress, Any]] = []

        def update(done: int, total: int) -> None:
            if not shown:
                progress = stack.enter_context(Progress(*columns, console=err()))
                shown.append((progress, progress.add_task(description, total=None)))
            progress, task = shown[0]
            progress.update(task, completed=done, total=total or None)

        yield update


app = command_group("Export and import labels.")


@app.command("export")
def export(
    ctx: typer.Context,
    project: Project,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", show_default=False, help=f"One of {', '.join(FORMATS)}."),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", show_default=False, help="The zip to write.")
    ],
    layout: Annotated[
        str, typer.Option("--layout", help="split (a folder per job) or merged.")
    ] = "split",
    single_file: Annotated[
        bool, typer.Option("--single-file", help="One data.json (kili, coco).")
    ] = False,
    with_assets: Annotated[
        bool, typer.Option("--with-assets/--no-assets", help="Put the media in the zip.")
    ] = False,
    label_type: Annotated[
        list[str] | None,
        typer.Option(
            "--label-type",
            show_default=False,
            help="Label types exported (repeatable; default DEFAULT and REVIEW).",
        ),
    ] = None,
    as_json: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Export PROJECT's latest labels to --output in --format."""
    seen = [0]

    async def work(kili: AsyncKili) -> None:
        with bar(ctx, "Exporting") as update:

            def progress(done: int, total: int) -> None:
                seen[0] = done
                update(done, total)

            await kili.export_labels(
                project,
                str(output),
                cast(ExportFormat, fmt),  # both checked by export_labels, naming the choices
                layout=cast(Layout, layout),
                single_file=single_file,
                with_assets=with_assets,
                label_type_in=label_type or None,
                progress=progress,
            )

    # kili-formats print()s its skipped annotations: keep stdout for the result
    with contextlib.redirect_stdout(sys.stderr):
        run(ctx, work, api_key, endpoint, PROJECT_HINT, NAMES)
    if as_json:
        emit_json({"output": str(output), "format": fmt, "assets": seen[0]})
    else:
        say(ctx, f"Exported {seen[0]} asset(s) of {project} to {output} ({fmt}).")


@dataclass
class Summary:
    """What an import did (its --json output)."""

    total: int
    key_field: str  # "external_id" or "asset_id", as in the file
    already_present: int = 0
    label_ids: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0  # labels of the batch being sent (unknown if interrupted)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "already_present": self.already_present,
            "created": len(self.label_ids),
            "label_ids": self.label_ids,
            "failed": self.failed,
        }


@app.command("import")
def import_(
    ctx: typer.Context,
    project: Project,
    file: Annotated[
        Path,
        typer.Argument(
            show_default=False,
            help='JSON array or JSONL of {"external_id" or "asset_id", "json_response"}.',
        ),
    ],
    label_type: Annotated[
        str, typer.Option("--label-type", help="DEFAULT, REVIEW, PREDICTION...")
    ] = "DEFAULT",
    model_name: Annotated[
        str | None,
        typer.Option("--model-name", show_default=False, help="For PREDICTION labels."),
    ] = None,
    as_json: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Append the labels of FILE to PROJECT's assets."""
    labels = read_labels(file)
    kind = _label_type(label_type)
    summary = Summary(len(labels.rows), labels.key_field)

    async def work(kili: AsyncKili) -> None:
        assets = await _asset_ids(kili, project, labels, file)
        todo = await _missing(kili, labels.rows, assets, kind, model_name, summary)
        if not todo:
            return
        if summary.already_present and not cli_settings(ctx).quiet:
            err().print(
                f"{summary.already_present:,} of {summary.total:,} labels are already "
                "in the project: importing the others.",
                markup=False,
            )
        with bar(ctx, "Importing") as update:
            await _append(kili, project, todo, kind, model_name, summary, update)

    try:
        run(ctx, work, api_key, endpoint, PROJECT_HINT, NAMES)
    except typer.Exit as exc:
        if exc.exit_code in (INTERRUPTED, FAILED):
            err().print(_written_before(summary, exc.exit_code == INTERRUPTED), markup=False)
        raise
    _report(ctx, project, summary, as_json)


def _label_type(value: str) -> LabelType:
    try:
        return LabelType(value)
    except ValueError:
        names = ", ".join(kind.value for kind in LabelType)
        fail(USAGE, f"--label-type {value!r} is not a label type: use one of {names}.")


async def _asset_ids(kili: AsyncKili, project: str, labels: LabelFile, file: Path) -> list[str]:
    """Every label's asset id, all found in the project before anything is written."""
    lookups = kili._core.lookups
    await lookups.input_type(project)  # an unknown project is "not found", not unknown ids
    keys = [row.asset_key for row in labels.rows]
    if labels.by_external_id:
        ids = await lookups.asset_ids_by_external_id(project, keys)
    else:
        ids = {key: key for key in await lookups.existing_asset_ids(project, keys)}
    unknown = [row for row in labels.rows if row.asset_key not in ids]
    if unknown:
        shown = ", ".join(f"{row.asset_key!r} ({row.where})" for row in unknown[:5])
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        raise KiliInputError(
            f"FILE {file}: {len(unknown):,} of {len(keys):,} labels name an "
            f"{labels.key_name} that project {project} does not have: {shown}{more}. Nothing "
            "was written. Hint: fix them, or import those assets first (`aiokili assets "
            f"import`); `aiokili assets list {project}` shows the project's assets."
        )
    return [ids[key] for key in keys]


@dataclass(frozen=True)
class _Todo:
    row: LabelRow
    asset_id: str


async def _missing(
    kili: AsyncKili,
    rows: list[LabelRow],
    assets: list[str],
    kind: LabelType,
    model_name: str | None,
    summary: Summary,
) -> list[_Todo]:
    """The labels the project does not have yet (see the module's docstring)."""
    responses = [row.json_response for row in rows]
    present = await kili._existing_labels(assets, responses, kind, model_name)
    summary.already_present = sum(1 for label_id in present if label_id is not None)
    return [
        _Todo(row, asset)
        for row, asset, label_id in zip(rows, assets, present, strict=True)
        if label_id is None
    ]


async def _append(
    kili: AsyncKili,
    project: str,
    todo: list[_Todo],
    kind: LabelType,
    model_name: str | None,
    summary: Summary,
    update: Update,
) -> None:
    """Append ``todo`` in batches of :data:`IMPORT_CHUNK`; a batch's failed labels are
    recorded and the next batch sent, unless the API is unreachable."""
    update(0, len(todo))
    for start in range(0, len(todo), IMPORT_CHUNK):
        batch = todo[start : start + IMPORT_CHUNK]
        summary.in_flight = len(batch)
        try:
            summary.label_ids += await kili.append_labels(
                asset_id_array=[item.asset_id for item in batch],
                json_response_array=[item.row.json_response for item in batch],
                label_type=kind,
                model_name=model_name,
                project_id=project,
            )
        except BulkOperationError as exc:
            summary.label_ids += exc.succeeded
            summary.failed += [
                {
                    "where": batch[f.index].row.where,
                    summary.key_field: batch[f.index].row.asset_key,
                    "error": one_line(f.error),
                }
                for f in exc.failures
            ]
            if not exc.succeeded and all(
                isinstance(f.error, APIConnectionError) for f in exc.failures
            ):
                summary.in_flight = 0
                raise exc.failures[0].error from exc  # the API is unreachable: stop here
        summary.in_flight = 0
        update(start + len(batch), len(todo))


def _written_before(summary: Summary, interrupted: bool) -> str:
    """How many labels were written before a failure or Ctrl-C (and what to do)."""
    written = len(summary.label_ids)
    if interrupted and summary.in_flight:
        return (
            f"{written:,} labels were written before this, and up to {summary.in_flight:,} "
            "of the batch being sent; run the same command again: only the missing labels "
            "are imported."
        )
    if not written:
        return "Nothing was written."
    return (
        f"{written:,} labels were written before this; run the same command again: only the "
        "missing labels are imported."
    )


def _report(ctx: typer.Context, project: str, summary: Summary, as_json: bool) -> None:
    if as_json:
        emit_json(summary.as_json())
    written, present = len(summary.label_ids), summary.already_present
    if summary.failed:
        details = shown_failures(
            [f"{f['where']} ({f[summary.key_field]}): {f['error']}" for f in summary.failed]
        )
        fail(
            FAILED,
            f"{len(summary.failed):,} of {summary.total:,} labels failed to import ({written:,} "
            f"written, {present:,} already in the project).",
            "Fix them and run the same command again: only the missing labels are imported.",
            details,
        )
    if as_json:
        return
    if not written:
        say(
            ctx,
            f"Nothing to import: all {summary.total:,} labels are already in project "
            f"{escape(project)}.",
        )
        return
    there = f" ({present:,} were already there)" if present else ""
    say(ctx, f"Imported {written:,} label(s) into {escape(project)}{there}.")
