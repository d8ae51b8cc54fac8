"""The per-request dataloaders: one read per event-loop turn, cached, primed, never left pending."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
import pytest
from support import gql

from aiokili.server import LocalServer
from aiokili.server.context import DataLoader
from aiokili.server.errors import ServerError

pytestmark = pytest.mark.anyio


class Reads:
    """A ``read(keys)`` that records its calls and can be held until released."""

    def __init__(self, hold: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, keys: Sequence[str]) -> Mapping[str, str]:
        self.calls.append(list(keys))
        self.started.set()
        self.release.wait(30)
        return {k: k.upper() for k in keys if k != "missing"}


def _new_tasks(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - before


async def test_loads_of_one_turn_are_one_read_and_cached() -> None:
    reads = Reads()
    loader = DataLoader(reads)
    found = await asyncio.gather(*(loader.load(k) for k in ["a", "b", "a", "missing", "c"]))
    assert found == ["A", "B", "A", None, "C"]
    assert reads.calls == [["a", "b", "missing", "c"]]
    assert await loader.load("b") == "B" and loader.get(None) is None
    assert len(reads.calls) == 1


async def test_primed_values_answer_synchronously() -> None:
    reads = Reads()
    loader = DataLoader(reads)
    loader.prime_many({"a": "primed"})
    assert loader.get("a") == "primed"
    pending = loader.get("b")
    assert isinstance(pending, asyncio.Future)
    assert await pending == "B"
    assert reads.calls == [["b"]]


async def test_a_cancelled_request_leaves_nothing_pending() -> None:
    reads = Reads(hold=True)
    loader = DataLoader(reads)

    async def request(keys: list[str]) -> list[str | None]:
        return await asyncio.gather(*(loader.load(k) for k in keys))

    before = asyncio.all_tasks()
    cancelled = asyncio.ensure_future(request(["a", "b"]))
    other = asyncio.ensure_future(request(["b", "c"]))
    await anyio.to_thread.run_sync(reads.started.wait)
    batches = _new_tasks(before) - {cancelled, other}
    cancelled.cancel()  # e.g. its client went away while the batch was being read
    reads.release.set()
    assert await asyncio.wait_for(other, 10) == ["B", "C"]
    await asyncio.wait_for(asyncio.gather(*batches), 10)  # the batch's task raised nothing
    assert cancelled.cancelled()
    assert all(f.done() for f in loader.cached.values())
    assert reads.calls == [["a", "b", "c"]]


async def test_a_cancelled_batch_fails_its_waiters() -> None:
    reads = Reads(hold=True)
    loader = DataLoader(reads)
    before = asyncio.all_tasks()
    waiting = [loader.load("a"), loader.load("b")]
    await anyio.to_thread.run_sync(reads.started.wait)
    for batch in _new_tasks(before):
        batch.cancel()  # e.g. the server stopping
    reads.release.set()
    done, pending = await asyncio.wait(waiting, timeout=10)
    assert not pending
    for future in done:
        with pytest.raises(ServerError, match="server stopped"):
            future.result()


def test_n_rows_are_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalServer() as server:
        project = _data(server, _CREATE, d={"title": "t", "inputType": "TEXT"})["id"]
        ids = [f"e{i}" for i in range(30)]
        _data(server, _APPEND, d={"contentArray": ids, "externalIDArray": ids}, w={"id": project})
        assets = _data(
            server,
            "query($w: AssetWhere!) { data: assets(where: $w) { id } }",
            w={"project": {"id": project}},
        )
        authors = [f"user-{i}" for i in range(len(assets))]
        labels = [
            {"assetID": a["id"], "authorID": who, "jsonResponse": "{}"}
            for a, who in zip(assets, authors, strict=True)
        ]
        _data(
            server,
            _LABEL,
            d={"labelsData": labels, "labelType": "DEFAULT"},
            w={"project": {"id": project}},
        )
        calls: list[list[str]] = []
        by_ids = server.store.users.by_ids
        monkeypatch.setattr(
            server.store.users, "by_ids", lambda ids: calls.append(ids) or by_ids(ids)
        )
        query = "query($w: AssetWhere!) { data: assets(where: $w) { labels { author { id } } } }"
        found = _data(server, query, w={"project": {"id": project}})
    assert [a["labels"][0]["author"] for a in found] == [None] * len(assets)  # unknown users
    assert len(calls) == 1 and sorted(calls[0]) == sorted(authors)


_CREATE = "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }"
_APPEND = (
    "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
    "{ data: appendManyAssets(data: $d, where: $w) { id } }"
)
_LABEL = (
    "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
    "{ data: appendManyLabels(data: $d, where: $w) { id } }"
)


def _data(server: LocalServer, query: str, **variables: Any) -> Any:
    body = gql(server, query, **variables)
    assert not body.get("errors"), body
    return body["data"]["data"]
