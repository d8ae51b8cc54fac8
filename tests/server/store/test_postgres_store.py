"""The PostgreSQL store (issue 17): chosen by the URL, migrated at start by one of several
servers starting at once, the same answers as SQLite, and its own refusals as user errors.
The whole suite also runs on it (``AIOKILI_TEST_STORE=postgresql``, ``.ci/run``)."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from aiokili import AsyncKili
from aiokili.errors import DatabaseVersionError, GraphQLError, KiliInputError
from aiokili.server import LocalServer
from aiokili.server.store import open_store
from aiokili.server.store.postgres import redacted, translate

pytestmark = pytest.mark.anyio


@pytest.fixture
def database(postgres_database: str) -> str:
    return postgres_database


def test_sqlite_sql_is_translated_outside_literals_only() -> None:
    sql = "SELECT '?', ':x', '50%' FROM t WHERE a = ? AND b LIKE '%a' AND c = :name"
    assert translate(sql) == (
        "SELECT '?', ':x', '50%%' FROM t WHERE a = %s AND b LIKE '%%a' AND c = %(name)s"
    )
    assert translate("WHERE m IS ? AND n IS NOT ?") == (
        "WHERE m IS NOT DISTINCT FROM %s AND n IS DISTINCT FROM %s"
    )


def test_a_password_never_appears_in_messages() -> None:
    assert redacted("postgresql://kili:s3cret@db:5432/kili") == "postgresql://kili@db:5432/kili"
    assert redacted("postgresql://db/kili?sslmode=require&Password=s3cret&x=1") == (
        "postgresql://db/kili?sslmode=require&Password=***&x=1"
    )
    with pytest.raises(KiliInputError) as caught:
        open_store("postgresql://kili:s3cret@127.0.0.1:1/kili", "/tmp/never-made")
    assert "s3cret" not in str(caught.value)
    assert "postgresql://kili@127.0.0.1:1/kili" in str(caught.value)


def test_servers_starting_at_once_on_a_new_database_migrate_it_once(
    database: str, tmp_path: Path
) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(database, tmp_path).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(database) as c:
        assert c.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_a_database_of_a_newer_aiokili_is_refused_unchanged(database: str, tmp_path: Path) -> None:
    open_store(database, tmp_path).close()
    with psycopg.connect(database, autocommit=True) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseVersionError, match="'9999'"):
        open_store(database, tmp_path)
    with psycopg.connect(database) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone() == ("9999",)


async def test_the_same_answers_as_sqlite_and_nul_refused_as_a_user_error(
    database: str, tmp_path: Path
) -> None:
    interface = {"jobs": {"J": {"mlTask": "CLASSIFICATION", "required": 1, "isChild": False,
                                "content": {"input": "radio", "categories": {"A": {"name": "A"}}}}}}  # fmt: skip
    answers = []
    for db in (":memory:", database):
        with LocalServer(db=db, files_dir=str(tmp_path / "files")) as server:
            async with AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
                project = await kili.create_project(
                    input_type="TEXT", json_interface=interface, title="Cats"
                )
                await kili.append_many_to_dataset(
                    project_id=project.id,
                    content_array=["a", "b", "c"],
                    external_id_array=["x-1", "X-2", "y"],
                    json_metadata_array=[{"n": 1}, {"n": 2.5}, {"n": "1", 'k"q': True}],
                )
                found = [a.external_id for a in await kili.assets(project.id)]
                answers.append(
                    (
                        found,
                        await kili.count_assets(project.id, metadata_where={"n": 1}),
                        await kili.count_assets(project.id, metadata_where={"n": [2, 3]}),
                        await kili.count_assets(project.id, metadata_where={'k"q': True}),
                        await kili.count_assets(project.id, external_id_contains=["x"]),
                        await kili.count_projects(search_query="%AT%"),
                    )
                )
                if db == database:
                    with pytest.raises(GraphQLError, match="U\\+0000"):
                        await kili.append_many_to_dataset(
                            project_id=project.id, content_array=["d"], external_id_array=["a\x00"]
                        )
                    assert await kili.count_assets(project.id) == 3
    assert answers[0] == answers[1] == (["x-1", "X-2", "y"], 1, 1, 1, 1, 1)
