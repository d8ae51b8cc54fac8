"""``aiokili projects list|create|delete``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .._generated.enums import InputType
from ..client import AsyncKili
from ..errors import NotFoundError
from ._common import (
    FAILED,
    USAGE,
    ApiKey,
    Endpoint,
    Hints,
    Json,
    command_group,
    emit_json,
    fail,
    out,
    run,
    say,
    settings,
)
from ._fields import Fields, First, dump, split_fields, stream_json, table

NAMES = {"json_interface": "--interface", "input_type": "--input-type", "title": "--title"}
NOT_FOUND_HINT: Hints = {NotFoundError: "`aiokili projects list` shows the projects."}
TABLE_FIELDS = ["id", "title", "inputType", "createdAt"]

ProjectId = Annotated[
    str, typer.Argument(metavar="PROJECT", show_default=False, help="The project's id.")
]


app = command_group("List, create and delete projects.")


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-s",
            show_default=False,
            help="Only titles matching this SQL LIKE pattern, e.g. 'cats%'.",
        ),
    ] = None,
    fields: Fields = None,
    first: First = None,
    json_: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """The projects the key can see, oldest first (a table, or --json: every field)."""
    chosen = split_fields(fields)
    filters: dict[str, Any] = {} if search is None else {"search_query": search}

    async def work(kili: AsyncKili) -> list[dict[str, Any]]:
        if json_:
            await stream_json(kili.projects(fields=chosen, first=first, **filters))
            return []
        found = await kili.projects(fields=chosen or TABLE_FIELDS, first=first, **filters)
        return [dump(p) for p in found]

    rows = run(ctx, work, api_key, endpoint, None, {"fields": "--fields"})
    if json_:
        return
    if settings(ctx).quiet:
        for row in rows:
            out().print(row.get("id"), markup=False)
        return
    if not rows:
        out().print("No projects.")
        return
    out().print(table("Projects", chosen or TABLE_FIELDS, rows))


@app.command()
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", "-t", show_default=False, help="Title.")],
    input_type: Annotated[
        InputType,
        typer.Option("--input-type", "-i", show_default=False, help="What the assets are."),
    ],
    interface: Annotated[
        str,
        typer.Option(
            "--interface",
            show_default=False,
            help='The ontology: a JSON file, or JSON text ({"jobs": {...}}).',
        ),
    ],
    description: Annotated[str, typer.Option("--description", help="Free text.")] = "",
    json_: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Create a project; print its id (--json: the whole project)."""
    json_interface = _interface(interface)
    project = run(
        ctx,
        lambda kili: kili.create_project(
            title=title,
            description=description,
            input_type=input_type,
            json_interface=json_interface,
        ),
        api_key,
        endpoint,
        None,
        NAMES,
    )
    if json_:
        emit_json(project)
    elif settings(ctx).quiet:
        out().print(project.id, markup=False)
    else:
        out().print(f'Project "{escape(project.title or "")}" created: {project.id}')


@app.command()
def delete(
    ctx: typer.Context,
    project_id: ProjectId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Delete a project with all its assets and labels (asks first, unless --yes)."""

    async def work(kili: AsyncKili) -> str:
        project = await kili.get_project(project_id)
        if not yes:
            _confirm(project.title or "", project_id)
        await kili.delete_project(project_id)
        return project.title or ""

    title = run(ctx, work, api_key, endpoint, NOT_FOUND_HINT, {"project_id": "PROJECT"})
    say(ctx, f'Project "{escape(title)}" ({escape(project_id)}) deleted.')


def _can_ask() -> bool:
    return sys.stdin.isatty()


def _confirm(title: str, project_id: str) -> None:
    """Ask on the terminal; without one, refuse (exit 2) rather than delete unasked."""
    if not _can_ask():
        fail(
            USAGE,
            f'Not deleting project "{title}" ({project_id}) without confirmation.',
            "Pass --yes to delete without asking (no terminal to ask on).",
        )
    if not typer.confirm(
        f'Delete project "{title}" ({project_id}) with all its assets and labels?'
    ):
        fail(FAILED, f'Project "{title}" ({project_id}) not deleted: you said no.')


def _interface(value: str) -> dict[str, Any]:
    """--interface: a JSON file's content, or JSON text; a JSON object with "jobs"."""
    source = Path(value)
    try:
        is_file = source.is_file()
    except OSError:  # JSON text too long to be a file name
        is_file = False
    try:
        text = source.read_text(encoding="utf-8") if is_file else value
    except (OSError, UnicodeDecodeError) as exc:
        fail(USAGE, f"--interface: cannot read {source} ({exc}).")
    where = str(source) if is_file else "the JSON text"
    try:
        interface = json.loads(text)
    except ValueError as exc:
        if not is_file and not value.lstrip().startswith(("{", "[")):
            fail(
                USAGE,
                f"--interface {value!r} is neither a file nor JSON text.",
                "Give a path to a JSON file, or the JSON itself: --interface '{\"jobs\": {}}'.",
            )
        fail(USAGE, f"--interface: {where} is not valid JSON ({exc}).")
    if not isinstance(interface, dict) or not isinstance(interface.get("jobs"), dict):
        fail(
            USAGE,
            f'--interface: {where} must be a JSON object with a "jobs" object.',
            'e.g. {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", ...}}}',
        )
    return interface
