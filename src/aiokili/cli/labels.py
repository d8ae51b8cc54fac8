"""``aiokili labels export|import``: a project's labels to an archive in any export format,
and labels from a JSON / JSONL file, both with a progress bar (rate and ETA)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
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
from ..exports.formats import FORMATS
from ._common import EXIT_CODES, USAGE, ApiKey, Endpoint, Json, emit_json, err, fail, run, say
from ._common import settings as cli_settings

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

Project = Annotated[str, typer.Argument(show_default=False, help="The project id.")]


class Rate(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s")


@contextmanager
def bar(ctx: typer.Context, description: str) -> Iterator[Any]:
    """A progress bar on stderr with count, rate and ETA; ``update(done, total)`` moves it
    (nothing is drawn with ``--quiet``)."""
    if cli_settings(ctx).quiet:
        yield lambda done, total: None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), Rate(), TimeElapsedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err(), transient=False) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield update


def _rows(path: Path) -> list[dict[str, Any]]:
    """The labels of a JSON array or JSONL file, checked: each has ``json_response`` and
    ``external_id`` or ``asset_id``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(USAGE, f"FILE {path}: cannot read it ({exc.strerror}).")
    rows: Any
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        fail(USAGE, f"FILE {path}: not JSON or JSONL ({exc}).",
             'One object per line: {"external_id": "a", "json_response": {...}}')  # fmt: skip
    if not isinstance(rows, list):
        fail(USAGE, f"FILE {path}: expected a list of labels.")
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("json_response"), dict):
            fail(USAGE, f"FILE {path}: label {i} has no json_response object.",
                 'Each label: {"external_id" or "asset_id": ..., "json_response": {...}}')  # fmt: skip
        if bool(row.get("external_id")) == bool(row.get("asset_id")):
            fail(USAGE, f"FILE {path}: label {i} needs exactly one of external_id, asset_id.")
    if len({bool(row.get("external_id")) for row in rows}) > 1:
        fail(USAGE, f"FILE {path}: use external_id for every label, or asset_id for every one.")
    return rows


app = typer.Typer(
    help="Export and import labels.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
    with bar(ctx, "Exporting") as update:
        seen = [0]

        def progress(done: int, total: int) -> None:
            seen[0] = done
            update(done, total)

        async def work(kili: AsyncKili) -> None:
            await kili.export_labels(
                project, str(output), fmt, layout=layout,  # type: ignore[arg-type]
                single_file=single_file, with_assets=with_assets,
                label_type_in=label_type or None, progress=progress,
            )  # fmt: skip

        # kili-formats print()s its skipped annotations: keep stdout for the result
        with contextlib.redirect_stdout(sys.stderr):
            run(ctx, work, api_key, endpoint, None, NAMES)
    if as_json:
        emit_json({"output": str(output), "format": fmt, "assets": seen[0]})
    else:
        say(ctx, f"Exported {seen[0]} asset(s) of {project} to {output} ({fmt}).")


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
    rows = _rows(file)
    with bar(ctx, "Importing") as update:

        async def work(kili: AsyncKili) -> list[str]:
            ids: list[str] = []
            update(0, len(rows))
            for start in range(0, len(rows), IMPORT_CHUNK):
                chunk = rows[start : start + IMPORT_CHUNK]
                by_external = all(r.get("external_id") for r in chunk)
                labels = await kili.append_labels(
                    asset_id_array=None if by_external else [str(r["asset_id"]) for r in chunk],
                    asset_external_id_array=[r["external_id"] for r in chunk]
                    if by_external else None,
                    json_response_array=[r["json_response"] for r in chunk],
                    label_type=label_type,  # type: ignore[arg-type]
                    model_name=model_name, project_id=project,
                )  # fmt: skip
                ids += labels
                update(start + len(chunk), len(rows))
            return ids

        created = run(ctx, work, api_key, endpoint, None, NAMES)
    if as_json:
        emit_json({"created": len(created), "label_ids": created})
    else:
        say(ctx, f"Imported {len(created)} label(s) into {project}.")
