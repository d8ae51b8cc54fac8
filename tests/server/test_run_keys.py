"""A plugin run's key is accepted by every server process on the database, not only by the
one that granted it: two stores opened on one database (the suite's store: SQLite, or
PostgreSQL under ``AIOKILI_TEST_STORE=postgresql``) stand for two worker processes. A key
revoked through one is refused by both, even after each accepted it; an expired key is
refused; the key itself is never stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import aiokili
from aiokili.errors import AuthenticationError
from aiokili.server import LocalServer, runner
from aiokili.server.auth import Authenticator
from aiokili.server.plugin_runtime.identity import MARGIN_S, Identities, email_of
from aiokili.server.store import DatabaseStore, Store, open_store
from aiokili.server.store.plugins import PluginRow

pytestmark = pytest.mark.anyio

Workers = tuple[tuple[DatabaseStore, Authenticator], tuple[DatabaseStore, Authenticator]]


@pytest.fixture
def workers() -> Iterator[Workers]:
    """Two stores on one new database, each with the authenticator a server puts on it."""
    first = runner.open_store()  # the suite's store: a new database of its own
    second = open_store(first.db.path or first.db.url, first.db.files_dir)
    try:
        yield (first, Authenticator(first)), (second, Authenticator(second))
    finally:
        second.close()
        first.close()


def _plugin_user(store: Store) -> str:
    organization = store.users.create_organization("plugins")
    return store.users.create_user(organization.id, "plugin-p1@plugins.aiokili.local").id


async def _accepted(auth: Authenticator, key: str) -> str | None:
    user = await auth.user_for_key(key)
    return None if user is None else user.id


async def test_a_run_key_granted_by_one_process_is_accepted_by_another(
    workers: Workers,
) -> None:
    (first, first_auth), (_, second_auth) = workers
    user_id = _plugin_user(first)
    key = first.users.grant_run_key(user_id, 60)
    assert await _accepted(second_auth, key) == user_id
    assert await _accepted(first_auth, key) == user_id
    assert await _accepted(second_auth, key + "x") is None


async def test_a_revoked_run_key_is_refused_by_every_process_that_accepted_it(
    workers: Workers,
) -> None:
    (first, first_auth), (second, second_auth) = workers
    user_id = _plugin_user(first)
    key = first.users.grant_run_key(user_id, 60)
    other = second.users.grant_run_key(user_id, 60)  # another run, going on
    for auth in (first_auth, second_auth):
        assert await _accepted(auth, key) == user_id
    first.users.revoke_run_key(key)
    for auth in (first_auth, second_auth):
        assert await _accepted(auth, key) is None
        assert await _accepted(auth, other) == user_id
    second.users.revoke_run_key(other)  # revoked by the other process this time
    for auth in (first_auth, second_auth):
        assert await _accepted(auth, other) is None


async def test_a_run_key_expires_on_its_own_and_its_row_goes_later(workers: Workers) -> None:
    """A process that died never revokes its runs' keys: they expire."""
    (first, first_auth), (second, second_auth) = workers
    clock = [1_000_000.0]
    for store in (first, second):
        store.users.clock = lambda: clock[0]
    user_id = _plugin_user(first)
    key = first.users.grant_run_key(user_id, 10)
    clock[0] += 9.5
    assert await _accepted(second_auth, key) == user_id
    assert [k.name for k in second.users.api_keys(user_id)] == ["plugin run"]
    clock[0] += 0.5
    for auth in (first_auth, second_auth):
        assert await _accepted(auth, key) is None
    assert second.users.api_keys(user_id) == []
    with first.db.read() as c:
        assert c.execute("SELECT count(*) FROM run_keys").fetchone()[0] == 1
    fresh = second.users.grant_run_key(user_id, 10)  # granting removes the expired rows
    with first.db.read() as c:
        assert c.execute("SELECT count(*) FROM run_keys").fetchone()[0] == 1
    assert await _accepted(first_auth, fresh) == user_id


async def test_a_run_key_is_listed_to_its_user_only_while_the_run_lasts(
    workers: Workers,
) -> None:
    (first, _), (second, _) = workers
    admin_key = first.ensure_api_key(None)
    admin_id = first.users.user_id_for_key(admin_key)
    assert admin_id is not None
    user_id = _plugin_user(first)
    key = first.users.grant_run_key(user_id, 60)
    listed = second.users.api_keys(user_id)
    assert [(k.name, k.user_id, k.revoked) for k in listed] == [("plugin run", user_id, False)]
    assert [k.id for k in second.users.api_keys(user_id, key)] == [listed[0].id]
    assert second.users.api_keys(user_id, admin_key) == []
    assert [k.name for k in second.users.api_keys(admin_id)] == ["development key"]
    second.users.revoke_run_key(key)
    assert first.users.api_keys(user_id) == []


async def test_a_run_key_is_stored_as_its_hash_only(workers: Workers) -> None:
    (first, _), _ = workers
    key = first.users.grant_run_key(_plugin_user(first), 60)
    with first.db.read() as c:
        rows = c.execute("SELECT * FROM run_keys").fetchall()
    assert len(rows) == 1 and not any(key in str(value) for value in rows[0])


async def test_a_second_server_on_the_database_serves_a_run_until_its_key_is_revoked() -> None:
    """What a run sees when its calls reach another worker: answers, then 401 once over."""
    with LocalServer() as first:
        db = first.store.db
        with LocalServer(db=db.path or db.url, files_dir=str(db.files_dir)) as second:
            user_id = _plugin_user(first.store)
            key = first.store.users.grant_run_key(user_id, 60)
            async with aiokili.AsyncKili(api_key=key, api_endpoint=second.url) as run:
                assert (await run.get_current_user()).id == user_id
                first.store.users.revoke_run_key(key)
                with pytest.raises(AuthenticationError):
                    await run.get_current_user()


async def test_a_runs_key_lasts_its_time_limit_and_a_margin(workers: Workers) -> None:
    """The key of a run that was never revoked (its process died) outlives the run's time
    limit by ``MARGIN_S`` only."""
    (first, _), (second, second_auth) = workers
    clock = [1_000_000.0]
    for store in (first, second):
        store.users.clock = lambda: clock[0]
    organization = first.users.create_organization("plugins")
    plugin = PluginRow("p1", "rule.py", organization.id, "ACTIVE", [], [], None, 1, None, None,
                       "", "", [])  # fmt: skip
    key = await Identities(first).grant(plugin, 5)
    clock[0] += 5 + MARGIN_S - 0.1
    user = await second_auth.user_for_key(key)
    assert user is not None and user.email == email_of(plugin)
    clock[0] += 0.1
    assert await second_auth.user_for_key(key) is None
