"""``aiokili plugins ...``: upload, update, activate, deactivate, delete, list, status,
build-errors, logs (``--follow``) and ``test`` (the local harness: run a handler here)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..client import AsyncKili
from ..errors import GraphQLError, KiliInputError, NotFoundError, PluginBuildError
from ..plugins import PluginLog
from ..plugins.files import plugin_files, plugin_name_of
from ..plugins.handler import run_locally
from ..plugins.methods import DEPLOY_TIMEOUT
from ._common import (
    EXIT_CODES,
    FAILED,
    USAGE,
    ApiKey,
    Endpoint,
    Hints,
    Json,
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


def build() -> typer.Typer:
    app = typer.Typer(
        help="Upload, run and inspect plugins.",
        epilog=EXIT_CODES,
        no_args_is_help=True,
        rich_markup_mode=None,
    )

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
        check_files(path)
        shown = name or _default_name(path)
        hints: Hints = {
            PluginBuildError: f"Fix the plugin, then `aiokili plugins update {path} --name "
            f"{shown}`; `aiokili plugins build-errors {shown}` lists every error.",
            **({} if not update else NOT_FOUND_HINT),
        }

        async def work(kili: AsyncKili) -> str:
            verb = "Updating" if update else "Uploading"
            with progress(ctx, f'{verb} plugin "{shown}"...', "aiokili.plugins"):
                try:
                    if update:
                        return await kili.update_plugin(
                            path, name, True, event_matcher or None, deploy_timeout=timeout
                        )
                    return await kili.upload_plugin(
                        path, name, True, event_matcher or None, deploy_timeout=timeout
                    )
                except KiliInputError as exc:
                    if "already exists" not in str(exc):
                        raise
                    raise KiliInputError(
                        f'A plugin named "{shown}" already exists. Hint: `aiokili plugins '
                        f"update {path} --name {shown}` replaces its code."
                    ) from exc

        run(ctx, work, api_key, endpoint, hints, PLUGIN_NAMES)
        say(ctx, f'Plugin "{escape(shown)}" {"updated" if update else "uploaded"}: active.')

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
            ctx, lambda kili: kili.activate_plugin_on_project(name, project), api_key,
            endpoint, _project_hint(), NAME_NAMES,
        )  # fmt: skip
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
            ctx, lambda kili: kili.deactivate_plugin_on_project(name, project), api_key,
            endpoint, _project_hint(), NAME_NAMES,
        )  # fmt: skip
        say(ctx, f'Plugin "{escape(name)}" deactivated on project {escape(project)}.')

    @app.command()
    def delete(
        ctx: typer.Context, name: Name, api_key: ApiKey = None, endpoint: Endpoint = None
    ) -> None:
        """Delete the plugin (it is deactivated on every project)."""
        run(ctx, lambda kili: kili.delete_plugin(name), api_key, endpoint, NOT_FOUND_HINT,
            NAME_NAMES)  # fmt: skip
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
                plugin.name, ", ".join(plugin.project_ids or []) or "-",
                _when(plugin.updated_at), plugin.id,
            )  # fmt: skip
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
        found = run(ctx, lambda kili: kili.get_plugin_status(name), api_key, endpoint,
                    NOT_FOUND_HINT, NAME_NAMES)  # fmt: skip
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
        found = run(ctx, lambda kili: kili.get_plugin_build_errors(name, start), api_key,
                    endpoint, NOT_FOUND_HINT, NAME_NAMES)  # fmt: skip
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
                help="The label the handler gets: a JSON file or JSON text.",
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
        if label_json is not None and label_id is not None:
            fail(USAGE, "give --label-json or --label-id, not both.")
        folder = (path if path.is_dir() else path.parent).resolve()
        console = Console(file=_stdout(), highlight=False, soft_wrap=True)
        entries: list[dict[str, str]] = []

        def show(level: str, message: str) -> None:
            entries.append({"level": level, "message": message})
            if not json_ and not settings(ctx).quiet:
                console.print(f"{level:<8} {message}", markup=False)

        try:
            given = None if label_json is None else _label_arg(label_json)
        except KiliInputError as exc:
            fail(USAGE, str(exc), "pass a file holding a JSON object, or the object itself.")

        async def work(kili: AsyncKili) -> dict[str, Any]:
            label = (
                given
                if given is not None
                else await _label(kili, project, asset, label_id, event.value)
            )
            logger = logging.Logger(f"plugin.{path.stem}", logging.DEBUG)
            logger.addHandler(_Collect(show))
            printed = _Lines(lambda line: show("INFO", line))
            try:
                with contextlib.redirect_stdout(printed):
                    result = await run_locally(
                        path, label, asset, project, kili=kili, event=event.value, logger=logger
                    )
            except Exception as exc:
                plugin_tb = _plugin_traceback(exc, folder)
                if plugin_tb is None:
                    raise  # not the handler's doing: bad input, unknown ids...
                return {"returned": None, "error": _error(exc, plugin_tb)}
            finally:
                printed.flush()
            return {"returned": result, "error": None}

        outcome = run(ctx, work, api_key, endpoint, _project_hint(), PLUGIN_NAMES)
        error = outcome["error"]
        if json_:
            emit_json({"event": event.value, "logs": entries, **outcome})
        elif error is not None:
            err().print(error["traceback"].rstrip(), markup=False, highlight=False)
        elif not settings(ctx).quiet:
            console.print(f"{event.value} returned {jsonable(outcome['returned'])!r}", markup=False)
        if error is not None:
            if json_:
                raise typer.Exit(FAILED)
            fail(
                FAILED,
                f"{event.value} raised {error['type']}: {error['message']}",
                "the traceback above starts at the plugin's code.",
            )

    return app


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


def _stdout() -> Any:
    import sys

    return sys.stdout


class _Collect(logging.Handler):
    def __init__(self, show: Any) -> None:
        super().__init__(logging.DEBUG)
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.show(record.levelname, message)


class _Lines(io.TextIOBase):
    """What the handler prints, line by line, to ``emit`` (as the server logs prints)."""

    def __init__(self, emit: Any) -> None:
        self.emit = emit
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.emit(line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            line, self.pending = self.pending, ""
            self.emit(line)


async def _label(
    kili: AsyncKili,
    project: str,
    asset: str,
    label_id: str | None,
    event: str,
) -> dict[str, Any] | Any:
    """The label the handler gets: --label-id, else the asset's latest one."""
    if label_id is not None:
        found = await kili.labels(project, label_id=label_id)
        if not found:
            raise NotFoundError.from_message(
                f"No label {label_id!r} in project {project!r}.", "NOT_FOUND"
            )
        return found[0]
    if event == EventName.on_send_back_to_queue.value:
        return {}
    found = await kili.labels(project, asset_id=asset, type_in=["DEFAULT", "REVIEW"])
    if not found:
        raise KiliInputError(
            f"asset {asset!r} has no label in project {project!r}. Hint: label it first, or "
            "pass --label-json or --label-id."
        )
    return found[-1]


def _label_arg(label_json: str) -> dict[str, Any]:
    """--label-json: a JSON file's content, or JSON text; a JSON object."""
    source = Path(label_json)
    text = source.read_text() if _is_file(source) else label_json
    try:
        label = json.loads(text)
    except ValueError as exc:
        raise KiliInputError(
            f"--label-json is neither a JSON file nor JSON text ({exc})."
        ) from None
    if not isinstance(label, dict):
        raise KiliInputError("--label-json must hold a JSON object (the label).")
    return label


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # JSON text too long to be a file name
        return False


def _plugin_traceback(exc: BaseException, folder: Path) -> Any:
    """The traceback from the plugin's first frame on; None if no frame is the plugin's."""
    tb = exc.__traceback__
    while tb is not None:
        file = Path(tb.tb_frame.f_code.co_filename)
        if file.is_absolute() and file.resolve().is_relative_to(folder):
            return tb
        tb = tb.tb_next
    return None


def _error(exc: BaseException, tb: Any) -> dict[str, str]:
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, GraphQLError):
        message = exc.message.splitlines()[0]
    return {"type": type(exc).__name__, "message": message, "traceback": text}
