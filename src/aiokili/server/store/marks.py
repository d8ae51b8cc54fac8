"""Honeypot and consensus marks of labels and assets, recomputed when an asset's labels change.

**Agreement** of two labels (a number in [0, 1]): each label is reduced, job by job, to a
set of answer tokens: the categories chosen (``JOB/CAT``, nested children as
``JOB/CAT>CHILD/CAT2``), one token per annotation category (``JOB/CAT#2`` for the second
annotation of ``CAT``, so counts matter; geometry is ignored: no IoU) and the transcribed text
(trimmed, case-folded). The agreement is the mean, over the jobs either label answers, of the
Jaccard index of the two token sets; two labels answering nothing agree fully (1.0).

**Honeypot mark** of a DEFAULT / REVIEW label on a honeypot asset: its agreement with the
asset's honeypot answer (the REVIEW label ``createHoneypot`` wrote). The asset's honeypot
mark is the mean of the marks of each author's latest label.

**Consensus mark** of a DEFAULT / REVIEW label, when at least two authors labelled the asset:
its mean agreement with the latest label of each other author. The asset's consensus mark
is the mean agreement over the pairs of the authors' latest labels. An asset taken out of
consensus (``isUsedForConsensus`` false: ``setAssetConsensus``, or ``updatePropertiesInAssets``
on a legacy project) has no consensus marks, nor have its labels.

Predictions, inferences and autosaves get no marks; ``NULL`` (``None``) when not computable.
Marks live in ``label_marks`` / ``asset_marks``; :func:`refresh` recomputes them for the
assets a write touched, in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

from .columns import upsert_sql
from .conn import Conn
from .db import chunks, marks

MARKED_TYPES = ("DEFAULT", "REVIEW")


def tokens(response: Any) -> dict[str, set[str]]:
    """Job name -> answer tokens of a decoded jsonResponse (see the module docstring)."""
    out: dict[str, set[str]] = {}
    if isinstance(response, dict):
        for job, value in response.items():
            found: set[str] = set()
            _job_tokens(str(job), value, found)
            if found:
                out[str(job)] = found
    return out


def _categories(value: Any) -> list[str]:
    cats = value.get("categories") if isinstance(value, dict) else None
    if not isinstance(cats, list):
        return []
    return [c["name"] for c in cats if isinstance(c, dict) and isinstance(c.get("name"), str)]


def _children(prefix: str, holder: Any, found: set[str]) -> None:
    children = holder.get("children") if isinstance(holder, dict) else None
    if isinstance(children, dict):
        for child, value in children.items():
            _job_tokens(f"{prefix}>{child}", value, found)


def _job_tokens(job: str, value: Any, found: set[str]) -> None:
    if not isinstance(value, dict):
        return
    for category in value.get("categories") or []:
        if isinstance(category, dict) and isinstance(category.get("name"), str):
            found.add(f"{job}/{category['name']}")
            _children(f"{job}/{category['name']}", category, found)
    text = value.get("text")
    if isinstance(text, str) and text.strip():
        found.add(f"{job}:{text.strip().casefold()}")
    seen: dict[str, int] = {}
    for annotation in value.get("annotations") or []:
        for name in _categories(annotation) or [""]:
            seen[name] = seen.get(name, 0) + 1
            found.add(f"{job}/{name}#{seen[name]}")
        _children(f"{job}#", annotation, found)


def agreement(a: dict[str, set[str]], b: dict[str, set[str]]) -> float:
    """Mean Jaccard index of the token sets over the jobs either label answers."""
    jobs = set(a) | set(b)
    if not jobs:
        return 1.0
    total = 0.0
    for job in jobs:
        x, y = a.get(job, set()), b.get(job, set())
        total += len(x & y) / len(x | y)
    return total / len(jobs)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _decode(text: str) -> dict[str, set[str]]:
    try:
        return tokens(json.loads(text))
    except (TypeError, ValueError):
        return {}


def refresh(c: Conn, asset_ids: Iterable[str]) -> None:
    """Recompute the marks of ``asset_ids`` and their labels (inside the caller's transaction)."""
    ids = list(dict.fromkeys(asset_ids))
    for part in chunks(ids):
        m, args = marks(len(part)), list(part)
        c.execute(f"DELETE FROM label_marks WHERE asset_id IN ({m})", args)
        c.execute(f"DELETE FROM asset_marks WHERE asset_id IN ({m})", args)
        todo = [
            r[0]
            for r in c.execute(
                f"SELECT asset_id FROM labels WHERE asset_id IN ({m}) AND label_type IN "
                f"('DEFAULT', 'REVIEW') GROUP BY asset_id HAVING COUNT(DISTINCT author_id) > 1 "
                f"UNION SELECT asset_id FROM honeypots WHERE asset_id IN ({m})",
                args + args,
            )
        ]
        for asset_id in todo:
            _compute(c, asset_id)


def _compute(c: Conn, asset_id: str) -> None:
    reference = c.execute(
        "SELECT h.label_id, l.json_response FROM honeypots h JOIN labels l "
        "ON l.id = h.label_id WHERE h.asset_id = ?",
        (asset_id,),
    ).fetchone()
    rows = [
        (label_id, author, _decode(text))
        for label_id, author, text in c.execute(
            "SELECT id, author_id, json_response FROM labels WHERE asset_id = ? AND label_type "
            "IN ('DEFAULT', 'REVIEW') ORDER BY seq",
            (asset_id,),
        )
        if reference is None or label_id != reference[0]
    ]
    latest: dict[str, tuple[str, dict[str, set[str]]]] = {}
    for label_id, author, found in rows:
        latest[author] = (label_id, found)
    truth = _decode(reference[1]) if reference is not None else None
    excluded = c.execute(
        "SELECT 1 FROM asset_properties WHERE asset_id = ? AND is_used_for_consensus = 0",
        (asset_id,),
    ).fetchone()
    label_marks: list[tuple[str, str, float | None, float | None]] = []
    for label_id, author, found in rows:
        others = (
            [] if excluded else [agreement(found, t) for a, (_, t) in latest.items() if a != author]
        )
        honeypot = agreement(found, truth) if truth is not None else None
        label_marks.append((label_id, asset_id, _mean(others), honeypot))
    c.executemany(
        upsert_sql(
            "label_marks",
            ("label_id", "asset_id", "consensus_mark", "honeypot_mark"),
            ("label_id",),
        ),
        label_marks,
    )
    pairs = [] if excluded else [agreement(x[1], y[1]) for x, y in combinations(latest.values(), 2)]
    honeypots = [agreement(t, truth) for _, t in latest.values()] if truth is not None else []
    c.execute(
        upsert_sql("asset_marks", ("asset_id", "consensus_mark", "honeypot_mark"), ("asset_id",)),
        (asset_id, _mean(pairs), _mean(honeypots)),
    )


def asset_marks(c: Conn, asset_ids: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """Asset id -> (consensus mark, honeypot mark), for the assets that have marks."""
    out: dict[str, tuple[Any, Any]] = {}
    for part in chunks(list(asset_ids)):
        sql = (
            "SELECT asset_id, consensus_mark, honeypot_mark FROM asset_marks "
            f"WHERE asset_id IN ({marks(len(part))})"
        )
        out.update((r[0], (r[1], r[2])) for r in c.execute(sql, list(part)))
    return out
