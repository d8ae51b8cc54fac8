"""What ``aiokili plugins test`` needs around :func:`~aiokili.plugins.handler.run_locally`:
the label the handler gets, what it logs and prints (shown as it comes, kept for --json),
and its traceback from the plugin's own code on."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from rich.console import Console

from ..client import AsyncKili
from ..errors import GraphQLError, KiliInputError, NotFoundError
from ..plugins.handler import Event, run_locally

SEND_BACK_TO_QUEUE = "on_send_back_to_queue"


class HandlerOutput:
    """The handler's log records and printed lines: kept in ``entries`` and, unless
    ``silent``, printed as they come on the stdout of the moment it was made."""

    def __init__(self, silent: bool) -> None:
        self.entries: list[dict[str, str]] = []
        self.silent = silent
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=True)

    def show(self, level: str, message: str) -> None:
        self.entries.append({"level": level, "message": message})
        if not self.silent:
            self.console.print(f"{level:<8} {message}", markup=False)

    def logger(self, name: str) -> logging.Logger:
        """The logger the handler gets (``self.logger``), every record shown."""
        logger = logging.Logger(name, logging.DEBUG)
        logger.addHandler(_Collect(self.show))
        return logger


async def run_handler(
    kili: AsyncKili,
    path: Path,
    label: dict[str, Any] | Any,
    asset: str,
    project: str,
    event: str,
    output: HandlerOutput,
) -> dict[str, Any]:
    """Run the handler once: ``{"returned": ..., "error": None}``, or, when the plugin's
    code raised, ``{"returned": None, "error": {type, message, traceback}}``. Errors that
    are not the handler's doing (bad input, unknown ids...) propagate."""
    folder = _folder_of(path)
    printed = _Lines(lambda line: output.show("INFO", line))
    try:
        with contextlib.redirect_stdout(printed):
            result = await run_locally(
                path,
                label,
                asset,
                project,
                kili=kili,
                event=cast(Event, event),  # checked by run_locally, naming the events
                logger=output.logger(f"plugin.{path.stem}"),
            )
    except Exception as exc:
        plugin_tb = _plugin_traceback(exc, folder)
        if plugin_tb is None:
            raise
        return {"returned": None, "error": _error(exc, plugin_tb)}
    finally:
        printed.flush()
    return {"returned": result, "error": None}


async def stored_label(
    kili: AsyncKili, project: str, asset: str, label_id: str | None, event: str
) -> dict[str, Any] | Any:
    """The label the handler gets from the API: --label-id, else the asset's latest one."""
    if label_id is not None:
        found = await kili.labels(project, label_id=label_id)
        if not found:
            raise NotFoundError.from_message(
                f"No label {label_id!r} in project {project!r}.", "NOT_FOUND"
            )
        return found[0]
    if event == SEND_BACK_TO_QUEUE:
        return {}
    found = await kili.labels(project, asset_id=asset, type_in=["DEFAULT", "REVIEW"])
    if not found:
        raise KiliInputError(
            f"asset {asset!r} has no label in project {project!r}. Hint: label it first, or "
            "pass --label-json or --label-id."
        )
    return found[-1]


async def check_asset(kili: AsyncKili, project: str, asset: str) -> None:
    """NotFoundError unless the project exists and has the asset."""
    lookups = kili._core.lookups
    await lookups.input_type(project)
    if asset not in await lookups.existing_asset_ids(project, [asset]):
        raise NotFoundError.from_message(
            f'Asset "{asset}" not found in project {project}. Hint: `aiokili assets list '
            f"{project}` shows its assets.",
            "NOT_FOUND",
        )


def given_label(label_json: str, event: str) -> dict[str, Any]:
    """--label-json: a JSON file's content, or JSON text, holding a label (an object with
    ``jsonResponse``) or a bare json response, which becomes the ``jsonResponse`` of a
    label of the event's type (no id: it is not in the API)."""
    source = Path(label_json)
    text = source.read_text() if _is_file(source) else label_json
    try:
        label = json.loads(text)
    except ValueError as exc:
        raise KiliInputError(
            f"--label-json is neither a JSON file nor JSON text ({exc})."
        ) from None
    if not isinstance(label, dict):
        raise KiliInputError("--label-json must hold a JSON object: a label, or its json response.")
    if "jsonResponse" in label:
        return label
    kind = "REVIEW" if event == "on_review" else "DEFAULT"
    return {"id": None, "labelType": kind, "jsonResponse": label}


def _folder_of(path: Path) -> Path:
    """The plugin's folder (a .py file's own folder)."""
    return (path if path.is_dir() else path.parent).resolve()


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # JSON text too long to be a file name
        return False


class _Collect(logging.Handler):
    def __init__(self, show: Callable[[str, str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.show(record.levelname, message)


class _Lines(io.TextIOBase):
    """What the handler prints, line by line, to ``emit`` (as the server logs prints)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
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


def _plugin_traceback(exc: BaseException, folder: Path) -> TracebackType | None:
    """The traceback from the plugin's first frame on; None if no frame is the plugin's."""
    tb = exc.__traceback__
    while tb is not None:
        file = Path(tb.tb_frame.f_code.co_filename)
        if file.is_absolute() and file.resolve().is_relative_to(folder):
            return tb
        tb = tb.tb_next
    return None


def _error(exc: BaseException, tb: TracebackType) -> dict[str, str]:
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, GraphQLError):
        message = exc.message.splitlines()[0]
    return {"type": type(exc).__name__, "message": message, "traceback": text}
