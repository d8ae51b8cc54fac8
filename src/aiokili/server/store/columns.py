"""SELECT lists declared once, as ``row field -> SQL expression``, and the rows they read."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


class Columns(Generic[R]):
    """The SELECT list of the row dataclass ``row``: ``{field: SQL expression}``.

    The mapping names ``row``'s fields in their order (checked here, so a field added to
    one and not the other fails at import), which lets :attr:`row` build rows
    positionally, at the speed of ``Row(*values)``. ``convert`` maps a field to what turns
    its SQLite value into the field's type (e.g. ``bool`` for a 0/1 column).
    """

    def __init__(
        self,
        row: type[R],
        columns: Mapping[str, str],
        *,
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        names = [f.name for f in dataclasses.fields(row)]
        if list(columns) != names[: len(columns)]:
            raise TypeError(
                f"the columns of {row.__name__} must be its fields, in order: "
                f"{', '.join(names)} (got {', '.join(columns)})"
            )
        self.names = tuple(columns)
        self.sql = ", ".join(columns.values())
        """The expressions, comma-separated, to follow ``SELECT``."""
        self.row = _reader(
            row, len(columns), [(names.index(f), fn) for f, fn in (convert or {}).items()]
        )
        """The row of a result that starts with these columns (any after them ignored)."""

    @classmethod
    def named(
        cls,
        row: type[R],
        alias: str,
        *,
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> Columns[R]:
        """The columns of a table whose column names are ``row``'s field names."""
        return cls(
            row, {f.name: f"{alias}.{f.name}" for f in dataclasses.fields(row)}, convert=convert
        )


def insert_sql(table: str, names: Sequence[str]) -> str:
    """``INSERT INTO table (a, b) VALUES (:a, :b)``, to pass rows by name (``vars(row)``)."""
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"


def upsert_sql(table: str, names: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT INTO table (a, b) VALUES (?, ?)`` replacing the row with the same ``key``
    (SQLite's ``INSERT OR REPLACE``, spelt as SQLite and PostgreSQL both take it)."""
    update = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
    )


def _reader(
    make: type[R], size: int, convert: Sequence[tuple[int, Callable[[Any], Any]]]
) -> Callable[[Sequence[Any]], R]:
    """``values -> make(*values[:size])`` with the conversions (a closure: rows are built on
    every listing's hot path)."""
    if not convert:
        return lambda values: make(*values[:size])

    def read(values: Sequence[Any]) -> R:
        fields = list(values[:size])
        for index, fn in convert:
            fields[index] = fn(fields[index])
        return make(*fields)

    return read
