"""``label_created_or_updated`` against the real local server: typed events, several
subscribers, reconnection without loss nor repeats, clean closing, typed errors."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer
from aiokili.server.live import feed as feed_module
from aiokili.server.live.feed import LabelFeed, feed_cursor, parse_cursor, replay
from aiokili.server.store import SQLiteStore, open_store
from aiokili.server.store.labels import NewLabel

pytestmark = pytest.mark.anyio
TIMEOUT = 20


def subscribers(server: LocalServer, project_id: str) -> int:
    feed = LabelFeed.of(server.store)
    return len(feed._subscribers.get(project_id, ()))


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (the server's state, which has no event to wait on)."""
    with anyio.fail_after(TIMEOUT):
        while True:
            if condition():
                return
            await anyio.sleep(0.02)


async def collect(
    subscription: aiokili.LabelSubscription, count: int, into: list[aiokili.Label]
) -> None:
    async for label in subscription:
        into.append(label)
        if len(into) == count:
            return


async def receive(
    kili: aiokili.AsyncKili,
    server: LocalServer,
    project_id: str,
    count: int,
    action: Callable[[], Awaitable[Any]],
) -> list[aiokili.Label]:
    """Subscribe, run ``action`` once subscribed, return the first ``count`` labels."""
    got: list[aiokili.Label] = []
    with anyio.fail_after(TIMEOUT):
        async with kili.label_created_or_updated(project_id) as subscription:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(collect, subscription, count, got)
                await until(lambda: subscribers(server, project_id) >= 1, "subscribed")
                await action()
    return got


@pytest.fixture
async def other(local_server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    """Another client, writing while ``kili`` listens."""
    async with aiokili.AsyncKili(api_key=local_server.api_key, api_endpoint=local_server.url) as c:
        yield c


async def test_labels_appended_by_another_client_arrive_typed(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 3)
    appended: list[str] = []

    async def append() -> None:
        appended.extend(await other.append_labels(
            asset_id_array=assets, json_response_array=[answer("A"), answer("B"), answer("A")]))  # fmt: skip

    got = await receive(kili, local_server, project_id, 3, append)
    assert [label.id for label in got] == appended
    assert all(isinstance(label, aiokili.Label) for label in got)
    assert [label.json_response for label in got] == [answer("A"), answer("B"), answer("A")]
    assert [label.label_of.id for label in got if label.label_of] == assets
    assert {label.author.email for label in got if label.author} == {"admin@aiokili.local"}
    assert all(isinstance(label.updated_at, datetime) for label in got)
    await until(lambda: subscribers(local_server, project_id) == 0, "closed")


async def test_an_update_is_an_event_with_the_new_values(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 1)
    label_id = (
        await other.append_labels(asset_id_array=assets, json_response_array=[answer("A")])
    )[0]

    events: list[aiokili.Label] = []

    async def until_updated() -> None:
        async for label in subscription:  # the creation may come first (one poll before)
            events.append(label)
            if label.json_response == answer("B"):
                return

    with anyio.fail_after(TIMEOUT):
        async with kili.label_created_or_updated(project_id) as subscription:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(until_updated)
                await until(lambda: subscribers(local_server, project_id) == 1, "subscribed")
                await other.update_properties_in_label(label_id, json_response=answer("B"))
    assert events[-1].id == label_id
    assert events[-1].updated_at and events[0].updated_at
    assert len(events) == 1 or events[-1].updated_at > events[0].updated_at


async def test_several_subscribers_each_get_every_event_once(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 4)
    results: list[list[aiokili.Label]] = [[], [], []]
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tasks:
            subscriptions = [kili.label_created_or_updated(project_id) for _ in results]
            for subscription, into in zip(subscriptions, results, strict=True):
                tasks.start_soon(collect, subscription, 4, into)
            await until(lambda: subscribers(local_server, project_id) == 3, "subscribed")
            ids = await other.append_labels(
                asset_id_array=assets, json_response_array=[answer("A")] * 4
            )
        for subscription in subscriptions:
            await subscription.aclose()
    assert [[label.id for label in got] for got in results] == [ids] * 3
    await until(lambda: subscribers(local_server, project_id) == 0, "closed")


async def test_a_subscriber_dropped_for_lagging_resumes_without_loss_or_repeat(
    kili: aiokili.AsyncKili,
    other: aiokili.AsyncKili,
    local_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server closes the subscription of a subscriber that falls behind; aiokili
    subscribes again at once, replaying from the last label it got."""
    monkeypatch.setattr(feed_module, "BUFFER", 2)
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 10)
    ids: list[str] = []

    async def append() -> None:
        ids.extend(await other.append_labels(asset_id_array=assets,
                                             json_response_array=[answer("A")] * 10))  # fmt: skip

    got = await receive(kili, local_server, project_id, 10, append)
    assert sorted(label.id for label in got) == sorted(ids)  # none lost, none twice


def _write_labels_offline(db: str, project_id: str, assets: list[str]) -> list[str]:
    """Labels written while no server runs: only a replay can deliver them."""
    store = SQLiteStore(db)
    try:
        rows = store.labels.append(project_id, [
            NewLabel(a, store.users.user_for_key(store.ensure_api_key(None)).id,  # type: ignore[union-attr]
                     "DEFAULT", '{"JOB": {"categories": [{"name": "B"}]}}') for a in assets])  # fmt: skip
    finally:
        store.close()
    return [row.id for row in rows]


async def test_a_server_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "kili.sqlite3")
    server = LocalServer(db=db).start()
    port, key = server.port, server.api_key
    async with aiokili.AsyncKili(api_key=key, api_endpoint=server.url) as kili:
        project_id = await new_project(kili)
        assets = await import_images(kili, project_id, 6)
        got: list[aiokili.Label] = []
        subscription = kili.label_created_or_updated(project_id)
        expected: list[str] = []
        with anyio.fail_after(60):
            async with subscription, anyio.create_task_group() as tasks:
                tasks.start_soon(collect, subscription, 6, got)
                await until(lambda: subscribers(server, project_id) == 1, "subscribed")
                expected += await kili.append_labels(
                    asset_id_array=assets[:2], json_response_array=[answer("A")] * 2
                )
                await until(lambda: len(got) == 2, "first labels")
                await anyio.to_thread.run_sync(server.stop)  # the socket drops
                expected += await anyio.to_thread.run_sync(
                    _write_labels_offline, db, project_id, assets[2:4]
                )
                server = LocalServer(db=db, port=port).start()  # same port, same file
                expected += await kili.append_labels(
                    asset_id_array=assets[4:], json_response_array=[answer("A")] * 2
                )
        server.stop()
    assert sorted(label.id for label in got) == sorted(expected)
    assert len({label.id for label in got}) == 6  # nothing twice
    assert subscription.reconnections >= 1


@pytest.fixture
def shared_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """One database for several stores (server workers): a SQLite file, or under
    ``AIOKILI_TEST_STORE=postgresql`` a new database of the test cluster."""
    if os.environ.get("AIOKILI_TEST_STORE", "sqlite") != "postgresql":
        yield str(tmp_path / "shared.sqlite3")
        return
    import psycopg

    url: str = request.getfixturevalue("postgres_url")
    name = f"aiokili_workers_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{url.rsplit('/', 1)[0]}/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _events(subscriber: Any) -> list[tuple[str, str]]:
    """The (label id, answer) events a feed handed ``subscriber`` so far."""
    got = []
    while True:
        try:
            label = subscriber.receive.receive_nowait()[0]
        except anyio.WouldBlock:
            return got
        got.append((label.id, json.loads(label.json_response)["JOB"]["categories"][0]["name"]))


async def test_workers_sharing_a_database_each_deliver_every_update_once(
    shared_db: str, tmp_path: Path
) -> None:
    """Two more workers' feeds over the database a server writes: one's polls (idle or
    not) never take an update from the other's subscribers, and none comes twice."""
    stores = [open_store(shared_db, tmp_path / "files") for _ in range(3)]
    writer, feeds = stores[0], [LabelFeed(store) for store in stores[1:]]
    try:
        with LocalServer(store=writer) as server:
            async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
                project_id = await new_project(kili)
                assets = await import_images(kili, project_id, 3)
                ids = await kili.append_labels(assets, [answer("A")] * 3)

                async def update(index: int, category: str) -> None:
                    await kili.update_properties_in_label(
                        ids[index], json_response=answer(category)
                    )

                for feed in feeds:
                    await feed.tick()  # started: the labels above are before them
                one, other = feeds
                with one.subscribe(project_id) as first:
                    await update(0, "B")
                    await other.tick()  # idle: nobody listens to it
                    await one.tick()
                    assert _events(first) == [(ids[0], "B")]
                    with other.subscribe(project_id) as second:
                        await update(1, "B")
                        await one.tick()
                        await other.tick()
                        await update(2, "B")
                        await update(1, "A")
                        await update(1, "B")  # twice between two polls: one event, the last
                        await other.tick()
                        await one.tick()
                        await update(0, "A")
                        for feed in (one, other, one, other):  # the second round: nothing new
                            await feed.tick()
                        expected = [(ids[1], "B"), (ids[2], "B"), (ids[1], "B"), (ids[0], "A")]
                        assert _events(first) == expected
                        assert _events(second) == expected
    finally:
        for store in stores:
            store.close()


async def test_a_cursor_handed_out_after_another_workers_poll_replays_nothing_before_it(
    shared_db: str, tmp_path: Path
) -> None:
    """``connection_ack``'s cursor, read once another worker's feed has polled past some
    updates: a subscription resumed from it replays none of them, only what came after."""
    stores = [open_store(shared_db, tmp_path / "files") for _ in range(2)]
    try:
        with LocalServer(store=stores[0]) as server:
            async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
                project_id = await new_project(kili)
                ids = await kili.append_labels(
                    await import_images(kili, project_id, 2), [answer("A")] * 2
                )
                for label_id in ids:
                    await kili.update_properties_in_label(label_id, json_response=answer("B"))
                poller = LabelFeed(stores[1])
                await poller.tick()
                await poller.tick()
                after = parse_cursor(feed_cursor(stores[0]))
                assert replay(stores[0], project_id, "", after, ("", 0)) == []
                await kili.update_properties_in_label(ids[1], json_response=answer("A"))
                assert [row[0] for row in replay(stores[0], project_id, "", after, ("", 0))] == [
                    ids[1]
                ]
    finally:
        for store in stores:
            store.close()


async def test_a_lost_server_ends_with_api_connection_error(tmp_path: Path) -> None:
    server = LocalServer().start()
    async with aiokili.AsyncKili(
        api_key=server.api_key, api_endpoint=server.url, max_retries=1
    ) as kili:
        project_id = await new_project(kili)
        subscription = kili.label_created_or_updated(project_id)

        async def stop_once_subscribed() -> None:
            await until(lambda: subscribers(server, project_id) == 1, "subscribed")
            await anyio.to_thread.run_sync(server.stop)

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(stop_once_subscribed)
                with pytest.raises(aiokili.APIConnectionError) as caught:
                    async for _ in subscription:
                        pass
    assert project_id in str(caught.value) and "1 retries" in str(caught.value)


async def test_break_aclose_and_cancel_close_the_websocket(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 1)
    # break out of `async with`
    async with kili.label_created_or_updated(project_id) as subscription:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(collect, subscription, 1, [])
            await until(lambda: subscribers(local_server, project_id) == 1, "subscribed")
            await other.append_labels(asset_id_array=assets, json_response_array=[answer("A")])
    await until(lambda: subscribers(local_server, project_id) == 0, "closed after break")
    # cancel the task that iterates
    with anyio.move_on_after(0.5):
        async for _ in kili.label_created_or_updated(project_id):
            pass
    await until(lambda: subscribers(local_server, project_id) == 0, "closed after cancel")


async def test_callback_form_sync_and_async(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 2)
    calls: list[tuple[str, str]] = []
    async_calls: list[str] = []

    def on_label(subscription_id: str, label: aiokili.Label) -> None:
        calls.append((subscription_id, label.id))

    async def on_label_async(subscription_id: str, label: aiokili.Label) -> None:
        await anyio.lowlevel.checkpoint()
        async_calls.append(label.id)

    first = kili.label_created_or_updated(project_id, on_label)
    second = kili.label_created_or_updated(project_id, on_label_async)
    await until(lambda: subscribers(local_server, project_id) == 2, "subscribed")
    ids = await other.append_labels(asset_id_array=assets, json_response_array=[answer("A")] * 2)
    await until(lambda: len(calls) == 2 and len(async_calls) == 2, "callbacks")
    await first.aclose()
    await second.aclose()
    assert [label_id for _, label_id in calls] == ids == async_calls
    assert {subscription_id for subscription_id, _ in calls} == {first.subscription_id}
    await until(lambda: subscribers(local_server, project_id) == 0, "closed")


async def test_a_callback_that_raises_ends_its_subscription_with_that_error(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 1)

    def broken(subscription_id: str, label: aiokili.Label) -> None:
        raise RuntimeError(f"boom on {label.id}")

    subscription = kili.label_created_or_updated(project_id, broken)
    await until(lambda: subscribers(local_server, project_id) == 1, "subscribed")
    [label_id] = await other.append_labels(asset_id_array=assets, json_response_array=[answer("A")])
    with anyio.fail_after(TIMEOUT), pytest.raises(RuntimeError, match=f"boom on {label_id}"):
        await subscription.wait()
    await until(lambda: subscribers(local_server, project_id) == 0, "closed")


async def test_updated_at_gte_replays_then_follows(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 3)
    start = datetime.now(timezone.utc)
    before = await other.append_labels(
        asset_id_array=assets[:2], json_response_array=[answer("A")] * 2
    )
    got: list[aiokili.Label] = []
    with anyio.fail_after(TIMEOUT):
        async with kili.label_created_or_updated(project_id, updated_at_gte=start) as sub:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(collect, sub, 3, got)
                await until(lambda: len(got) == 2, "replayed")
                after = await other.append_labels(
                    asset_id_array=assets[2:], json_response_array=[answer("B")]
                )
    assert [label.id for label in got] == before + after


async def _listen(
    subscription: aiokili.LabelSubscription,
    server: LocalServer,
    project_id: str,
    write: Callable[[], Awaitable[list[str]]],
    last: Callable[[], Awaitable[str]],
) -> list[aiokili.Label]:
    """Subscribe; once subscribed, ``write`` (the ids it should bring); once they all came,
    ``last`` (one more label's id): return every label that came up to it. Polls are read
    in order, so a label that should not have come would be among them."""
    got: list[aiokili.Label] = []

    async def listen() -> None:
        async for label in subscription:
            got.append(label)

    def arrived(ids: Sequence[str]) -> bool:
        return set(ids) <= {label.id for label in got}

    with anyio.fail_after(TIMEOUT):
        async with subscription, anyio.create_task_group() as tasks:
            tasks.start_soon(listen)
            await until(lambda: subscribers(server, project_id) == 1, "subscribed")
            expected = await write()
            await until(lambda: arrived(expected), "the labels written")
            sentinel = await last()
            await until(lambda: arrived([sentinel]), "the last label")
            tasks.cancel_scope.cancel()
    return got


async def test_a_new_subscription_gets_only_what_is_written_after_it_starts(
    kili: aiokili.AsyncKili, other: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    """Labels appended (and updated) just before subscribing are not delivered, even those
    within a poll or the resume margin of the start."""
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 5)
    before = await other.append_labels(
        asset_id_array=assets[:2], json_response_array=[answer("A")] * 2
    )
    await other.update_properties_in_label(before[0], json_response=answer("B"))

    written: list[str] = []

    async def write() -> list[str]:
        written.extend(await other.append_labels(assets[2:4], [answer("A")] * 2))
        await other.update_properties_in_label(before[1], json_response=answer("B"))
        written.append(before[1])
        return written

    async def last() -> str:
        return (await other.append_labels(assets[4:], [answer("B")]))[0]

    got = await _listen(kili.label_created_or_updated(project_id), local_server, project_id,
                        write, last)  # fmt: skip
    ids = [label.id for label in got]
    assert sorted(ids[:3]) == sorted(written) and len(ids) == 4  # then the last one
    updated = next(label for label in got if label.id == before[1])
    assert updated.json_response == answer("B")  # an older label updated afterwards: its update


async def test_a_resumed_subscription_replays_nothing_from_before_it_started(
    kili: aiokili.AsyncKili,
    other: aiokili.AsyncKili,
    local_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dropped for lagging, the subscription resumes from the last label minus the margin:
    the labels written just before it started are within that margin, and stay out."""
    monkeypatch.setattr(feed_module, "BUFFER", 2)
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 13)
    before = await other.append_labels(
        asset_id_array=assets[:2], json_response_array=[answer("A")] * 2
    )

    async def write() -> list[str]:
        return await other.append_labels(assets[2:12], [answer("A")] * 10)

    async def last() -> str:
        return (await other.append_labels(assets[12:], [answer("B")]))[0]

    subscription = kili.label_created_or_updated(project_id)
    got = await _listen(subscription, local_server, project_id, write, last)
    assert subscription.reconnections >= 1  # it was dropped, and resumed
    ids = [label.id for label in got]
    assert not set(before) & set(ids)
    assert len(ids) == len(set(ids)) == 11  # the 10 written after it started, the last one


async def test_a_replay_asked_from_an_instant_never_goes_before_it_on_resuming(
    kili: aiokili.AsyncKili,
    other: aiokili.AsyncKili,
    local_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feed_module, "BUFFER", 2)
    project_id = await new_project(kili)
    assets = await import_images(kili, project_id, 14)
    early = await other.append_labels(assets[:1], [answer("A")])
    await anyio.sleep(0.01)  # times are stamped to the millisecond: not the early one's
    since = datetime.now(timezone.utc)
    wanted = await other.append_labels(assets[1:3], [answer("A")] * 2)

    async def write() -> list[str]:
        return [*wanted, *await other.append_labels(assets[3:13], [answer("A")] * 10)]

    async def last() -> str:
        return (await other.append_labels(assets[13:], [answer("B")]))[0]

    subscription = kili.label_created_or_updated(project_id, updated_at_gte=since)
    got = await _listen(subscription, local_server, project_id, write, last)
    assert subscription.reconnections >= 1
    ids = [label.id for label in got]
    assert early[0] not in ids
    assert len(ids) == len(set(ids)) == 13  # 2 replayed, 10 live, the last one


async def test_a_wrong_key_raises_authentication_error(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(api_key="wrong", api_endpoint=local_server.url) as kili:
        with anyio.fail_after(TIMEOUT), pytest.raises(aiokili.AuthenticationError) as caught:
            async for _ in kili.label_created_or_updated("any-project"):
                pass
    assert "API key" in str(caught.value)


async def test_an_unknown_project_raises_not_found(kili: aiokili.AsyncKili) -> None:
    with anyio.fail_after(TIMEOUT), pytest.raises(aiokili.NotFoundError, match="no-such-project"):
        async for _ in kili.label_created_or_updated("no-such-project"):
            pass


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"project_id": ""}, "project_id"),
        ({"project_id": "p", "callback": "not callable"}, "callback"),
        ({"project_id": "p", "updated_at_gte": "2024-01-01"}, "updated_at_gte"),
    ],
)
async def test_bad_arguments_are_refused_before_connecting(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(aiokili.KiliInputError, match=argument):
        kili.label_created_or_updated(**kwargs)


async def test_the_callback_form_needs_the_client_context(local_server: LocalServer) -> None:
    kili = aiokili.AsyncKili(api_key=local_server.api_key, api_endpoint=local_server.url)
    with pytest.raises(aiokili.KiliInputError, match="async with AsyncKili"):
        kili.label_created_or_updated("p", lambda *_: None)
    await kili.aclose()


def test_subscriptions_need_asyncio(local_server: LocalServer) -> None:
    async def main() -> None:
        async with aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url
        ) as kili:
            async for _ in kili.label_created_or_updated("p"):
                pass

    with pytest.raises(aiokili.ConfigurationError, match="asyncio"):
        anyio.run(main, backend="trio")


def _fake_label(label_id: str, updated_at: str) -> dict[str, Any]:
    keys = ("jsonResponse modelName secondsToLabel isLastForStep consensusMark honeypotMark "
            "inferenceMark author labelOf").split()  # fmt: skip
    return {"id": label_id, "updatedAt": updated_at, "createdAt": updated_at, "assetId": "A1",
            "labelType": "DEFAULT", "isLatestLabelForUser": True, "isSentBackToQueue": False,
            **dict.fromkeys(keys)}  # fmt: skip


_UNKNOWN_ARGUMENT = 'Unknown argument "updatedAtGte" on field "Subscription.labelCreatedOrUpdated".'


@pytest.mark.parametrize(
    "refusal",
    [
        {"message": _UNKNOWN_ARGUMENT, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
        {"message": "Validation failed.", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
        {"message": _UNKNOWN_ARGUMENT},  # a server that sends no codes
    ],
    ids=["code", "code, other words", "no code"],
)
async def test_against_a_server_without_replay_dropped_sockets_and_event_errors(
    caplog: pytest.LogCaptureFixture, refusal: dict[str, Any]
) -> None:
    """A graphql-transport-ws server that knows no ``updatedAtGte`` (as Kili's API): the
    socket it drops is reopened, the refused replay argument is left out (with a warning),
    a label sent again is dropped, and an event carrying ``errors`` is raised."""
    from websockets.asyncio.server import ServerConnection, serve

    operations: list[str] = []
    first = _fake_label("L1", "2024-01-01T00:00:00.000Z")
    second = _fake_label("L2", "2024-01-01T00:00:01.000Z")

    async def handler(ws: ServerConnection) -> None:
        assert ws.subprotocol == "graphql-transport-ws"
        init = json.loads(await ws.recv())
        assert init["payload"]["Authorization"] == "X-API-Key: key"
        await ws.send(json.dumps({"type": "connection_ack"}))
        subscribe = json.loads(await ws.recv())
        operations.append(subscribe["payload"]["operationName"])
        sid = subscribe["id"]

        async def next_(payload: dict[str, Any]) -> None:
            await ws.send(json.dumps({"type": "next", "id": sid, "payload": payload}))

        if len(operations) == 1:
            await next_({"data": {"data": first}})
            await ws.close(1011)  # dropped by the server
        elif len(operations) == 2:
            assert subscribe["payload"]["variables"]["updatedAtGte"] == "2023-12-31T23:59:55.000Z"
            await ws.send(json.dumps({"type": "error", "id": sid, "payload": [refusal]}))
            await ws.wait_closed()
        else:
            await next_({"data": {"data": first}})  # already received: dropped
            await next_({"data": {"data": second}})
            await next_({"data": {"data": None}, "errors": [
                {"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})  # fmt: skip
            await ws.wait_closed()

    got: list[str] = []
    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        endpoint = f"http://127.0.0.1:{port}/api/label/v2/graphql"
        async with aiokili.AsyncKili(api_key="key", api_endpoint=endpoint) as kili:
            subscription = kili.label_created_or_updated("P")
            with anyio.fail_after(TIMEOUT), pytest.raises(aiokili.GraphQLError, match="boom"):
                async for label in subscription:
                    got.append(label.id)
    assert got == ["L1", "L2"]
    assert operations == [
        "LabelCreatedOrUpdated", "ResumeLabelCreatedOrUpdated", "LabelCreatedOrUpdated"
    ]  # fmt: skip
    assert subscription.reconnections == 2
    assert any("cannot replay" in record.getMessage() for record in caplog.records)


async def test_a_refused_replay_value_is_raised_not_dropped() -> None:
    """An error about ``updatedAtGte`` that is not a validation failure (the server knows
    the argument but refuses this value) is raised: the replay is not given up silently."""
    from websockets.asyncio.server import ServerConnection, serve

    operations: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(json.dumps({"type": "connection_ack"}))
        subscribe = json.loads(await ws.recv())
        operations.append(subscribe["payload"]["operationName"])
        await ws.send(json.dumps({"type": "error", "id": subscribe["id"], "payload": [{
            "message": "updatedAtGte is more than 7 days ago: events are kept 7 days.",
            "extensions": {"code": "BAD_USER_INPUT"}}]}))  # fmt: skip
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        endpoint = f"http://127.0.0.1:{port}/api/label/v2/graphql"
        async with aiokili.AsyncKili(api_key="key", api_endpoint=endpoint) as kili:
            old = datetime(2020, 1, 1, tzinfo=timezone.utc)
            subscription = kili.label_created_or_updated("P", updated_at_gte=old)
            with (
                anyio.fail_after(TIMEOUT),
                pytest.raises(aiokili.InvalidRequestError, match="more than 7 days ago"),
            ):
                async for _ in subscription:
                    pass
    assert operations == ["ResumeLabelCreatedOrUpdated"]


async def _open(server: LocalServer, protocol: str, key: str) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(server.url.replace("http", "ws", 1), subprotocols=[protocol])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init",
                              "payload": {"Authorization": f"X-API-Key: {key}"}}))  # fmt: skip
    return ws


async def test_the_legacy_protocol_is_served_and_refuses_a_wrong_key(
    local_server: LocalServer,
) -> None:
    ws = await _open(local_server, "graphql-ws", "wrong")
    try:
        assert ws.subprotocol == "graphql-ws"  # echoed, as the official SDK requires
        with anyio.fail_after(TIMEOUT):
            refused = json.loads(await ws.recv())
        assert refused["type"] == "connection_error"
        assert "API key" in refused["payload"]["message"]
    finally:
        await ws.close()


async def test_one_connection_runs_a_bounded_number_of_operations(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    from aiokili.server.live.websocket import MAX_OPERATIONS

    project_id = await new_project(kili)
    ws = await _open(local_server, "graphql-transport-ws", local_server.api_key)
    query = "subscription($p: ID!) { labelCreatedOrUpdated(projectID: $p) { id } }"
    try:
        with anyio.fail_after(TIMEOUT):
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for n in range(MAX_OPERATIONS + 1):
                await ws.send(json.dumps({"type": "subscribe", "id": str(n), "payload": {
                    "query": query, "variables": {"p": project_id}}}))  # fmt: skip
            refused = json.loads(await ws.recv())
        assert (refused["type"], refused["id"]) == ("error", str(MAX_OPERATIONS))
        assert f"At most {MAX_OPERATIONS} operations" in refused["payload"][0]["message"]
        await until(lambda: subscribers(local_server, project_id) == MAX_OPERATIONS, "16")
    finally:
        await ws.close()
    await until(lambda: subscribers(local_server, project_id) == 0, "closed")


async def test_the_server_holds_a_bounded_number_of_connections(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``MAX_CONNECTIONS``, a new connection is closed with 1013 ("try again later");
    once one leaves, the next is served."""
    from websockets.exceptions import ConnectionClosed

    from aiokili.server.live import websocket

    monkeypatch.setattr(websocket, "MAX_CONNECTIONS", 2)
    key = local_server.api_key
    first = await _open(local_server, "graphql-transport-ws", key)
    second = await _open(local_server, "graphql-transport-ws", key)
    try:
        with anyio.fail_after(TIMEOUT):
            for ws in (first, second):
                assert json.loads(await ws.recv())["type"] == "connection_ack"
            with pytest.raises(ConnectionClosed) as closed:
                third = await _open(local_server, "graphql-ws", key)  # its init may fail too
                await third.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        await first.close()
        with anyio.fail_after(TIMEOUT):
            while True:  # the count drops once the server has seen the close
                try:
                    fourth = await _open(local_server, "graphql-transport-ws", key)
                    acked = json.loads(await fourth.recv())["type"] == "connection_ack"
                    await fourth.close()
                    if acked:
                        break
                except ConnectionClosed:
                    await anyio.sleep(0.05)
    finally:
        await second.close()


async def test_a_legacy_connection_that_never_initialises_is_closed(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from aiokili.server.live import websocket

    monkeypatch.setattr(websocket, "INIT_WAIT_S", 0.3)
    url = local_server.url.replace("http", "ws", 1)
    ws = await connect(url, subprotocols=["graphql-ws"])  # type: ignore[list-item]
    try:
        with anyio.fail_after(TIMEOUT), pytest.raises(ConnectionClosed) as closed:
            await ws.recv()  # nothing sent: no connection_init
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    finally:
        await ws.close()


MALFORMED = {
    "not JSON": "{not json",
    "binary": b"\x00\x01",
    "an array": "[1, 2]",
    "no type": '{"id": "1"}',
    "payload not an object": '{"type": "subscribe", "id": "1", "payload": "x"}',
}


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("frame", list(MALFORMED))
async def test_a_malformed_frame_closes_with_a_protocol_error_and_no_traceback(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture, protocol: str, frame: str
) -> None:
    from websockets.exceptions import ConnectionClosed

    ws = await _open(local_server, protocol, local_server.api_key)
    try:
        with caplog.at_level(logging.INFO), anyio.fail_after(TIMEOUT):
            await ws.send(MALFORMED[frame])
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # the ack (and keep-alives) first
                    await ws.recv()
    finally:
        await ws.close()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400  # before: 1006
    assert closed.value.rcvd.reason.startswith("Invalid message received")
    assert not [r for r in caplog.records if r.exc_info], caplog.text


async def test_unauthenticated_connections_cannot_take_the_places_of_clients(
    kili: aiokili.AsyncKili, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from aiokili.server.live import websocket

    monkeypatch.setattr(websocket, "MAX_UNAUTHENTICATED", 3)
    url = local_server.url.replace("http", "ws", 1)
    idle = [await connect(url, subprotocols=["graphql-transport-ws"]) for _ in range(3)]  # type: ignore[list-item]
    try:
        with anyio.fail_after(TIMEOUT), pytest.raises(ConnectionClosed) as closed:
            extra = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
            await extra.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        project_id = await new_project(kili)  # a client (its key in the upgrade) still subscribes
        async with kili.label_created_or_updated(project_id) as labels:
            [asset_id] = await import_images(kili, project_id, 1)
            await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
            with anyio.fail_after(TIMEOUT):
                label = await labels.__anext__()
        assert label.id
    finally:
        for ws in idle:
            await ws.close()
