"""What ``aiokili users`` and ``aiokili orgs`` share: the server's database, opened on this
machine (they work on the server side, where a new API key can be shown once)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ._common import NOT_FOUND, USAGE, emit_json, fail, out, settings

if TYPE_CHECKING:
    from ..server import Account, Store

T = TypeVar("T")

Database = Annotated[
    str,
    typer.Option(
        "--db",
        help="The local server's SQLite file or PostgreSQL URL (`aiokili server --db`); it "
        "may be running.",
    ),
]
DEFAULT_DB = "aiokili.sqlite3"


@contextmanager
def database(db: str) -> Iterator[Store]:
    """The store of an existing database: a SQLite file (a new file would be an empty
    server) or a PostgreSQL database (its uploads are not touched)."""
    from ..errors import DatabaseVersionError, KiliInputError
    from ..server import SQLiteStore
    from ..server.store import open_store
    from ..server.store.db import sqlite_path

    try:
        file = sqlite_path(db)
    except KiliInputError as exc:
        fail(USAGE, str(exc))
    if file is None:
        with tempfile.TemporaryDirectory() as nowhere:  # accounts touch no upload
            try:
                store = open_store(db, nowhere)
            except (DatabaseVersionError, KiliInputError) as exc:
                fail(USAGE, str(exc))
            try:
                yield store
            finally:
                store.close()
        return
    path = Path(file)
    if not path.is_file():
        fail(
            USAGE,
            f"No local server database at {path}.",
            "Give the file `aiokili server --db FILE` uses (--db); an in-memory server has none.",
        )
    try:
        store = SQLiteStore(str(path))
    except DatabaseVersionError as exc:
        fail(USAGE, str(exc))
    try:
        yield store
    finally:
        store.close()


def on_database(path: str, work: Callable[[Store], T]) -> T:
    """``work(store)``; a refusal of the server (a taken email...) exits with its message."""
    from ..server.errors import ServerError

    with database(path) as store:
        try:
            return work(store)
        except ServerError as exc:
            fail(NOT_FOUND if exc.code == "NOT_FOUND" else USAGE, str(exc))


def show(ctx: typer.Context, account: Account, what: str, as_json: bool) -> None:
    """The new key, once (``--json``: with the account's ids)."""
    if as_json:
        emit_json(
            {
                "userId": account.user_id,
                "email": account.email,
                "organizationId": account.organization_id,
                "organizationRole": account.organization_role,
                "apiKey": account.api_key,
            }
        )
        return
    quiet = settings(ctx).quiet
    console = out()
    if not quiet:
        console.print(what, markup=False)
    console.print(f"API key: {account.api_key}", markup=False)
    if not quiet:
        console.print("Shown once: the server keeps only its hash.", markup=False)
