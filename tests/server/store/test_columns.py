"""SELECT lists declared once: field names carry the columns, not positions."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from aiokili.server.store.columns import Columns, insert_sql


@dataclass(frozen=True)
class Thing:
    id: str
    done: bool
    size: int
    note: str | None = None


def test_rows_are_read_by_name_and_converted() -> None:
    c = sqlite3.connect(":memory:")
    c.execute(
        "CREATE TABLE things (seq INTEGER PRIMARY KEY, note TEXT, size INT, done INT, id TEXT)"
    )
    columns = Columns.named(Thing, "t", convert={"done": bool})
    c.executemany(insert_sql("things", columns.names), [vars(Thing("a", True, 3, "x"))])
    row = c.execute(f"SELECT {columns.sql}, t.seq FROM things t").fetchone()
    assert columns.row(row) == Thing("a", True, 3, "x")  # the trailing seq is ignored
    assert columns.row(row).done is True


def test_columns_out_of_step_with_the_row_fail_at_once() -> None:
    with pytest.raises(TypeError, match="must be its fields, in order: id, done, size, note"):
        Columns(Thing, {"id": "t.id", "size": "t.size", "done": "t.done"})
    with pytest.raises(TypeError, match="in order"):
        Columns(Thing, {"id": "t.id", "done": "t.done", "sise": "t.size"})
