"""``aiokili users create|key``: users of the local server and their API keys, made on the
server's database (the key is printed once: the server keeps only its hash)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._accounts import DEFAULT_DB, Database, on_database, show
from ._common import USAGE, Json, command_group, fail

app = command_group("Users of the local server and their API keys (on its database).")

Email = Annotated[str, typer.Option("--email", show_default=False, help="The user's email.")]


@app.command()
def create(
    ctx: typer.Context,
    email: Email,
    role: Annotated[
        str, typer.Option("--role", help="Organization role: USER or ADMIN.", case_sensitive=False)
    ] = "USER",
    organization: Annotated[
        str | None,
        typer.Option(
            "--organization",
            "--org",
            show_default=False,
            help="Organization id (default: the server's first organization).",
        ),
    ] = None,
    firstname: Annotated[str | None, typer.Option(show_default=False)] = None,
    lastname: Annotated[str | None, typer.Option(show_default=False)] = None,
    db: Database = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Create a user and print an API key of theirs (once)."""
    from ..server import accounts

    if role.upper() not in ("USER", "ADMIN"):
        fail(
            USAGE,
            f"--role must be USER or ADMIN (an organization role), got {role!r}.",
            "Project roles (LABELER, REVIEWER...) are given in a project: "
            "kili.append_to_roles(project_id, email, role).",
        )
    account = on_database(
        db,
        lambda store: accounts.add_user(
            store,
            email,
            role.upper(),
            organization_id=organization,
            firstname=firstname,
            lastname=lastname,
        ),
    )
    what = (
        f"Created user {account.email} ({account.organization_role}) in organization "
        f"{account.organization_id}."
    )
    show(ctx, account, what, as_json)


@app.command()
def key(ctx: typer.Context, email: Email, db: Database = DEFAULT_DB, as_json: Json = False) -> None:
    """Make another API key of a user and print it (once); the user's other keys still work."""
    from ..server import accounts

    account = on_database(db, lambda store: accounts.add_key(store, email))
    show(ctx, account, f"New API key of {account.email}.", as_json)
