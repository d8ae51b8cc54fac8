"""Canned-response server: records a real server's answers, then replays them.

Run by the benchmarks in a process of its own (``python benchmarks/_canned.py ...``), so a
client talking to it spends its CPU on the client side only: replaying an answer is a dict
look-up, no GraphQL, no SQLite.

* ``--record UPSTREAM --store FILE``: a proxy. Every request is forwarded to ``UPSTREAM``
  (the real server's origin, e.g. ``http://127.0.0.1:4000``) and its answer kept under a key
  made of the method, the path and, for JSON bodies, the GraphQL query (whitespace collapsed)
  and the variables (canonical JSON), so clients that format their bodies differently still
  hit the same answer. ``POST /__save__`` writes what was recorded to ``FILE``.
* ``--replay FILE``: answers each request with the recorded answer for its key (404 with a
  message when there is none). ``--latency-ms`` delays every answer, like the real server.
* ``--cycle-labels N``: in replay, a labels page beyond the recorded ones is answered with a
  recorded page of the same size (``skip`` taken modulo the recorded count), and the labels
  count with N: a stream of N labels from a few thousand real ones (memory benchmark).

* ``--synthetic-writes``: in replay, ``appendManyAssets``, ``appendManyLabels`` and
  ``filterExistingAssets`` are answered from the request itself (the ids sent, or new
  ones; no external id exists yet), whatever their variables: bulk writes of any size and
  any ids cost the server almost nothing, so a client's throughput at a given latency is
  the client's own (how fast a server that keeps up would let it go).

Prints ``GraphQL endpoint: <origin>/api/label/v2/graphql`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import socket
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn

PREFIX = "/api/label/v2"
_SPACES = re.compile(r"\s+")
Key = tuple[str, str, str, str]
Answer = tuple[int, str, bytes]


def request_key(method: str, path: str, body: bytes) -> Key:
    """What identifies a request, whatever the client's JSON formatting."""
    if method == "POST" and body:
        try:
            payload = json.loads(body)
        except ValueError:
            return (method, path, "", body.decode("latin-1"))
        query = _SPACES.sub(" ", str(payload.get("query", ""))).strip()
        variables = json.dumps(_drop_nulls(payload.get("variables") or {}), sort_keys=True)
        return (method, path, query, variables)
    return (method, path, "", "")


def _drop_nulls(value: Any) -> Any:
    """Variables without null entries (one SDK sends them, the other leaves them out)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


async def _body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, content_type: str, body: bytes) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Recorder:
    """ASGI proxy that keeps every answer of the upstream server."""

    def __init__(self, upstream: str, store: Path) -> None:
        self.upstream = upstream.rstrip("/")
        self.store = store
        self.answers: dict[Key, Answer] = {}
        self.http = httpx.AsyncClient(timeout=600)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        if scope["path"] == "/__save__":
            self.store.write_bytes(pickle.dumps(self.answers))
            await _answer(send, 200, "text/plain", f"{len(self.answers)} answers".encode())
            return
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k != b"host"]
        query = scope.get("query_string", b"").decode()
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        response = await self.http.request(scope["method"], url, content=body, headers=headers)
        answer = (response.status_code, response.headers.get("content-type", ""), response.content)
        self.answers[request_key(scope["method"], scope["path"] + query, body)] = answer
        await _answer(send, *answer)


_ALIAS = re.compile(
    r"(?:(\w+)\s*:\s*)?(appendManyAssets|appendManyLabels|filterExistingAssets)\s*\("
)
_ids = iter(range(10**12))


def synthetic(body: bytes) -> Answer | None:
    """The answer of a bulk write (or of ``filterExistingAssets``: none exist), made from
    the request; None for any other request."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    query = str(payload.get("query", "")) if isinstance(payload, dict) else ""
    matches = list(_ALIAS.finditer(query))  # the last: the field, not the operation's name
    if not matches:
        return None
    found = matches[-1]
    alias, field = found.group(1) or found.group(2), found.group(2)
    data = (payload.get("variables") or {}).get("data") or {}
    result: list[Any]
    if field == "filterExistingAssets":
        result = []
    elif field == "appendManyAssets":
        externals = data.get("externalIDArray") or [None] * len(data.get("contentArray") or ())
        ids = data.get("idArray") or [f"s{next(_ids)}" for _ in externals]
        with_external = "externalId" in query[found.end() :]
        result = [{"id": i, "externalId": e} if with_external else {"id": i}
                  for i, e in zip(ids, externals, strict=True)]  # fmt: skip
    else:
        result = [{"id": f"l{next(_ids)}"} for _ in data.get("labelsData") or ()]
    return (200, "application/json", json.dumps({"data": {alias: result}}).encode())


class Replayer:
    """ASGI app answering from recorded answers."""

    def __init__(
        self, store: Path, latency_ms: float, cycle_labels: int | None, writes: bool = False
    ) -> None:
        self.answers: dict[Key, Answer] = pickle.loads(store.read_bytes())
        self.latency = latency_ms / 1000
        self.cycle = cycle_labels
        self.writes = writes
        self.recorded = self._recorded_labels() if cycle_labels else 0

    def _recorded_labels(self) -> int:
        counts = [
            json.loads(body)["data"]["data"]
            for (_, _, query, _), (_, _, body) in self.answers.items()
            if "countLabels" in query
        ]
        return max(counts)

    def _cycled(self, key: Key) -> Answer | None:
        method, path, query, variables = key
        if "countLabels" in query:
            return (200, "application/json", json.dumps({"data": {"data": self.cycle}}).encode())
        if "labels(" not in query:
            return None
        parsed = json.loads(variables)
        parsed["skip"] = parsed.get("skip", 0) % self.recorded
        return self.answers.get((method, path, query, json.dumps(parsed, sort_keys=True)))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        if self.latency:
            await anyio.sleep(self.latency)
        query = scope.get("query_string", b"").decode()
        key = request_key(scope["method"], scope["path"] + query, body)
        answer = self._cycled(key) if self.cycle else self.answers.get(key)
        if answer is None and self.writes:
            answer = synthetic(body)
        if answer is None:
            answer = self.answers.get(key)
        if answer is None:
            message = f"canned server: nothing recorded for {key!r}"[:2000]
            print(message, flush=True)
            await _answer(send, 404, "text/plain", message.encode())
            return
        await _answer(send, *answer)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", metavar="UPSTREAM", help="origin of the real server to proxy")
    mode.add_argument("--replay", metavar="FILE", type=Path, help="recorded answers to serve")
    parser.add_argument("--store", type=Path, help="where --record writes on POST /__save__")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--cycle-labels", type=int, default=None)
    parser.add_argument("--synthetic-writes", action="store_true")
    args = parser.parse_args()
    if args.record:
        if args.store is None:
            parser.error("--record needs --store")
        app: Any = Recorder(args.record, args.store)
    else:
        app = Replayer(args.replay, args.latency_ms, args.cycle_labels, args.synthetic_writes)
    # IPPROTO_TCP (not 0): asyncio then sets TCP_NODELAY (no ~40 ms Nagle stalls).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await anyio.sleep(0.01)
        print(f"GraphQL endpoint: http://127.0.0.1:{port}{PREFIX}/graphql", flush=True)

    async def run() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(announce)
            await server.serve(sockets=[sock])

    anyio.run(run)
    sys.exit(0)


if __name__ == "__main__":
    main()
