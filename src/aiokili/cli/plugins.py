"""``aiokili plugins ...``: upload, update, activate, deactivate, delete, list, status,
build-errors, logs (``--follow``) and ``test`` (the local harness: run a handler here)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..client import AsyncKili
from ..errors import (
    KiliInputError,
    NotFoundError,
    PluginBuildError,
    PluginDeployTimeout,
    PluginNameTaken,
)
from ..plugins import PluginLog
from ..plugins.files import plugin_files, plugin_name_of
from ..plugins.methods import DEPLOY_TIMEOUT
from ._common import (
    FAILED,
    USAGE,
    ApiKey,
    Endpoint,
    Hints,
    Json,
    command_group,
    emit_json,
    err,
    fail,
    jsonable,
    out,
    parse_since,
    progress,
    report,
    run,
    say,
    settings,
)
from .harness import HandlerOutput, check_asset, given_label, run_handler, stored_label

PLUGIN_NAMES = {
    "plugin_path": "PATH",
    "plugin_name": "--name",
    "event_matcher": "--event-matcher",
    "deploy_timeout": "--timeout",
    "project_id": "--project",
    "asset_id": "--asset",
    "start_date": "--since",
}
NAME_NAMES = {"plugin_name": "NAME", "project_id": "--project", "start_date": "--since"}
LOGS_NAMES = {"plugin_name": "NAME", "project_id": "PROJECT", "start_date": "--since"}
NOT_FOUND_HINT: Hints = {NotFoundError: "`aiokili plugins list` shows the plugins."}


class EventName(str, Enum):
    on_submit = "on_submit"
    on_review = "on_review"
    on_custom_interface_click = "on_custom_interface_click"
    on_send_back_to_queue = "on_send_back_to_queue"


PluginPath = Annotated[
    Path,
    typer.Argument(
        metavar="PATH",
        show_default=False,
        help="A .py file, or a folder with main.py (and requirements.txt).",
    ),
]
Name = Annotated[str, typer.Argument(metavar="NAME", show_default=False, help="The plugin's name.")]
Project = Annotated[str, typer.Option("--project", "-p", show_default=False, help="Project id.")]
EventMatchers = Annotated[
    list[str] | None,
    typer.Option(
        "--event-matcher",
        show_default=False,
        help="Event subject or pattern to run on (repeatable), e.g. asset.workflow.*; "
        "default: the on_* handlers the plugin defines.",
    ),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=0.001, help="Seconds to wait for the deployment."),
]
Since = Annotated[
    str | None,
    typer.Option("--since", show_default=False, help="Entries from this ISO 8601 date or time on."),
]


app = command_group("Upload, run and inspect plugins.")


def deploy(
    ctx: typer.Context,
    path: Path,
    name: str | None,
    event_matcher: list[str] | None,
    timeout: float,
    api_key: str | None,
    endpoint: str | None,
    *,
    update: bool,
) -> None:
    """``upload`` and ``update``: check the files, deploy, wait until active."""
    check_files(path)
    shown = name or _default_name(path)

    async def work(kili: AsyncKili) -> str:
        verb = "Updating" if update else "Uploading"
        with progress(ctx, f'{verb} plugin "{shown}"...', "aiokili.plugins"):
            return await _deploy(kili, path, name, shown, event_matcher, timeout, update=update)

    run(ctx, work, api_key, endpoint, _deploy_hints(path, shown, update), PLUGIN_NAMES)
    say(ctx, f'Plugin "{escape(shown)}" {"updated" if update else "uploaded"}: active.')


def _deploy_hints(path: Path, shown: str, update: bool) -> Hints:
    return {
        PluginBuildError: f"Fix the plugin, then `aiokili plugins update {path} --name "
        f"{shown}`; `aiokili plugins build-errors {shown}` lists every error.",
        PluginDeployTimeout: f"It may still be deploying: `aiokili plugins status {shown}`; "
        "or wait longer with --timeout.",
        **({} if not update else NOT_FOUND_HINT),
    }


async def _deploy(
    kili: AsyncKili,
    path: Path,
    name: str | None,
    shown: str,
    event_matcher: list[str] | None,
    timeout: float,
    *,
    update: bool,
) -> str:
    """Upload or update the plugin; a taken name says how to update it instead."""
    matchers = event_matcher or None
    try:
        if update:
            return await kili.update_plugin(path, name, True, matchers, deploy_timeout=timeout)
        return await kili.upload_plugin(path, name, True, matchers, deploy_timeout=timeout)
    except PluginNameTaken as exc:
        raise KiliInputError(
            f'A plugin named "{shown}" already exists. Hint: `aiokili plugins '
            f"update {path} --name {shown}` replaces its code."
        ) from exc


@app.command()
def upload(
    ctx: typer.Context,
    path: PluginPath,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", "-n", show_default=False, help="Default: the file's or folder's name."
        ),
    ] = None,
    event_matcher: EventMatchers = None,
    timeout: Timeout = DEPLOY_TIMEOUT,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Upload a new plugin and wait until it is active (exit 1 if its build fails)."""
    deploy(ctx, path, name, event_matcher, timeout, api_key, endpoint, update=False)


@app.command()
def update(
    ctx: typer.Context,
    path: PluginPath,
    name: Annotated[
        str, typer.Option("--name", "-n", show_default=False, help="The plugin to update.")
    ],
    event_matcher: EventMatchers = None,
    timeout: Timeout = DEPLOY_TIMEOUT,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Replace an uploaded plugin's code and wait until it is active again."""
    deploy(ctx, path, name, event_matcher, timeout, api_key, endpoint, update=True)


@app.command()
def activate(
    ctx: typer.Context,
    name: Name,
    project: Project,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Run the plugin on a project's events."""
    run(
        ctx,
        lambda kili: kili.activate_plugin_on_project(name, project),
        api_key,
        endpoint,
        _project_hint(),
        NAME_NAMES,
    )
    say(ctx, f'Plugin "{escape(name)}" active on project {escape(project)}.')


@app.command()
def deactivate(
    ctx: typer.Context,
    name: Name,
    project: Project,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Stop running the plugin on a project (it stays active on its other projects)."""
    run(
        ctx,
        lambda kili: kili.deactivate_plugin_on_project(name, project),
        api_key,
        endpoint,
        _project_hint(),
        NAME_NAMES,
    )
    say(ctx, f'Plugin "{escape(name)}" deactivated on project {escape(project)}.')


@app.command()
def delete(
    ctx: typer.Context, name: Name, api_key: ApiKey = None, endpoint: Endpoint = None
) -> None:
    """Delete the plugin (it is deactivated on every project)."""
    run(ctx, lambda kili: kili.delete_plugin(name), api_key, endpoint, NOT_FOUND_HINT, NAME_NAMES)
    say(ctx, f'Plugin "{escape(name)}" deleted.')


@app.command("list")
def list_(
    ctx: typer.Context, json_: Json = False, api_key: ApiKey = None, endpoint: Endpoint = None
) -> None:
    """The organization's plugins and webhooks."""
    found = run(ctx, lambda kili: kili.list_plugins(), api_key, endpoint)
    if json_:
        emit_json(found)
        return
    if settings(ctx).quiet:
        for plugin in found:
            out().print(plugin.name, markup=False)
        return
    table = Table(title="Plugins")
    table.add_column("name", no_wrap=True)
    table.add_column("projects", overflow="fold")
    table.add_column("updated", no_wrap=True)
    table.add_column("id", overflow="fold")
    for plugin in found:
        table.add_row(
            plugin.name,
            ", ".join(plugin.project_ids or []) or "-",
            _when(plugin.updated_at),
            plugin.id,
        )
    out().print(table if found else "No plugins.")


@app.command()
def status(
    ctx: typer.Context,
    name: Name,
    json_: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """The plugin's deployment status: DEPLOYING, ACTIVE or FAILED."""
    found = run(
        ctx,
        lambda kili: kili.get_plugin_status(name),
        api_key,
        endpoint,
        NOT_FOUND_HINT,
        NAME_NAMES,
    )
    if json_:
        emit_json({"name": name, "status": found})
    else:
        out().print(found or "-", markup=False)


@app.command("build-errors")
def build_errors(
    ctx: typer.Context,
    name: Name,
    since: Since = None,
    json_: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """The plugin's build errors (the reason a deployment FAILED)."""
    start = parse_since(since)
    found = run(
        ctx,
        lambda kili: kili.get_plugin_build_errors(name, start),
        api_key,
        endpoint,
        NOT_FOUND_HINT,
        NAME_NAMES,
    )
    if json_:
        emit_json(found)
        return
    for entry in found:
        _print_log(out(), entry)
    if not found:
        say(ctx, f'Plugin "{escape(name)}" has no build error.')


@app.command()
def logs(
    ctx: typer.Context,
    project: Annotated[
        str, typer.Argument(metavar="PROJECT", show_default=False, help="Project id.")
    ],
    name: Name,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new entries (Ctrl-C ends).")
    ] = False,
    since: Since = None,
    json_: Annotated[
        bool, typer.Option("--json", help="One JSON object per entry and line.")
    ] = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """The plugin's log entries on a project, oldest first (Ctrl-C exits 130)."""
    start = parse_since(since)

    async def work(kili: AsyncKili) -> None:
        console = out()
        async for entry in kili.iter_plugin_logs(project, name, start, follow=follow):
            if json_:
                emit_json(entry)
            else:
                _print_log(console, entry)

    run(ctx, work, api_key, endpoint, _project_hint(), LOGS_NAMES)


@app.command("test")
def test_(
    ctx: typer.Context,
    path: PluginPath,
    project: Project,
    asset: Annotated[str, typer.Option("--asset", "-a", show_default=False, help="Asset id.")],
    label_json: Annotated[
        str | None,
        typer.Option(
            "--label-json",
            show_default=False,
            help="The label the handler gets: a JSON file or JSON text holding a label "
            '({"id": ..., "jsonResponse": {...}}) or only its json response, e.g. '
            """'{"JOB": {"categories": [{"name": "A"}]}}'.""",
        ),
    ] = None,
    label_id: Annotated[
        str | None,
        typer.Option(
            "--label-id",
            show_default=False,
            help="The label the handler gets, by id (default: the asset's latest label).",
        ),
    ] = None,
    event: Annotated[
        EventName, typer.Option("--event", "-e", help="The handler to run.")
    ] = EventName.on_submit,
    json_: Json = False,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Run one handler of a plugin here, against the API, without uploading it.

    The handler's own calls (e.g. send_back_to_queue) really happen. Prints what it
    logged and returned; exit 1 with the traceback if it raised.
    """
    check_files(path)
    given = _given_label(label_json, label_id, event.value)
    output = HandlerOutput(silent=json_ or settings(ctx).quiet)

    async def work(kili: AsyncKili) -> dict[str, Any]:
        await check_asset(kili, project, asset)
        label = given
        if label is None:
            label = await stored_label(kili, project, asset, label_id, event.value)
        return await run_handler(kili, path, label, asset, project, event.value, output)

    outcome = run(ctx, work, api_key, endpoint, _project_hint(), PLUGIN_NAMES)
    _show_outcome(ctx, event.value, outcome, output, json_)


def _given_label(label_json: str | None, label_id: str | None, event: str) -> dict[str, Any] | None:
    """The label of --label-json, checked (None without it)."""
    if label_json is not None and label_id is not None:
        fail(USAGE, "give --label-json or --label-id, not both.")
    if label_json is None:
        return None
    try:
        return given_label(label_json, event)
    except KiliInputError as exc:
        fail(USAGE, str(exc), "pass a file holding a JSON object, or the object itself.")


def _show_outcome(
    ctx: typer.Context, event: str, outcome: dict[str, Any], output: HandlerOutput, json_: bool
) -> None:
    """What the handler returned, or its traceback and exit 1 if it raised."""
    error = outcome["error"]
    if json_:
        emit_json({"event": event, "logs": output.entries, **outcome})
    elif error is not None:
        err().print(error["traceback"].rstrip(), markup=False, highlight=False)
    elif not settings(ctx).quiet:
        output.console.print(f"{event} returned {jsonable(outcome['returned'])!r}", markup=False)
    if error is None:
        return
    if json_:
        raise typer.Exit(FAILED)
    fail(
        FAILED,
        f"{event} raised {error['type']}: {error['message']}",
        "the traceback above starts at the plugin's code.",
    )


def check_files(path: Path) -> None:
    """The plugin's local checks, before anything needs the API key."""
    try:
        plugin_files("upload_plugin", path)
    except KiliInputError as exc:
        hint = (
            "PATH is a .py file, or a folder with a main.py, defining a PluginHandler(PluginCore)."
        )
        report(exc, {KiliInputError: hint}, PLUGIN_NAMES)


def _default_name(path: Path) -> str:
    try:
        return plugin_name_of("upload_plugin", path, None)
    except OSError:  # pragma: no cover - unreadable path: the SDK reports it
        return path.name


def _project_hint() -> Hints:
    return {
        NotFoundError: "`aiokili plugins list` shows the plugins (and their projects); "
        "check the project and asset ids."
    }


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _print_log(console: Console, entry: PluginLog) -> None:
    when = entry.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.created_at else "-"
    console.print(f"{when} {entry.log_type or '-':<7} {entry.content or ''}", markup=False)
