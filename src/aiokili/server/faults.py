"""Injected faults and a per-key rate limit: the local server misbehaving on purpose.

A fault spec (``aiokili server --faults SPEC``, ``LocalServer(faults=SPEC)``) gives, per
GraphQL operation, the share of requests that fail and how (the syntax and every kind are
in ``docs/faults.md``)::

    503=0.05, reset_after=0.02, slow=0.1:200ms; AppendManyLabels: malformed=0.1; seed=7

The ``n``-th request of an operation gets the same fault in every run with the same seed
(a hash of seed, operation and ``n``), whatever the order concurrent requests arrive in.
Faults of the kinds in :data:`BEFORE` are answered before the resolver runs (nothing is
applied); those of :data:`AFTER` let the resolver run (a mutation is committed) and then
lose or damage its answer. Every injected fault, and every request refused by the rate
limit, is counted by kind: ``GET /faults`` serves the counts as JSON, and ``aiokili
server`` prints them at exit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "AFTER", "BEFORE", "FaultInjector", "FaultSpec", "FaultSpecError", "Faults", "RateLimit",
    "Tally",
]  # fmt: skip

T = TypeVar("T")

BEFORE = ("500", "502", "503", "429", "reset")
"""Kinds answered instead of the request: the resolver does not run."""
AFTER = ("reset_after", "truncated", "malformed")
"""Kinds that let the resolver run (a mutation commits), then lose or damage its answer."""
KINDS = (*BEFORE, "slow", *AFTER)
"""Every kind, in the order a request's draw walks them."""
DEFAULT_PARAM = {"429": 1.0, "slow": 0.2}
"""Seconds: ``Retry-After`` of a 429, delay of a slow answer (a 503 sends no Retry-After
unless given one)."""
_TAKES_PARAM = frozenset({"429", "503", "slow"})
_NAME = re.compile(r"[_A-Za-z]\w*|\*")
_DURATION = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s)?")


class FaultSpecError(ValueError):
    """A fault spec or rate limit that cannot be read; the message names the part and the fix."""


@dataclass(frozen=True)
class Rule:
    """Inject ``kind`` into a share ``rate`` of requests; ``param`` in seconds (see
    :data:`DEFAULT_PARAM`)."""

    kind: str
    rate: float
    param: float | None = None


def _duration(text: str, where: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise FaultSpecError(
            f"{where}: {text.strip()!r} is not a duration: write e.g. 200ms, 1.5s or 2 (seconds)."
        )
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


def _rule(text: str, where: str) -> Rule:
    kind, equals, value = text.partition("=")
    kind = kind.strip()
    if not equals or kind not in KINDS:
        raise FaultSpecError(
            f"{where}: {text.strip()!r} is not KIND=RATE; KIND is one of {', '.join(KINDS)} "
            "(e.g. 503=0.05)."
        )
    rate_text, colon, param_text = value.partition(":")
    try:
        rate = float(rate_text)
    except ValueError:
        rate = math.nan
    if not 0 <= rate <= 1:
        raise FaultSpecError(
            f"{where}: the rate of {kind} is {rate_text.strip()!r}: give a share between 0 "
            "and 1 (0.05 is 5% of requests)."
        )
    if colon and kind not in _TAKES_PARAM:
        raise FaultSpecError(
            f"{where}: {kind} takes no ':' value (only 429 and 503, a Retry-After, and slow, "
            "a delay, do)."
        )
    param = _duration(param_text, f"{where}, {kind}") if colon else DEFAULT_PARAM.get(kind)
    return Rule(kind, rate, param)


@dataclass(frozen=True)
class FaultSpec:
    """Which faults each operation gets (``"*"``: every operation), and the seed.

    An operation's own section overrides the ``*`` rules of the same kinds and keeps the
    others (``KIND=0`` removes one).
    """

    rules: Mapping[str, Mapping[str, Rule]]
    seed: int
    text: str = ""

    @classmethod
    def parse(cls, text: str, *, seed: int | None = None) -> FaultSpec:
        """Read a spec (see ``docs/faults.md``); ``seed`` when the spec names none (default
        a random one, shown by ``GET /faults`` so a run can be replayed). Raises
        :class:`FaultSpecError` naming the part that is wrong."""
        if not isinstance(text, str):
            raise FaultSpecError(f"faults: give a spec string such as '503=0.05', not {text!r}.")
        rules: dict[str, dict[str, Rule]] = {}
        for number, section in enumerate(text.split(";"), start=1):
            section = section.strip()
            where = f"faults section {number} ({section!r})"
            if not section:
                continue
            if section.startswith("seed="):
                value = section.removeprefix("seed=").strip()
                if not value.isdigit():
                    raise FaultSpecError(f"{where}: the seed is a whole number, e.g. seed=7.")
                seed = int(value)
                continue
            head, colon, body = section.partition(":")
            operations = ["*"]
            if colon and "=" not in head:  # "Op1|Op2: rules"
                operations = [name.strip() for name in head.split("|")]
                bad = [name for name in operations if not _NAME.fullmatch(name)]
                if bad:
                    raise FaultSpecError(
                        f"{where}: {bad[0]!r} is not an operation name: write "
                        "OperationName: KIND=RATE, or * for every operation."
                    )
            else:
                body = section
            if body.strip() == "off":  # "CreateProject: off": no fault for these operations
                body = ",".join(f"{kind}=0" for kind in KINDS)
            parsed = [_rule(part, where) for part in body.split(",") if part.strip()]
            if not parsed:
                raise FaultSpecError(f"{where}: no KIND=RATE (or off) after the operation names.")
            for operation in operations:
                for found in parsed:
                    rules.setdefault(operation, {})[found.kind] = found
        spec = cls(rules, seed if seed is not None else _random_seed(), text)
        for operation in rules:
            total = sum(rule.rate for rule in spec.rules_for(operation))
            if total > 1 + 1e-9:
                raise FaultSpecError(
                    f"faults: the rates of {operation} add up to {total:g}, over 1: lower "
                    "them (each request gets at most one fault)."
                )
        return spec

    def rules_for(self, operation: str) -> tuple[Rule, ...]:
        """The rules ``operation`` gets (its own over the ``*`` ones), in draw order."""
        merged = {**self.rules.get("*", {}), **self.rules.get(operation, {})}
        return tuple(merged[kind] for kind in KINDS if kind in merged and merged[kind].rate > 0)

    def draw(self, operation: str, number: int) -> Rule | None:
        """The fault of the ``number``-th request of ``operation``, or None."""
        digest = hashlib.blake2b(
            f"{self.seed}:{operation}:{number}".encode(), digest_size=8
        ).digest()
        point = int.from_bytes(digest, "big") / 2**64
        for rule in self.rules_for(operation):
            if point < rule.rate:
                return rule
            point -= rule.rate
        return None


def _random_seed() -> int:
    return int.from_bytes(hashlib.blake2b(str(time.time_ns()).encode()).digest()[:4], "big")


_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0}


@dataclass
class RateLimit:
    """At most ``requests`` per ``period`` seconds per API key (a token bucket holding one
    second's worth, at least 1); past it, HTTP 429 with ``Retry-After`` in whole seconds."""

    requests: float
    period: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"600/min"``, ``"10/s"``, ``"36000/h"``; raises :class:`FaultSpecError`."""
        count, slash, unit = str(text).partition("/")
        try:
            requests = float(count)
        except ValueError:
            requests = math.nan
        unit = unit.strip().lower()
        if not slash or unit not in _PERIODS or not (math.isfinite(requests) and requests > 0):
            raise FaultSpecError(
                f"rate limit {text!r}: write REQUESTS/PERIOD with a positive number and a "
                "period of s, min or h, e.g. 600/min."
            )
        return cls(requests, _PERIODS[unit])

    @property
    def per_second(self) -> float:
        return self.requests / self.period

    def text(self) -> str:
        """The limit per minute (per hour when under one a minute): ``"600/min"``."""
        per_minute = self.per_second * 60
        return f"{per_minute:g}/min" if per_minute >= 1 else f"{per_minute * 60:g}/h"

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_second)

    def take(self, tokens: float, since: float, now: float) -> tuple[float, float]:
        """A bucket holding ``tokens`` at ``since`` (seconds), at ``now``: its tokens after a
        request, and 0 if the request may go (it took one), else the seconds to wait."""
        tokens = min(self.capacity, tokens + (now - since) * self.per_second)
        if tokens >= 1:
            return tokens - 1, 0.0
        return tokens, (1 - tokens) / self.per_second


class Tally:
    """Where one server keeps its counts and rate buckets: in memory (one process); for
    several workers, in their database (``fault_tally.py``)."""

    blocking = False
    """Whether its calls wait on I/O (then they run in a worker thread)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._buckets: dict[str, tuple[float, float]] = {}

    def add(self, name: str) -> int:
        """Count one more ``name``; the new count."""
        self._counts[name] += 1
        return self._counts[name]

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def wait(self, limit: RateLimit, key: str) -> float:
        """0 if a request with ``key`` may go now (counted), else the seconds to wait."""
        now = time.monotonic()
        tokens, since = self._buckets.get(key, (limit.capacity, now))
        self._buckets[key] = (left := limit.take(tokens, since, now))[0], now
        return left[1]


class InjectedReset(Exception):
    """Raised to make the ASGI server drop a connection mid-answer (not logged)."""


class _QuietResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedReset))


def quiet_injected_resets() -> None:
    """Keep uvicorn from logging the connections dropped on purpose as errors."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietResets) for f in logger.filters):
        logger.addFilter(_QuietResets())


_OPERATION = re.compile(rb'"operationName"\s*:\s*"([_A-Za-z]\w*)"')
_PEEK = 1024 * 1024  # bytes of an inflated body searched for the operation's name


def operation_of(body: bytes, gzipped: bool) -> str:
    """The ``operationName`` a GraphQL request body names, or ``"-"``."""
    if gzipped:
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, _PEEK)
        except zlib.error:
            return "-"
    match = _OPERATION.search(body)
    return match.group(1).decode() if match else "-"


def _api_key(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name in (b"authorization", b"x-api-key"):
            text: str = value.decode("latin-1")
            return text.split("X-API-Key:", 1)[-1].strip()
    return ""


class Faults:
    """The faults and the rate limit one server injects, and the counts of what it did."""

    def __init__(
        self,
        spec: FaultSpec | None = None,
        rate_limit: RateLimit | None = None,
        tally: Tally | None = None,
    ) -> None:
        self.spec, self.rate_limit = spec, rate_limit
        self.tally = tally or Tally()
        self.enabled = True
        """False: inject no fault (e.g. while a test checks what was stored; the rate limit
        still holds); requests are then not counted."""

    @classmethod
    def of(cls, spec: FaultSpec | str | None, rate_limit: RateLimit | str | None) -> Faults:
        """From texts or parsed values (raises :class:`FaultSpecError` for a bad text)."""
        if isinstance(spec, str):
            spec = FaultSpec.parse(spec)
        if isinstance(rate_limit, str):
            rate_limit = RateLimit.parse(rate_limit)
        return cls(spec, rate_limit)

    def draw(self, operation: str) -> Rule | None:
        """The fault of the next request of ``operation`` (counted), or None."""
        if self.spec is None or not self.enabled:
            return None
        number = self.tally.add(f"request\t{operation}") - 1
        rule = self.spec.draw(operation, number)
        if rule is not None:
            self.tally.add(f"fault\t{operation}\t{rule.kind}")
        return rule

    def limited(self, key: str) -> float:
        """0 if a request with the API key ``key`` passes the rate limit, else the seconds
        to wait (the refusal counted)."""
        if self.rate_limit is None:
            return 0.0
        wait = self.tally.wait(self.rate_limit, key)
        if wait > 0:
            self.tally.add("rate_limited")
        return wait

    def summary(self) -> dict[str, Any]:
        """What was injected: spec, seed, requests seen, faults by kind and by operation."""
        requests, limited, by_kind = 0, 0, Counter[str]()
        by_operation: dict[str, Counter[str]] = {}
        for name, n in self.tally.counts().items():
            kind, _, rest = name.partition("\t")
            if kind == "request":
                requests += n
            elif kind == "fault":
                operation, _, fault = rest.partition("\t")
                by_kind[fault] += n
                by_operation.setdefault(operation, Counter())[fault] += n
            elif kind == "rate_limited":
                limited = n
        return {
            "spec": self.spec.text if self.spec else None,
            "seed": self.spec.seed if self.spec else None,
            "rate_limit": self.rate_limit.text() if self.rate_limit else None,
            "requests": requests,
            "faults": sum(by_kind.values()),
            "by_kind": dict(sorted(by_kind.items())),
            "by_operation": {op: dict(sorted(c.items())) for op, c in by_operation.items()},
            "rate_limited": limited,
        }

    def summary_text(self) -> str:
        """The summary in a few lines (what ``aiokili server`` prints at exit)."""
        found = self.summary()
        lines = []
        if self.spec is not None:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in found["by_kind"].items()) or "none"
            lines.append(
                f"Faults injected: {found['faults']} of {found['requests']} GraphQL requests "
                f"(seed {found['seed']}): {kinds}."
            )
        if self.rate_limit is not None:
            lines.append(
                f"Rate limit ({found['rate_limit']} per API key): {found['rate_limited']} "
                "requests refused with HTTP 429."
            )
        return "\n".join(lines)


class FaultInjector:
    """ASGI middleware: the rate limit and the faults of ``faults`` on GraphQL POSTs to
    ``path``, and ``GET /faults`` (their counts, as JSON)."""

    def __init__(self, app: ASGIApp, path: str, faults: Faults) -> None:
        self.app, self.path, self.faults = app, path, faults
        if faults.spec is not None:
            quiet_injected_resets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        faults = self.faults
        if scope["path"] == "/faults" and scope["method"] == "GET":
            body = json.dumps(await self._call(faults.summary)).encode()
            return await _send(send, 200, body, "application/json")
        if scope["path"] != self.path or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if faults.rate_limit is not None:
            wait = await self._call(faults.limited, _api_key(scope))
            if wait > 0:
                seconds = str(max(1, math.ceil(wait)))
                return await _refuse(send, 429, "Rate limit exceeded: slow down.", seconds)
        if faults.spec is None:
            return await self.app(scope, receive, send)
        body, replay = await _buffer(receive)
        gzipped = any(n == b"content-encoding" and b"gzip" in v for n, v in scope["headers"])
        rule = await self._call(faults.draw, operation_of(body, gzipped))
        if rule is None:
            return await self.app(scope, replay, send)
        await self._inject(rule, scope, replay, send)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``; in a worker thread when the tally waits on its database."""
        if self.faults.tally.blocking:
            return await anyio.to_thread.run_sync(fn, *args)
        return fn(*args)

    async def _inject(self, rule: Rule, scope: Scope, receive: Receive, send: Send) -> None:
        kind = rule.kind
        if kind == "reset":  # headers, then the connection drops: nothing was run
            await send(_start(200, [(b"content-length", b"100")]))
            raise InjectedReset(kind)
        if kind in ("500", "502", "503", "429"):
            retry = None if rule.param is None else str(max(0, math.ceil(rule.param)))
            return await _refuse(send, int(kind), f"Injected fault: HTTP {kind}.", retry)
        if kind == "slow":
            await anyio.sleep(rule.param or 0.0)
            return await self.app(scope, receive, send)
        start, body = await _capture(self.app, scope, receive)
        if kind == "malformed":  # a complete HTTP answer whose body is cut: not JSON
            cut = body[: len(body) // 2].rstrip(b"}")
            headers = [(n, v) for n, v in start.get("headers", ()) if n != b"content-length"]
            headers.append((b"content-length", str(len(cut)).encode()))
            await send({**start, "headers": headers})
            return await send({"type": "http.response.body", "body": cut})
        await send(start)  # the full Content-Length, then less (or nothing) and a drop
        if kind == "truncated":
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
        raise InjectedReset(kind)


_CODES = {429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY"}


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers}


async def _send(send: Send, status: int, body: bytes, media: str, extra: Any = ()) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
    await send(_start(status, [*headers, *extra]))
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, message: str, retry_after: str | None) -> None:
    """An HTTP error answer whose JSON body is not a GraphQL result, as a proxy sends."""
    code = _CODES.get(status, "SERVICE_UNAVAILABLE")
    body = json.dumps({"message": message, "extensions": {"code": code}}).encode()
    extra = [(b"retry-after", retry_after.encode())] if retry_after is not None else []
    await _send(send, status, body, "application/json", extra)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run ``app`` to the end (the resolver commits); its response start and whole body."""
    start: Message = _start(500, [])
    parts: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(parts)
