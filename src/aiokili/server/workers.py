"""Several server processes over one PostgreSQL database (``aiokili server --workers N``).

The parent process opens the database once (its schema revisions, the first key), binds the
port and hands it to uvicorn's supervisor, which starts the workers, each with its own
store and app (:func:`worker_app`), and replaces one that dies. The workers share what the
database holds; what a worker keeps in memory is checked against it at each request
(``Store.refresh``); one worker at a time runs the plugin service (``plugin_runtime``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import KiliInputError
from .faults import Faults, FaultSpec, RateLimit
from .store.db import sqlite_path

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .store import Store

MAX_WORKERS = 32


@dataclass(frozen=True)
class WorkerApp:
    """What a worker needs to build its app (sent to each worker process: picklable)."""

    db: str
    files_dir: str | None
    options: dict[str, Any]
    faults: FaultSpec | None = None
    rate_limit: RateLimit | None = None


def worker_app(spec: WorkerApp) -> Starlette:
    """The app of one worker: its own store over the shared database (uvicorn's factory);
    its faults and rate limit counted in the database, with every worker's."""
    from .app import create_app
    from .store import open_store

    store = open_store(spec.db, spec.files_dir)
    store.shared = True
    return create_app(store, faults=shared_faults(spec.db, spec.faults, spec.rate_limit),
                      **spec.options)  # fmt: skip


def shared_faults(db: str, spec: FaultSpec | None, rate_limit: RateLimit | None) -> Faults:
    """Faults and a rate limit counted in the database ``db``, by every worker together
    (``fault_tally.py``; no connection without either)."""
    from .fault_tally import DatabaseTally
    from .store.postgres import connect_url

    if spec is None and rate_limit is None:
        return Faults()
    return Faults(spec, rate_limit, DatabaseTally(connect_url(db)))


def check_workers(workers: int, db: str, store: Store | None) -> int:
    """``workers``, refused with a :class:`~aiokili.errors.KiliInputError` naming the fix when
    it cannot work: several need a PostgreSQL ``db`` (a SQLite file has one writer
    process)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise KiliInputError(f"workers must be a whole number from 1, got {workers!r}.")
    if workers > MAX_WORKERS:
        raise KiliInputError(f"workers must be at most {MAX_WORKERS}, got {workers}.")
    if workers == 1:
        return 1
    if store is not None or sqlite_path(db) is not None:
        raise KiliInputError(
            f"workers={workers} needs a PostgreSQL database (--db postgresql://USER@HOST/NAME): "
            "a SQLite file is written by one process. Use one worker with SQLite."
        )
    return workers
