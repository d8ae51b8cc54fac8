"""What ``aiokili labels import`` reads: a JSON array or a JSONL file of labels, each with
``json_response`` and ``external_id`` or ``asset_id``, checked before any request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._common import USAGE, fail


@dataclass(frozen=True)
class LabelRow:
    """One label of the file."""

    where: str  # "label 3", for messages
    asset_key: str  # its asset's external id, or asset id (the same kind for every row)
    json_response: dict[str, Any]


@dataclass(frozen=True)
class LabelFile:
    """The labels of a file, and which kind of asset key they all use."""

    rows: list[LabelRow]
    by_external_id: bool

    @property
    def key_name(self) -> str:
        return "external id" if self.by_external_id else "asset id"

    @property
    def key_field(self) -> str:
        return "external_id" if self.by_external_id else "asset_id"


def read_labels(path: Path) -> LabelFile:
    """The labels of ``path``; a mistake exits 2 naming the label."""
    data = _load(path)
    rows: list[LabelRow] = []
    for i, row in enumerate(data, 1):
        if not isinstance(row, dict) or not isinstance(row.get("json_response"), dict):
            fail(
                USAGE,
                f"FILE {path}: label {i} has no json_response object.",
                'Each label: {"external_id" or "asset_id": ..., "json_response": {...}}',
            )
        if bool(row.get("external_id")) == bool(row.get("asset_id")):
            fail(USAGE, f"FILE {path}: label {i} needs exactly one of external_id, asset_id.")
        key = row.get("external_id") or row.get("asset_id")
        rows.append(LabelRow(f"label {i}", str(key), row["json_response"]))
    if not rows:
        fail(USAGE, f"FILE {path} has no labels.")
    kinds = {bool(row.get("external_id")) for row in data}
    if len(kinds) > 1:
        fail(USAGE, f"FILE {path}: use external_id for every label, or asset_id for every one.")
    return LabelFile(rows, by_external_id=kinds == {True})


def _load(path: Path) -> list[Any]:
    """The file's JSON array, or its JSONL lines (blank lines skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(USAGE, f"FILE {path}: cannot read it ({exc.strerror}).")
    except UnicodeDecodeError as exc:
        fail(USAGE, f"FILE {path}: not UTF-8 text ({exc.reason}).")
    rows: Any
    try:
        if text.lstrip().startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        fail(
            USAGE,
            f"FILE {path}: not JSON or JSONL ({exc}).",
            'One object per line: {"external_id": "a", "json_response": {...}}',
        )
    if not isinstance(rows, list):
        fail(USAGE, f"FILE {path}: expected a list of labels.")
    return rows
