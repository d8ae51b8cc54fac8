"""``aiokili orgs create|list``: organizations of the local server, made on its database
(the new organization's first ADMIN gets an API key, printed once)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._accounts import DEFAULT_DB, Database, database, on_database, show
from ._common import Json, command_group, emit_json, out

app = command_group("Organizations of the local server (on its database).")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(show_default=False, help="The organization's name.")],
    admin_email: Annotated[
        str,
        typer.Option("--admin-email", show_default=False, help="Email of its first ADMIN."),
    ],
    db: Database = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Create an organization with its first ADMIN; print that admin's API key (once)."""
    from ..server import accounts

    account = on_database(db, lambda store: accounts.add_organization(store, name, admin_email))
    what = f"Created organization {account.organization_id} with its ADMIN {account.email}."
    show(ctx, account, what, as_json)


@app.command("list")
def list_(db: Database = DEFAULT_DB, as_json: Json = False) -> None:
    """The organizations, oldest first: id, name, number of users."""
    with database(db) as store, store.db.read() as c:
        rows = c.execute(
            "SELECT o.id, o.name, (SELECT COUNT(*) FROM users u WHERE u.organization_id = o.id) "
            "FROM organizations o ORDER BY o.created_at, o.id"
        ).fetchall()
    if as_json:
        emit_json([{"id": i, "name": n, "users": u} for i, n, u in rows])
        return
    for organization_id, name, users in rows:
        out().print(f"{organization_id}  {name}  (users: {users})", markup=False)
