"""``aiokili users`` and ``aiokili orgs``: accounts made on the local server's database, each
new key printed once and working at once, on the running server too."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from aiokili.cli import _app
from aiokili.server import LocalServer


def run(*args: str) -> Result:
    return CliRunner().invoke(_app(), list(args))


def viewer(server: LocalServer, key: str) -> httpx.Response:
    return httpx.post(
        server.url,
        json={"query": "{ viewer { email organizationId organizationRole } }"},
        headers={"Authorization": f"X-API-Key: {key}"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, or a PostgreSQL database (the CLI takes its URL as --db too)."""
    if request.param == "sqlite":
        return str(tmp_path / "kili.sqlite3")
    return str(request.getfixturevalue("postgres_database"))


def test_a_user_and_an_organization_made_on_a_running_servers_database(
    server_db: str, tmp_path: Path
) -> None:
    db = server_db
    with LocalServer(db=db, files_dir=str(tmp_path / "files")) as server:
        made = run("users", "create", "--email", "Lea@Example.com", "--db", db)
        assert made.exit_code == 0, made.output
        first, key_line, note = made.stdout.splitlines()
        assert first.startswith("Created user lea@example.com (USER) in organization ")
        assert note == "Shown once: the server keeps only its hash."
        key = key_line.removeprefix("API key: ")
        me = viewer(server, key).json()["data"]["viewer"]
        assert (me["email"], me["organizationRole"]) == ("lea@example.com", "USER")

        other = run("orgs", "create", "Acme", "--admin-email", "boss@acme.example",
                    "--db", db, "--json")  # fmt: skip
        assert other.exit_code == 0, other.output
        account = json.loads(other.stdout)
        assert account["email"] == "boss@acme.example" and account["organizationRole"] == "ADMIN"
        boss = viewer(server, account["apiKey"]).json()["data"]["viewer"]
        assert boss["organizationId"] == account["organizationId"] != me["organizationId"]

        second = run("-q", "users", "key", "--email", "lea@example.com", "--db", db)
        assert second.exit_code == 0 and second.stdout.startswith("API key: ")
        assert viewer(server, second.stdout.split(": ")[1].strip()).status_code == 200
        assert viewer(server, key).status_code == 200  # the first key still works

        listed = run("orgs", "list", "--db", db, "--json")
        assert [(o["name"], o["users"]) for o in json.loads(listed.stdout)] == [
            ("aiokili", 2), ("Acme", 1),
        ]  # fmt: skip


def test_mistakes_are_one_line_with_their_exit_code(tmp_path: Path) -> None:
    db = str(tmp_path / "kili.sqlite3")
    missing = run("users", "create", "--email", "a@b.c", "--db", db)
    assert missing.exit_code == 2 and "No local server database at" in missing.output
    assert not Path(db).exists()  # nothing made where no server was
    with LocalServer(db=db):
        pass
    role = run("users", "create", "--email", "a@b.c", "--role", "LABELER", "--db", db)
    assert role.exit_code == 2 and "--role must be USER or ADMIN" in role.output
    assert "append_to_roles" in role.output
    assert run("users", "create", "--email", "a@b.c", "--db", db).exit_code == 0
    taken = run("users", "create", "--email", "A@b.c", "--db", db)
    assert taken.exit_code == 2 and 'A user with the email "a@b.c" already exists' in taken.output
    nobody = run("users", "key", "--email", "nobody@b.c", "--db", db)
    assert nobody.exit_code == 4 and 'No user "nobody@b.c"' in nobody.output
    bad = run("users", "create", "--email", "not-an-email", "--db", db)
    assert bad.exit_code == 2 and "is not an email address" in bad.output
