"""Two servers over one PostgreSQL database, as two workers of ``aiokili server`` are: what
one process keeps in memory (users and their keys, anonymized projects, page boundaries)
follows what the other writes, from the next request on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.errors import AuthenticationError
from aiokili.server import LocalServer
from aiokili.server.plugin_runtime.service import SERVICE_LOCK
from aiokili.server.store import open_store

pytestmark = pytest.mark.anyio
KEY = "shared-admin-key-0123456789"


@pytest.fixture
def servers(postgres_database: str, tmp_path: Path) -> Iterator[tuple[LocalServer, LocalServer]]:
    """Two servers on one database and one uploads folder, each with its own store."""
    stores = [open_store(postgres_database, tmp_path / "files") for _ in range(2)]
    for store in stores:
        store.shared = True
    with (
        LocalServer(store=stores[0], api_key=KEY) as a,
        LocalServer(store=stores[1], api_key=KEY) as b,
    ):
        yield a, b
    for store in stores:
        store.close()


def _client(server: LocalServer, key: str = KEY) -> aiokili.AsyncKili:
    return aiokili.AsyncKili(api_key=key, api_endpoint=server.url)


async def test_a_user_deactivated_through_one_is_refused_by_the_other(
    servers: tuple[LocalServer, LocalServer],
) -> None:
    a, b = servers
    user = a.create_user("ann@example.com", "USER")
    async with _client(b, user.api_key) as ann_on_b, _client(a) as admin_on_a:
        assert (await ann_on_b.get_current_user()).email == "ann@example.com"  # now cached
        await admin_on_a.update_properties_in_user("ann@example.com", activated=False)
        with pytest.raises(AuthenticationError):
            await ann_on_b.get_current_user()


async def test_anonymization_and_pages_follow_the_other_server(
    servers: tuple[LocalServer, LocalServer],
) -> None:
    a, b = servers
    async with _client(a) as on_a, _client(b) as on_b:
        project_id = await new_project(on_a)
        ids = await import_images(on_a, project_id, 6)
        await on_a.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 6)
        labels = [lb.id for lb in await on_b.labels(project_id)]
        assert [lb.id for lb in await on_b.labels(project_id, skip=2, first=2)] == labels[2:4]
        assert (await on_b.labels(project_id, fields=["author.email"]))[0].author.email
        await on_a.update_project_anonymization(project_id, should_anonymize=True)
        await on_a.delete_many_from_dataset(asset_ids=ids[:1])  # and its label
        assert [lb.id for lb in await on_b.labels(project_id, skip=2, first=2)] == labels[3:5]
        [first] = await on_b.labels(project_id, first=1, fields=["author.firstname"])
        assert first.author.firstname == "Anonymized"


def test_one_process_leads_even_when_the_leaders_connection_is_lost(
    postgres_database: str, tmp_path: Path
) -> None:
    """The plugin service's lock: one holder; when its connection is lost (PostgreSQL
    restarted, or the backend killed), the holder finds out and the other process leads."""
    import psycopg

    a, b = (open_store(postgres_database, tmp_path / "files") for _ in range(2))
    try:
        assert a.db.lead(SERVICE_LOCK) and not b.db.lead(SERVICE_LOCK)
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            (killed,) = admin.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND database = (SELECT oid FROM pg_database WHERE datname = "
                "current_database())"
            ).fetchone()
        assert killed
        assert b.db.lead(SERVICE_LOCK)  # free: the other takes it
        assert not a.db.lead(SERVICE_LOCK)  # the former holder knows it lost it
        assert b.db.lead(SERVICE_LOCK)
    finally:
        a.close()
        b.close()
