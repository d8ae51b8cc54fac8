"""Run the local server: in a background thread (tests, quickstart) or in the foreground."""

from __future__ import annotations

import functools
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import cast

import uvicorn
from uvicorn.supervisors import Multiprocess

from . import accounts
from .accounts import Account
from .app import PREFIX, create_app
from .fault_tally import DatabaseTally
from .faults import Faults, FaultSpec, RateLimit
from .settings import PluginLimits
from .store import Store, open_store
from .store.db import sqlite_path
from .workers import WorkerApp, check_workers, shared_faults, worker_app


class LocalServer:
    """A local Kili server on a loopback port.

    ```python
    with LocalServer() as server:   # in-memory SQLite, free port
        AsyncKili(api_key=server.api_key, api_endpoint=server.url)
    ```

    Args:
        store: the storage to serve (default: the store ``db`` names, closed on stop).
        host: the interface to listen on.
        port: the port; 0 picks a free one.
        db: SQLite file path, ":memory:" (default; a temporary file removed on stop), or a
            PostgreSQL database, ``postgresql://USER[:PASSWORD]@HOST:PORT/NAME``
            (``pip install 'aiokili[postgres]'``; the database must exist).
        files_dir: the folder of uploads and media (default: ``PATH.files`` beside a SQLite
            file, ``./NAME.files`` for PostgreSQL).
        api_key: also accept this key (default: the database's development key,
            created on first start).
        latency_ms: delay every response by this many milliseconds.
        log_level: uvicorn's log level.
        max_body_bytes: the largest request body, gzip inflated size included (see
            :class:`Settings`).
        max_upload_bytes: the largest upload (see :class:`Settings`).
        signed_url_ttl_s: how long a signed upload URL is valid (see :class:`Settings`).
        plugin_memory_mb: memory cap of one plugin run, in MiB (default 512, as on the
            platform).
        plugin_timeout_s: wall time of one plugin run, in seconds (default 60).
        plugin_cpus: CPUs all plugin runs and builds may use together, where cgroups allow
            (default half of the machine's).
        plugin_requirements: packages every plugin's environment gets, installed once
            (e.g. ``["kili==26.2.4"]`` to run plugins written for the official SDK, as the
            platform preinstalls it).
        plugin_limits: every plugin limit at once (see :class:`PluginLimits`); the
            arguments above override its fields.
        tile_threshold_bytes: images imported asynchronously are tiled from this size
            (default 30 MiB, the platform's; see :class:`Settings`).
        faults: faults to inject into GraphQL requests, e.g. ``"503=0.05,reset_after=0.02;
            seed=7"`` (syntax in the docs' "Faults" page); a bad spec raises
            :class:`~aiokili.server.faults.FaultSpecError` naming the part to fix.
        rate_limit: requests allowed per API key, e.g. ``"600/min"``; past it, HTTP 429
            with ``Retry-After``.
        workers: server processes sharing the port and ``db`` (a PostgreSQL database);
            more than 1 serves in the foreground only (:meth:`serve_forever`, ``aiokili
            server --workers N``). A worker that dies is replaced; its plugin service is
            taken over by another.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        files_dir: str | None = None,
        api_key: str | None = None,
        latency_ms: float = 0.0,
        log_level: str = "warning",
        max_body_bytes: int | None = None,
        max_upload_bytes: int | None = None,
        signed_url_ttl_s: float | None = None,
        plugin_memory_mb: int | None = None,
        plugin_timeout_s: float | None = None,
        plugin_cpus: float | None = None,
        plugin_requirements: Sequence[str] | None = None,
        plugin_limits: PluginLimits | None = None,
        tile_threshold_bytes: int | None = None,
        faults: FaultSpec | str | None = None,
        rate_limit: RateLimit | str | None = None,
        workers: int = 1,
    ) -> None:
        self.faults = Faults.of(faults, rate_limit)  # checked before the port is taken
        self.workers = check_workers(workers, db, store)
        """What this server injects, and the counts (``.summary()``, ``.summary_text()``)."""
        if store is None and sqlite_path(db) is None:  # checked before the port is taken
            from .store.postgres import _psycopg

            _psycopg()  # installed
        self.host = host
        # IPPROTO_TCP (not 0): asyncio then sets TCP_NODELAY, avoiding ~40 ms stalls.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        self._owns_store = store is None
        try:
            self.store: Store = open_store(db, files_dir) if store is None else store
        except BaseException:  # e.g. a database of a newer aiokili: no socket left open
            self._sock.close()
            raise
        self.api_key = self.store.ensure_api_key(api_key)  # once: every worker takes it
        self.store.shared = self.store.shared or self.workers > 1
        if self.workers > 1 and (self.faults.spec or self.faults.rate_limit):
            spec, limit = self.faults.spec, self.faults.rate_limit
            self.faults = shared_faults(db, spec, limit)  # counted by all the workers
            cast(DatabaseTally, self.faults.tally).reset()
        plugins = plugin_limits or PluginLimits()
        plugins = replace(
            plugins,
            memory_mb=plugin_memory_mb or plugins.memory_mb,
            timeout_s=plugin_timeout_s or plugins.timeout_s,
            cpus=plugin_cpus or plugins.cpus,
        )
        if plugin_requirements is not None:
            if isinstance(plugin_requirements, str):
                raise TypeError("plugin_requirements takes a list, e.g. ['kili==26.2.4']")
            plugins = replace(plugins, requirements=tuple(plugin_requirements))
        options = dict(
            latency_ms=latency_ms,
            max_body_bytes=max_body_bytes,
            max_upload_bytes=max_upload_bytes,
            signed_url_ttl_s=signed_url_ttl_s,
            plugin_limits=plugins,
            public_url=self.url,
            api_key=self.api_key,
            tile_threshold_bytes=tile_threshold_bytes,
        )
        if self.workers > 1:
            self._config = uvicorn.Config(
                functools.partial(
                    worker_app,
                    WorkerApp(db, files_dir, options, self.faults.spec, self.faults.rate_limit),
                ),
                factory=True,
                workers=self.workers,
                log_level=log_level,
                access_log=False,
                lifespan="on",
            )
        else:
            app = create_app(self.store, faults=self.faults, **options)  # type: ignore[arg-type]
            self._config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The GraphQL endpoint, e.g. ``http://127.0.0.1:4000/api/label/v2/graphql``."""
        return f"http://{self.host}:{self.port}{PREFIX}/graphql"

    def create_user(
        self,
        email: str,
        organization_role: str = "USER",
        *,
        organization_id: str | None = None,
        firstname: str | None = None,
        lastname: str | None = None,
        password: str | None = None,
    ) -> Account:
        """A new user (of ``organization_id``, default the server's first organization)
        with an API key: ``AsyncKili(api_key=account.api_key, api_endpoint=server.url)``."""
        return accounts.add_user(
            self.store,
            email,
            organization_role,
            organization_id=organization_id,
            firstname=firstname,
            lastname=lastname,
            password=password,
        )

    def create_organization(self, name: str, admin_email: str) -> Account:
        """A new organization, its first ADMIN (``admin_email``) and that admin's key."""
        return accounts.add_organization(self.store, name, admin_email)

    def create_api_key(self, email: str) -> str:
        """Another API key of the user with this email (shown once: stored hashed)."""
        return accounts.add_key(self.store, email).api_key

    def start(self) -> LocalServer:
        """Serve in a daemon thread; return once connections are accepted."""
        if self.workers > 1:
            raise RuntimeError(
                "Several workers serve in the foreground: call serve_forever() from the main "
                "thread (aiokili server --workers N), or use workers=1 here."
            )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local Kili server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
        if self._owns_store:
            self.store.close()

    def serve_forever(self, on_ready: Callable[[LocalServer], None] | None = None) -> None:
        """Serve until Ctrl-C or SIGTERM (both shut it down cleanly: plugin runs are killed;
        a second Ctrl-C does not wait); ``on_ready(self)`` runs once the server listens."""
        if self.workers > 1:
            self._serve_workers(on_ready)
            return
        self.start()
        if on_ready is not None:
            on_ready(self)

        # a KeyboardInterrupt raised inside Thread.join() can leave the thread looking
        # stopped, so the server is asked to exit as uvicorn itself does: by a flag
        def exit_(signum: int, _: object) -> None:
            if self._server.should_exit and signum == signal.SIGINT:
                self._server.force_exit = True
            self._server.should_exit = True

        previous = {sig: signal.signal(sig, exit_) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def _serve_workers(self, on_ready: Callable[[LocalServer], None] | None) -> None:
        """uvicorn's supervisor: the workers share the socket; one that dies is replaced."""
        self._sock.listen(2048)  # connections wait in the backlog until a worker accepts
        if on_ready is not None:
            on_ready(self)
        try:
            Multiprocess(self._config, sockets=[self._sock]).run()
        finally:
            self.stop()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
