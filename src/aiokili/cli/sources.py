"""What ``aiokili assets import`` reads: a folder of files, a CSV or a JSONL file, as
:class:`Item` s (content, external id, metadata, and where each came from).

Every mistake is a :class:`SourceError` naming the line and the column (or key), found
before any request.

Files come from SOURCE's folder only: a symbolic link under the folder that leads out of
it, and a CSV/JSONL path naming a file outside the table's folder (``../x.jpg``,
``/etc/passwd``) are refused, unless ``allow_outside`` (``--allow-outside``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTENT_COLUMNS = ("content", "url", "text")
EXTERNAL_ID_COLUMNS = ("external_id", "externalId")
METADATA_COLUMNS = ("json_metadata", "jsonMetadata")
COLUMNS = CONTENT_COLUMNS + EXTERNAL_ID_COLUMNS + METADATA_COLUMNS
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
LINES_SUFFIXES = (".jsonl", ".ndjson")


class SourceError(ValueError):
    """A problem in SOURCE, in one line naming where it is."""


@dataclass(frozen=True)
class Item:
    """One asset to import."""

    content: str  # a URL, a local file's path, or text
    external_id: str
    metadata: dict[str, Any] | None
    where: str  # "line 3" / "file a/b.jpg", for messages
    kind: str  # "url", "file", "text" or "content" (a URL, a file or text: decided later)


OUTSIDE_FLAG = "--allow-outside"


def read_source(
    source: Path, separator: str | None = None, *, allow_outside: bool = False
) -> list[Item]:
    """The assets SOURCE describes (a folder, .csv/.tsv or .jsonl/.ndjson); files outside
    its folder only with ``allow_outside`` (see the module docstring)."""
    if source.is_dir():
        return _folder(source, allow_outside)
    if not source.is_file():
        raise SourceError(f"SOURCE {str(source)!r}: no such file or folder.")
    suffix = source.suffix.lower()
    if suffix in TABLE_SUFFIXES or (separator is not None and suffix not in LINES_SUFFIXES):
        rows = _table(source, separator or TABLE_SUFFIXES[suffix])
        return _checked(source, rows, "column", allow_outside)
    if suffix in LINES_SUFFIXES:
        return _checked(source, _lines(source), "key", allow_outside)
    raise SourceError(
        f"SOURCE {source.name!r}: expected a folder, a .csv/.tsv or a .jsonl/.ndjson file."
    )


def _outside(path: Path, folder: Path) -> Path | None:
    """Where ``path`` really is if that is outside ``folder`` (links followed), else None."""
    real, root = path.resolve(), folder.resolve()
    return None if real == root or root in real.parents else real


def _folder(folder: Path, allow_outside: bool) -> list[Item]:
    """Every file under ``folder`` (not hidden ones), external id = its relative path."""
    items = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        name = relative.as_posix()
        real = None if allow_outside else _outside(path, folder)
        if real is not None:
            raise SourceError(
                f"SOURCE folder: file {name} is a link to {str(real)!r}, outside the folder. "
                f"Remove it, or pass {OUTSIDE_FLAG} to import files outside the folder."
            )
        items.append(Item(str(path), name, None, f"file {name}", "file"))
    if not items:
        raise SourceError(f"SOURCE folder {str(folder)!r} has no files (hidden ones are skipped).")
    return items


def _decode(source: Path) -> Iterator[str]:
    try:
        with source.open(encoding="utf-8-sig", newline="") as lines:
            yield from lines
    except UnicodeDecodeError as exc:
        raise SourceError(f"{source.name}: not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise SourceError(f"{source.name}: cannot be read ({exc.strerror or exc}).") from None


def _table(source: Path, separator: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(``line N``, row) per data row; the header checked."""
    reader = csv.reader(_decode(source), delimiter=separator)
    name = source.name
    try:
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise SourceError(f"{name} is empty: it needs a header line, e.g. url,external_id.")
        unknown = [h for h in header if h not in COLUMNS]
        if unknown:
            raise SourceError(
                f"{name} line 1: unknown column {unknown[0]!r}; the columns are one of "
                f"{'/'.join(CONTENT_COLUMNS)}, external_id and (optional) json_metadata."
            )
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != len(header):
                raise SourceError(
                    f"{name} line {line}: {len(row)} value(s) for the header's "
                    f"{len(header)} column(s) ({separator.join(header)})."
                )
            yield f"line {line}", dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise SourceError(f"{name} line {reader.line_num}: not valid CSV ({exc}).") from None


def _lines(source: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``line N``, object) per non-blank line of a JSONL file."""
    for number, text in enumerate(_decode(source), 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"{source.name} line {number}: not valid JSON ({exc}).") from None
        if not isinstance(row, dict):
            raise SourceError(f"{source.name} line {number}: expected a JSON object.")
        unknown = [key for key in row if key not in COLUMNS]
        if unknown:
            raise SourceError(
                f"{source.name} line {number}: unknown key {unknown[0]!r}; the keys are one "
                f"of {'/'.join(CONTENT_COLUMNS)}, external_id and (optional) json_metadata."
            )
        yield f"line {number}", row


def _checked(
    source: Path, rows: Iterator[tuple[str, dict[str, Any]]], column: str, allow_outside: bool
) -> list[Item]:
    """Items from rows: one content column, an external id, metadata an object; external
    ids unique; relative file paths taken from the file's folder, and in it."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    name = source.name
    for where, row in rows:
        at = f"{name} {where}"
        given = [c for c in CONTENT_COLUMNS if c in row]
        if len(given) != 1:
            raise SourceError(
                f"{at}: give exactly one of the {column}s {', '.join(CONTENT_COLUMNS)} "
                f"(found {', '.join(given) or 'none'})."
            )
        kind = given[0]
        content = row[kind]
        if not isinstance(content, str) or not content.strip():
            raise SourceError(f"{at}, {column} {kind}: empty (or not a string).")
        if kind == "url" and not content.startswith(("http://", "https://")):
            raise SourceError(f"{at}, {column} url: {content[:80]!r} is not an http(s) URL.")
        if kind == "content" and not content.startswith(("http://", "https://")):
            local = Path(content).expanduser()
            local = local if local.is_absolute() else source.parent / local
            if _is_file(local):
                real = None if allow_outside else _outside(local, source.parent)
                if real is not None:
                    raise SourceError(
                        f"{at}, {column} {kind}: {content[:80]!r} is the file {str(real)!r}, "
                        f"outside the folder of {name}. Move it there, or pass {OUTSIDE_FLAG} "
                        "to import files outside that folder."
                    )
                content, kind = str(local), "file"
        external_id = _field(row, EXTERNAL_ID_COLUMNS)
        if external_id is None:
            raise SourceError(
                f"{at}: no external_id. Each asset needs one: it is how a second run knows "
                "what is already imported."
            )
        if not isinstance(external_id, str) or not external_id.strip():
            raise SourceError(f"{at}, {column} external_id: empty (or not a string).")
        if external_id in seen:
            raise SourceError(
                f"{at}, {column} external_id: {external_id!r} is already on {seen[external_id]}."
            )
        seen[external_id] = where
        metadata = _metadata(f"{at}, {column} json_metadata", _field(row, METADATA_COLUMNS))
        items.append(Item(content, external_id, metadata, at, kind))
    if not items:
        raise SourceError(f"{name} has no assets.")
    return items


def _field(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((row[n] for n in names if n in row), None)


def _metadata(at: str, value: Any) -> dict[str, Any] | None:
    """json_metadata: empty, a JSON object, or JSON text of an object."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SourceError(f"{at}: not valid JSON ({exc}).") from None
    if not isinstance(value, dict):
        raise SourceError(f'{at}: must be a JSON object, e.g. {{"split": "train"}}.')
    return value


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # text too long for a file name, NUL...
        return False
