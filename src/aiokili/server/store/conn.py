"""The connection repositories write their SQL against: SQLite's ``sqlite3.Connection`` or the
PostgreSQL store's adapter (``postgres.py``), both seen through these protocols."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

Parameters = Sequence[Any] | Mapping[str, Any]
"""``?`` parameters in order, or ``:name`` parameters by name."""


class Cursor(Protocol):
    """What repositories use of a cursor (``sqlite3.Cursor`` and the PostgreSQL one)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """A connection as repositories see it: SQLite's SQL with ``?`` parameters (the
    PostgreSQL store translates it, ``postgres.py``)."""

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> Cursor: ...


__all__ = ["Conn", "Cursor", "Parameters"]
