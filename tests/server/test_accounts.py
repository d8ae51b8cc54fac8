"""Accounts on the server side, and database files of an older aiokili: their clear-text keys
become hashes that still work, their projects their author's organization and member."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from aiokili.server import LocalServer

OLD_SCHEMA = """
CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT, created_at TEXT);
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT UNIQUE, firstname TEXT, lastname TEXT,
  organization_id TEXT, created_at TEXT);
CREATE TABLE api_keys (key TEXT PRIMARY KEY, id TEXT, name TEXT, user_id TEXT, created_at TEXT);
CREATE TABLE projects (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, title TEXT,
  description TEXT, input_type TEXT, json_interface TEXT, author_id TEXT,
  archived INTEGER DEFAULT 0, props TEXT DEFAULT '{}', created_at TEXT, updated_at TEXT);
INSERT INTO organizations VALUES ('o1', 'aiokili', '2024-01-01T00:00:00.000Z');
INSERT INTO users VALUES ('u1', 'admin@aiokili.local', 'Ada', 'Admin', 'o1',
  '2024-01-01T00:00:00.000Z');
INSERT INTO api_keys VALUES ('old-clear-text-key', 'k1', 'development key', 'u1',
  '2024-01-01T00:00:00.000Z');
INSERT INTO projects (id, title, description, input_type, json_interface, author_id,
  created_at, updated_at) VALUES ('p1', 'kept', '', 'TEXT', '{}', 'u1',
  '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z');
"""


def gql(server: LocalServer, key: str, query: str) -> dict[str, object]:
    headers = {"Authorization": f"X-API-Key: {key}"}
    body: dict[str, object] = httpx.post(server.url, json={"query": query}, headers=headers).json()
    return body


def test_an_older_database_file_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as c:
        c.executescript(OLD_SCHEMA)
    with LocalServer(db=str(db), api_key="old-clear-text-key") as server:
        query = "{ projects(where: {}) { id roles { role user { email } } } viewer { organizationRole } }"
        body = gql(server, "old-clear-text-key", query)
        assert body == {"data": {
            "projects": [{"id": "p1", "roles": [{"role": "ADMIN", "user": {"email": "admin@aiokili.local"}}]}],
            "viewer": {"organizationRole": "ADMIN"},
        }}  # fmt: skip
    with sqlite3.connect(db) as c:
        assert "key" not in {r[1] for r in c.execute("PRAGMA table_info(api_keys)")}
        assert c.execute("SELECT organization_id FROM projects").fetchall() == [("o1",)]
    assert b"old-clear-text-key" not in db.read_bytes()


def test_server_side_accounts(tmp_path: Path) -> None:
    with LocalServer() as server:
        lea = server.create_user("lea@example.com", firstname="Lea", password="pass-word-1")
        assert "api_key" not in repr(lea)  # a secret: not in reprs
        acme = server.create_organization("Acme", "boss@acme.example")
        again = server.create_api_key("lea@example.com")
        for key, org in ((lea.api_key, lea.organization_id), (again, lea.organization_id),
                         (acme.api_key, acme.organization_id)):  # fmt: skip
            body = gql(server, key, "{ viewer { organizationId } }")
            assert body == {"data": {"viewer": {"organizationId": org}}}
        assert lea.organization_id != acme.organization_id


def test_me_answers_as_viewer() -> None:
    with LocalServer() as server:
        body = gql(server, server.api_key, "{ me { id email } viewer { id email } }")
        data = body["data"]
        assert isinstance(data, dict) and data["me"] == data["viewer"]
        assert data["me"]["email"] == "admin@aiokili.local"
