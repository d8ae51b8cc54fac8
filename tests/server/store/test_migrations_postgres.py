"""The schema's revisions run on PostgreSQL too (a throwaway cluster, ``postgres_cluster.py``):
the same tables and columns as on SQLite, the label update trigger recording changes, and a
second run changing nothing. The first step of the PostgreSQL store (issue 17); skipped with
the reason when the machine has no PostgreSQL, never under ``.ci/run``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from aiokili.server import SQLiteStore
from aiokili.server.store import migrations


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    """A fresh database of the session's cluster, through SQLAlchemy's psycopg driver."""
    admin = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
    )
    name = f"revisions_{id(admin):x}"
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    made = sa.create_engine(url.set(database=name), poolclass=sa.NullPool)
    try:
        yield made
    finally:
        made.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


def _upgrade(engine: sa.Engine, to: str = "head") -> None:
    cfg = migrations.config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, to)


def _sqlite_columns(tmp_path: Path) -> dict[str, set[str]]:
    path = tmp_path / "kili.sqlite3"
    SQLiteStore(str(path)).close()
    with closing(sqlite3.connect(path)) as c:
        tables = [
            name
            for (name,) in c.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: {row[1] for row in c.execute(f"PRAGMA table_info({t})")} for t in tables}


def test_the_revisions_make_the_sqlite_schema_on_postgresql(
    engine: sa.Engine, tmp_path: Path
) -> None:
    _upgrade(engine)
    inspector = sa.inspect(engine)
    on_postgres = {
        t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
    }
    assert on_postgres == _sqlite_columns(tmp_path)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
            migrations.HEAD
        )


def test_the_label_update_trigger_records_each_change_on_postgresql(engine: sa.Engine) -> None:
    _upgrade(engine)
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO labels (id, project_id, asset_id, updated_at) "
            "VALUES ('l1', 'p1', 'a1', '2026-01-01T00:00:00.000Z')"
        )
        for stamp in (
            "2026-01-02T00:00:00.000Z",
            "2026-01-02T00:00:00.000Z",
            "2026-01-03T00:00:00.000Z",
        ):
            c.execute(sa.text("UPDATE labels SET updated_at = :t WHERE id = 'l1'"), {"t": stamp})
        c.exec_driver_sql("UPDATE labels SET json_response = '{}' WHERE id = 'l1'")
        updates = c.exec_driver_sql(
            "SELECT seq, label_id, project_id FROM label_updates ORDER BY seq"
        ).all()
        latest = c.exec_driver_sql("SELECT label_id, seq FROM label_changes").all()
    # the same updated_at twice and another column: no record; two real changes: two
    assert [(label, project) for _, label, project in updates] == [("l1", "p1"), ("l1", "p1")]
    assert latest == [("l1", updates[-1][0])]


def test_a_second_upgrade_on_postgresql_changes_nothing(engine: sa.Engine) -> None:
    _upgrade(engine)
    before = sa.inspect(engine).get_table_names()
    _upgrade(engine)
    engine.dispose()
    assert sorted(sa.inspect(engine).get_table_names()) == sorted(before)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_a_database_of_revision_0001_gets_run_keys_on_postgresql(engine: sa.Engine) -> None:
    _upgrade(engine, "0001")
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO api_keys (key_hash, id, user_id) VALUES ('h', 'k1', 'u1')")
    assert "run_keys" not in sa.inspect(engine).get_table_names()
    _upgrade(engine)
    engine.dispose()
    assert "run_keys" in sa.inspect(engine).get_table_names()
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT id FROM api_keys").all() == [("k1",)]
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
            migrations.HEAD
        )
