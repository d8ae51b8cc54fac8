"""What every command shares: the connection options, the output settings (``--quiet``,
``--json``), and turning exceptions into one readable line, a hint and a meaningful exit code."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, NoReturn, TypeVar

import anyio
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from ..client import AsyncKili
from ..errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    KiliError,
    KiliInputError,
    NotFoundError,
    PluginBuildError,
    PluginDeployTimeout,
)

T = TypeVar("T")

OK, FAILED, USAGE, AUTH, NOT_FOUND, TIMEOUT, INTERRUPTED = 0, 1, 2, 3, 4, 5, 130

EXIT_CODES = (
    "Exit codes: 0 ok; 1 the operation failed (a plugin build failed, a handler raised, the "
    "API could not be reached); 2 bad usage or input; 3 authentication failed; 4 not found; "
    "5 deployment timeout; 130 interrupted (Ctrl-C)."
)

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="KILI_API_KEY",
        show_default=False,
        help="API key (default: $KILI_API_KEY). Never printed.",
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        envvar="KILI_API_ENDPOINT",
        show_default=False,
        help="GraphQL endpoint (default: $KILI_API_ENDPOINT, else Kili's cloud).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


SHOWN_FAILURES = 20
"""Failed items an import lists on stderr (``--json`` lists them all)."""


def command_group(help: str) -> typer.Typer:
    """The typer app of a command group: its help, the exit codes, help when run bare."""
    return typer.Typer(help=help, epilog=EXIT_CODES, no_args_is_help=True, rich_markup_mode=None)


def one_line(error: BaseException) -> str:
    """An item's error as one line (its first), for the list of failures."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def shown_failures(lines: list[str]) -> list[str]:
    """The first :data:`SHOWN_FAILURES` lines, and how many more ``--json`` lists."""
    more = len(lines) - SHOWN_FAILURES
    tail = [f"... and {more:,} more (--json lists them all)."] if more > 0 else []
    return lines[:SHOWN_FAILURES] + tail


@dataclass
class Settings:
    """The global options (``aiokili -q -v ...``), in ``ctx.obj``."""

    quiet: bool = False
    verbose: int = 0


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def out() -> Console:
    """Console for results (stdout); made per call so it follows redirections."""
    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    """Console for progress, errors and hints (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def say(ctx: typer.Context, message: str) -> None:
    """A human-readable outcome line on stdout, unless ``--quiet``."""
    if not settings(ctx).quiet:
        out().print(message)


def emit_json(value: Any) -> None:
    """``value`` (models, lists of models, datetimes...) as one JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(value), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def fail(
    code: int, message: str, hint: str | None = None, details: list[str] | None = None
) -> NoReturn:
    """Print ``Error: message`` (one line), indented details and ``Hint: hint`` on stderr;
    exit with ``code``."""
    console = err()
    console.print(f"[bold red]Error:[/] {escape(message)}", markup=True)
    for detail in details or ():
        for line in detail.splitlines():
            console.print("  " + line, markup=False)
    if hint:
        console.print(f"Hint: {hint}", markup=False)
    raise typer.Exit(code)


def parse_since(value: str | None) -> datetime | None:
    """``--since`` as an aware datetime (ISO 8601; a trailing ``Z`` and a bare date work)."""
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(
            USAGE,
            f"--since {value!r} is not an ISO 8601 date or time.",
            "e.g. --since 2026-01-31 or --since 2026-01-31T12:00:00Z",
        )
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


_METHOD_PREFIX = re.compile(r"^\w+\(\): ")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PYTHON_CALL = re.compile(r"[\w.]+\(\)")


def _split(exc: BaseException) -> tuple[str, str | None]:
    """The message's first line and its own hint, as the CLI says them: without the SDK's
    ``method(): `` prefix, nor the sentences that advise a Python call
    (``... or list them with kili.projects().``: the CLI's hint says what to run)."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, GraphQLError) and exc.errors:  # without the "Operation: " prefix
        text = exc.errors[0].message.strip() or text
    first = _METHOD_PREFIX.sub("", text.splitlines()[0])
    message, _, hint = first.partition(" Hint: ")
    first_sentence, *others = _SENTENCE_END.split(message)
    kept = [first_sentence, *(s for s in others if not _PYTHON_CALL.search(s))]
    return " ".join(kept), hint or None


def command_path(ctx: typer.Context | None) -> str:
    """The command of ``ctx`` as a user types it, e.g. ``aiokili plugins upload``."""
    names: list[str] = []
    here: Any = ctx
    while here is not None and here.parent is not None:
        names.append(here.info_name or "")
        here = here.parent
    return " ".join(["aiokili", *reversed(names)])


Hints = dict[type[BaseException], str]


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, PluginDeployTimeout):
        return TIMEOUT
    if isinstance(exc, AuthenticationError):
        return AUTH
    if isinstance(exc, NotFoundError):
        return NOT_FOUND
    if isinstance(exc, (KiliInputError, ConfigurationError)):
        return USAGE
    return FAILED


DEFAULT_HINTS: Hints = {
    PluginDeployTimeout: "It may still be deploying: `aiokili plugins status` shows it; or "
    "wait longer with --timeout.",
    AuthenticationError: "Check the API key: --api-key or $KILI_API_KEY (and --endpoint or "
    "$KILI_API_ENDPOINT).",
    ConfigurationError: "Pass --api-key and --endpoint, or set $KILI_API_KEY and "
    "$KILI_API_ENDPOINT.",
    APIConnectionError: "Is the API at --endpoint ($KILI_API_ENDPOINT) reachable? "
    "`aiokili server` runs a local one.",
    NotFoundError: "Check the name or id.",
}
"""Hints of the errors whose command gives none (a KiliInputError's: ``{command} --help``)."""


def report(
    exc: BaseException,
    hints: Hints | None = None,
    names: dict[str, str] | None = None,
    ctx: typer.Context | None = None,
) -> NoReturn:
    """Exit with ``exc`` as one line, a hint, and its exit code. ``names`` renames the SDK's
    argument names in the message to the command's (``plugin_path`` -> ``PATH``); ``ctx``
    (the command's) names the command in the default hint of bad input."""
    message, own_hint = _split(exc)
    for sdk_name, cli_name in (names or {}).items():  # "in fields=." -> "in --fields."
        message = re.sub(rf"\b{sdk_name}\b(=(?=[\s.,;:)]|$))?", cli_name, message)
    hint = own_hint
    for table in (hints or {}, DEFAULT_HINTS):
        if hint is not None:
            break
        hint = next((h for kind, h in table.items() if isinstance(exc, kind)), None)
    if hint is None and isinstance(exc, KiliInputError):
        hint = f"`{command_path(ctx)} --help` shows the arguments."
    details = None
    if isinstance(exc, PluginBuildError):  # the last build errors, as the server wrote them
        details = [str(getattr(e, "content", e)).strip() for e in exc.errors[-5:]]
    fail(exit_code(exc), message, hint, details)


def run(
    ctx: typer.Context,
    work: Callable[[AsyncKili], Awaitable[T]],
    api_key: str | None,
    endpoint: str | None,
    hints: Hints | None = None,
    names: dict[str, str] | None = None,
) -> T:
    """Run ``work`` with an :class:`AsyncKili`; SDK errors become :func:`report` exits and
    Ctrl-C exits 130 without a traceback."""
    settings(ctx)

    async def go() -> T:
        async with AsyncKili(api_key=api_key, api_endpoint=endpoint) as kili:
            return await work(kili)

    try:
        return anyio.run(go)
    except (KeyboardInterrupt, asyncio.CancelledError):  # 3.10: Ctrl-C ends as a cancellation
        raise typer.Exit(INTERRUPTED) from None
    except (KiliError, APIError) as exc:
        report(exc, hints, names, ctx)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stderr`` (which a test runner may swap)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(ctx: typer.Context, verbose: int) -> None:
    """``-v``: INFO logs of the ``aiokili`` logger on stderr (``-vv``: DEBUG), for this
    command (undone when it ends)."""
    if not verbose:
        return
    logger = logging.getLogger("aiokili")
    before = logger.level
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before)

    ctx.call_on_close(undo)


class _ToCallback(logging.Handler):
    def __init__(self, callback: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        self.callback(record.getMessage())


@contextmanager
def progress(ctx: typer.Context, start: str, logger: str) -> Iterator[None]:
    """A spinner on stderr whose text follows ``logger``'s INFO records (not with --quiet)."""
    if settings(ctx).quiet:
        yield
        return
    target = logging.getLogger(logger)
    with err().status(start) as status:
        handler = _ToCallback(lambda message: status.update(message))
        before = target.level
        if target.getEffectiveLevel() > logging.INFO:
            target.setLevel(logging.INFO)
        target.addHandler(handler)
        try:
            yield
        finally:
            target.removeHandler(handler)
            target.setLevel(before)
