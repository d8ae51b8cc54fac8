"""Schema versions: a new database gets the newest revision, a file of an earlier aiokili is
completed and stamped with its rows kept, a second start changes nothing, a file of a newer
aiokili is refused naming the fix, and every table the repositories query is in the
revisions."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from aiokili.cli import _app
from aiokili.errors import DatabaseVersionError
from aiokili.server import SQLiteStore
from aiokili.server.store import migrations
from aiokili.server.store.users import hash_key

SERVER = Path(migrations.__file__).parents[2]
_AFFINITY = {"FLOAT": "REAL"}  # how SQLAlchemy and the earlier DDL spelled REAL columns

# The layout an earlier aiokili left, as its DDL strings made it: API keys in clear, users,
# projects, assets, steps, files and notifications without the columns added since, the old
# external id index, and no table for members, workflow, marks, plugins or label updates.
OLDER_FILE = """
CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT, created_at TEXT);
CREATE TABLE users (
  id TEXT PRIMARY KEY, email TEXT UNIQUE, firstname TEXT, lastname TEXT,
  organization_id TEXT, created_at TEXT);
CREATE TABLE api_keys (key TEXT PRIMARY KEY, id TEXT, name TEXT, user_id TEXT, created_at TEXT);
CREATE TABLE projects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, title TEXT, description TEXT,
  input_type TEXT, json_interface TEXT, author_id TEXT, archived INTEGER DEFAULT 0,
  props TEXT DEFAULT '{}', created_at TEXT, updated_at TEXT);
CREATE TABLE assets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, project_id TEXT, external_id TEXT,
  content TEXT, json_content TEXT, json_metadata TEXT, status TEXT, is_honeypot INTEGER,
  created_at TEXT, updated_at TEXT);
CREATE INDEX assets_project ON assets (project_id, seq);
CREATE INDEX assets_external ON assets (project_id, external_id);
CREATE TABLE notifications (id TEXT PRIMARY KEY, status TEXT, created_at TEXT);
CREATE TABLE labels (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, project_id TEXT, asset_id TEXT,
  author_id TEXT, label_type TEXT, json_response TEXT, model_name TEXT,
  seconds_to_label REAL, created_at TEXT, updated_at TEXT);
CREATE TABLE files (key TEXT PRIMARY KEY, content_type TEXT, size INTEGER, created_at TEXT);
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE project_steps (
  id TEXT PRIMARY KEY, project_id TEXT, name TEXT, type TEXT, position INTEGER) WITHOUT ROWID;

INSERT INTO organizations VALUES ('org1', 'Acme', '2024-01-01T00:00:00.000Z');
INSERT INTO users VALUES ('u1', 'ann@acme.test', 'Ann', 'Lee', 'org1', '2024-01-01T00:00:00.000Z');
INSERT INTO api_keys VALUES ('clear-key-1', 'k1', 'ci', 'u1', '2024-01-02T00:00:00.000Z');
INSERT INTO projects (id, title, input_type, json_interface, author_id, created_at, updated_at)
  VALUES ('p1', 'Cats', 'IMAGE', '{"jobs": {}}', 'u1', '2024-01-03T00:00:00.000Z',
          '2024-01-03T00:00:00.000Z');
INSERT INTO assets (id, project_id, external_id, content, status, created_at, updated_at)
  VALUES ('a1', 'p1', 'cat.jpg', 'https://x.test/cat.jpg', 'TODO',
          '2024-01-04T00:00:00.000Z', '2024-01-04T00:00:00.000Z');
INSERT INTO labels (id, project_id, asset_id, author_id, label_type, json_response, created_at,
  updated_at) VALUES ('l1', 'p1', 'a1', 'u1', 'DEFAULT', '{}', '2024-01-05T00:00:00.000Z',
  '2024-01-05T00:00:00.000Z');
INSERT INTO files VALUES ('f1', 'image/png', 3, '2024-01-06T00:00:00.000Z');
INSERT INTO notifications VALUES ('n1', 'SUCCESS', '2024-01-07T00:00:00.000Z');
INSERT INTO project_steps VALUES ('s1', 'p1', 'Labeling', 'DEFAULT', 0);
INSERT INTO project_steps VALUES ('s2', 'p1', 'Review', 'REVIEW', 1);
"""


def _schema(path: Path) -> dict[str, object]:
    """Each table's columns (name, type affinity, default, primary key) and each index's
    columns."""
    with closing(sqlite3.connect(path)) as c:
        found: dict[str, object] = {}
        for kind, name in c.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall():
            if kind == "table":
                found[f"table {name}"] = [
                    (column, _AFFINITY.get(declared, declared), default, pk)
                    for _, column, declared, _, default, pk in c.execute(
                        f"PRAGMA table_info({name})"
                    )
                ]
            else:
                found[f"{kind} {name}"] = [r[2] for r in c.execute(f"PRAGMA index_info({name})")]
        return found


def _revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as c:
        return migrations.stored_revision(c)


def _open(path: Path) -> None:
    SQLiteStore(str(path)).close()


@pytest.fixture
def fresh_schema(tmp_path: Path) -> dict[str, object]:
    """The schema the revisions make on a new database (Alembic run, not head.sql)."""
    path = tmp_path / "fresh.sqlite3"
    migrations._run_revisions(str(path), None)
    return _schema(path)


def _no_alembic(path: str, stored: str | None) -> None:
    raise AssertionError("Alembic ran")


def test_head_is_the_newest_revision_of_the_folder() -> None:
    """A new revision without HEAD bumped would never run on a stamped database."""
    assert ScriptDirectory.from_config(migrations.config()).get_heads() == [migrations.HEAD]


def test_a_new_database_gets_every_table_and_the_newest_revision(
    tmp_path: Path, fresh_schema: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kili.sqlite3"
    monkeypatch.setattr(migrations, "_run_revisions", _no_alembic)  # head.sql: as cheap as before
    store = SQLiteStore(str(path))
    try:
        key = store.ensure_api_key(None)
        assert store.users.user_id_for_key(key) is not None
    finally:
        store.close()
    assert _revision(path) == migrations.HEAD
    assert _schema(path) == fresh_schema  # head.sql makes what the revisions make
    assert "trigger label_updates_record" in fresh_schema


def test_head_sql_is_what_the_revisions_make(tmp_path: Path) -> None:
    """Regenerate it with ``python -m aiokili.server.store.migrations`` when this fails."""
    path = tmp_path / "fresh.sqlite3"
    migrations._run_revisions(str(path), None)
    made = migrations.snapshot_text(migrations.schema_statements(str(path)))
    assert migrations.SNAPSHOT.read_text() == made, "head.sql is stale: regenerate it"
    assert migrations._snapshot() == migrations.schema_statements(str(path))


def test_without_head_sql_of_the_newest_revision_alembic_makes_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_schema: dict[str, object]
) -> None:
    head = migrations.HEAD
    monkeypatch.setattr(migrations, "HEAD", "0000")  # head.sql is of another revision
    path = tmp_path / "kili.sqlite3"
    migrations.upgrade(str(path))
    assert _revision(path) == head and _schema(path) == fresh_schema


def test_an_older_file_is_completed_and_stamped_with_its_rows_kept(
    tmp_path: Path, fresh_schema: dict[str, object]
) -> None:
    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as c:
        c.executescript(OLDER_FILE)
    store = SQLiteStore(str(path))
    try:
        assert store.users.user_id_for_key("clear-key-1") == "u1"  # the key still works
        user = store.users.get("u1")
        assert (user.email, user.organization_role, user.activated) == ("ann@acme.test", "ADMIN", 1)
        with store.db.read() as c:
            assert c.execute("SELECT key_hash FROM api_keys").fetchall() == [
                (hash_key("clear-key-1"),)
            ]
            assert c.execute("SELECT organization_id FROM projects").fetchall() == [("org1",)]
            assert c.execute("SELECT user_id, role FROM project_users").fetchall() == [
                ("u1", "ADMIN")
            ]
            assert c.execute("SELECT id, skipped, priority FROM assets").fetchall() == [
                ("a1", 0, 0)
            ]
            assert c.execute(
                "SELECT id, step_coverage FROM project_steps ORDER BY position"
            ).fetchall() == [("s1", None), ("s2", 0)]
            assert c.execute("SELECT key, organization_id FROM files").fetchall() == [("f1", None)]
            assert c.execute("SELECT id FROM labels").fetchall() == [("l1",)]
        with store.db.write() as c:  # the label update trigger is there: updates are recorded
            c.execute("UPDATE labels SET updated_at = '2025-01-01T00:00:00.000Z'")
        with store.db.read() as c:
            assert c.execute("SELECT label_id FROM label_changes").fetchall() == [("l1",)]
    finally:
        store.close()
    assert _revision(path) == migrations.HEAD
    schema = _schema(path)
    assert "index assets_external" not in schema  # replaced by the unique assets_external_id
    assert {k: sorted(v) if isinstance(v, list) else v for k, v in schema.items()} == {
        k: sorted(v) if isinstance(v, list) else v for k, v in fresh_schema.items()
    }  # the same tables, columns and indexes as a new database (columns added at the end)


def test_a_file_of_revision_0001_gets_run_keys_with_its_rows_kept(
    tmp_path: Path, fresh_schema: dict[str, object]
) -> None:
    path = tmp_path / "r0001.sqlite3"
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)), poolclass=sa.NullPool)
    cfg = migrations.config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    engine.dispose()
    assert _revision(path) == "0001" and "table run_keys" not in _schema(path)
    store = SQLiteStore(str(path))
    try:
        key = store.ensure_api_key(None)
        user_id = store.users.user_id_for_key(key)
        assert user_id is not None
        assert store.users.key_owner(hash_key(store.users.grant_run_key(user_id, 60))) == (
            user_id,
            True,
        )
    finally:
        store.close()
    store = SQLiteStore(str(path))  # a second start: the key kept
    try:
        assert store.users.user_id_for_key(key) == user_id
    finally:
        store.close()
    assert _revision(path) == migrations.HEAD and _schema(path) == fresh_schema


def test_an_upgrade_that_fails_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """One transaction for the whole upgrade: here the unique external id index cannot be
    made (two assets of a project share one), after columns were added and keys hashed."""
    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as c:
        c.executescript(OLDER_FILE)
        c.execute("INSERT INTO assets (id, project_id, external_id) VALUES ('a2', 'p1', 'cat.jpg')")
        c.commit()
    before = _schema(path)
    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        SQLiteStore(str(path))
    assert _schema(path) == before and _revision(path) is None
    with closing(sqlite3.connect(path)) as c:
        assert c.execute("SELECT key FROM api_keys").fetchall() == [("clear-key-1",)]


def test_a_second_start_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kili.sqlite3"
    store = SQLiteStore(str(path))
    key = store.ensure_api_key(None)
    store.close()
    before = _schema(path)
    monkeypatch.setattr(migrations, "_run_revisions", _no_alembic)
    store = SQLiteStore(str(path))
    try:
        assert store.users.user_id_for_key(key) is not None
    finally:
        store.close()
    assert _schema(path) == before
    assert _revision(path) == migrations.HEAD


def _stamp_newer(path: Path) -> None:
    _open(path)
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("UPDATE alembic_version SET version_num = 'f00dcafe'")


def test_a_file_of_a_newer_aiokili_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    _stamp_newer(path)
    before = _schema(path)
    with pytest.raises(DatabaseVersionError) as refused:
        SQLiteStore(str(path))
    message = str(refused.value)
    assert str(path) in message and "'f00dcafe'" in message
    assert "Upgrade aiokili (pip install -U 'aiokili[server]')" in message
    assert _revision(path) == "f00dcafe" and _schema(path) == before  # left as it was


def test_the_cli_refuses_a_newer_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    _stamp_newer(path)
    result = CliRunner().invoke(_app(), ["server", "--port", "0", "--db", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: The database {path} has schema revision")
    assert "Traceback" not in result.output
    result = CliRunner().invoke(_app(), ["users", "key", "--email", "a@b.c", "--db", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Upgrade aiokili" in " ".join(result.output.split())


def test_every_table_the_server_queries_is_made_by_the_revisions(
    fresh_schema: dict[str, object],
) -> None:
    """A table a repository reads or writes but no revision creates fails here (and every
    table the revisions create is used)."""
    used: set[str] = set()
    for source in SERVER.rglob("*.py"):
        if "migrations" not in source.relative_to(SERVER).parts:
            text = source.read_text()
            used |= set(re.findall(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z_]\w*)", text))
    made = {name.split()[1] for name in fresh_schema if name.startswith("table ")}
    assert used - {"json_each", "sqlite_master", "sqlite_sequence", "table"} <= made, (
        "tables no revision makes"
    )
    assert made - used == {"alembic_version"}
