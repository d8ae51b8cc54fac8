"""What ``projects list`` and ``assets list`` share: ``--fields``, ``--first``, and items
as JSON (streamed) or as a table."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterable, Sequence
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

Fields = Annotated[
    list[str] | None,
    typer.Option(
        "--fields",
        "-f",
        show_default=False,
        help="Fields to fetch and show, comma-separated or repeated; dotted paths reach "
        "nested ones (e.g. -f id,externalId -f labels.author.email).",
    ),
]
First = Annotated[
    int | None,
    typer.Option(
        "--first", "-n", min=0, show_default=False, help="At most N items (default: all)."
    ),
]


def split_fields(values: Sequence[str] | None) -> list[str] | None:
    """``-f a,b -f c`` -> ``["a", "b", "c"]`` (None when not given)."""
    if not values:
        return None
    fields = [f.strip() for value in values for f in value.split(",") if f.strip()]
    return list(dict.fromkeys(fields)) or None


def dump(item: BaseModel) -> dict[str, Any]:
    """The item as JSON-ready data: only the fields that were fetched, API (camelCase) names."""
    data: dict[str, Any] = item.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


async def stream_json(items: AsyncIterable[BaseModel]) -> int:
    """Write the items as one JSON array on stdout, one item at a time (memory stays flat
    however many there are); how many were written."""
    count = 0
    write = sys.stdout.write
    write("[")
    async for item in items:
        write(("," if count else "") + "\n" + json.dumps(dump(item), ensure_ascii=False))
        count += 1
    write("\n]\n" if count else "]\n")
    sys.stdout.flush()
    return count


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of dumped data; lists map over their items."""
    for key in path.split("."):
        if isinstance(data, list):
            return [value_at(item, key) for item in data]
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def cell(value: Any, width: int = 60) -> str:
    """A table cell: text as is, the rest as compact JSON, cut at ``width`` characters."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Table:
    """A rich table of ``columns`` (dotted paths) over dumped items."""
    shown = Table(title=title)
    cells = [[cell(value_at(row, column)) for column in columns] for row in rows]
    for number, column in enumerate(columns):
        widest = max([len(column), *(len(line[number]) for line in cells)])
        if column in ("id", "externalId", "title"):  # never cut: they are what users copy
            shown.add_column(column, overflow="fold", min_width=min(widest, 26))
        else:
            shown.add_column(column, overflow="ellipsis", no_wrap=True, min_width=min(widest, 8))
    for line in cells:
        shown.add_row(*line)
    return shown
