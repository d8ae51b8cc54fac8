"""Writes to existing assets: property updates, deletions, and the legacy workflow's
review and send-back actions.

``updatePropertiesInAssets`` (metadata, content, marks, honeypot, consensus use,
assignees, resolutions, external ids unique per project), ``deleteAssets`` (cascading
to labels, issues and uploaded files), ``addAssetsToReview`` and
``sendAssetsBackToQueue`` (statuses, the current step, labels flagged as sent back).

Actions answer an ``AssetActionOutcome`` naming every asset given exactly once:
``succeeded`` (in the state asked for), ``declined`` (the action does not apply to it,
e.g. an unlabelled asset to review), ``failed`` (its write failed).

Legacy (V1) workflow, as the platform runs it::

    TODO --label--> LABELED --add to review--> TO_REVIEW --review label--> REVIEWED
      ^               |  ^----------- send back: ONGOING (labels flagged) ---|
      '- nothing to send back (declined)

Every status change goes through ``steps.transition``, which writes the asset's current
step (``Labeling`` TO_DO / REWORK / DONE, then ``Review`` TO_DO / DONE) with its status;
assets of legacy V1 projects have their step derived from the status.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import json_input
from ..errors import ServerError
from ..live import events
from . import access, steps, workflow_state
from . import marks as label_marks
from .cascade import delete_assets
from .conn import Conn
from .db import Database, chunks, marks, now
from .filters import asset_sql

_REVIEWABLE = {"LABELED", "REVIEWED", "TO_REVIEW"}
_LABELS_KEPT = ("DEFAULT", "REVIEW")  # the label types a send-back flags
# AssetData key -> asset_properties column (workflow_state.py)
_PROPERTIES = {
    "isUsedForConsensus": "is_used_for_consensus",
    "resolution": "resolution",
    "pageResolutions": "page_resolutions",
}
_TEMP = "\x01aiokili-renaming:"  # external ids during a rename (the unique index holds throughout)


class WorkflowRepository:
    """The asset updates and the legacy workflow's actions on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ updates

    def update(
        self, wheres: Sequence[Mapping[str, Any]], data: Sequence[Mapping[str, Any]]
    ) -> list[str]:
        """Apply ``data[i]`` to asset ``wheres[i].id``; all or nothing. Return the ids."""
        ids = _asset_ids(wheres, data)
        checked = [_check_data(i, d) for i, d in enumerate(data)]
        at = now()
        with self.db.write() as c:
            found = _projects_of(c, ids)
            assignees = [_user_ids(c, i, d) for i, d in enumerate(checked)]
            _consensus_on_legacy_only(c, ids, checked, found)
            self._rename(c, ids, checked, found)
            for asset_id, d, users in zip(ids, checked, assignees, strict=True):
                _write_fields(c, asset_id, d, at)
                if users is not None:
                    _write_assignees(c, asset_id, users)
                workflow_state.write_properties(
                    c, asset_id, {col: d[k] for k, col in _PROPERTIES.items() if k in d}
                )
            label_marks.refresh(
                c, [a for a, d in zip(ids, checked, strict=True) if "isUsedForConsensus" in d]
            )
        return ids

    def _rename(
        self,
        c: Conn,
        ids: Sequence[str],
        data: Sequence[Mapping[str, Any]],
        projects: Mapping[str, str],
    ) -> None:
        """Give the assets their new external ids (unique per project), or refuse them all."""
        renames = {a: d["externalId"] for a, d in zip(ids, data, strict=True) if "externalId" in d}
        if not renames:
            return
        clashes: list[str] = []
        claimed: dict[tuple[str, str], str] = {}
        for index, (asset_id, new) in enumerate(
            zip(ids, (d.get("externalId") for d in data), strict=True)
        ):
            if new is None:
                continue
            key = (projects[asset_id], new)
            if key in claimed:
                clashes.append(
                    f'data[{index}].externalId "{new}" is also given to asset "{claimed[key]}"'
                )
                continue
            claimed[key] = asset_id
            owner = c.execute(
                "SELECT id FROM assets WHERE project_id = ? AND external_id = ?", key
            ).fetchone()
            if owner is not None and owner[0] != asset_id and owner[0] not in renames:
                clashes.append(
                    f'data[{index}].externalId "{new}" (asset "{asset_id}") is already '
                    f'the external id of asset "{owner[0]}" in project "{key[0]}"'
                )
        if clashes:
            raise ServerError(
                "; ".join(clashes[:5]) + ". External ids are unique in a project: "
                "nothing was updated."
            )
        c.executemany(
            "UPDATE assets SET external_id = ? WHERE id = ?", [(_TEMP + a, a) for a in renames]
        )
        c.executemany(
            "UPDATE assets SET external_id = ? WHERE id = ?",
            [(new, a) for a, new in renames.items()],
        )

    # ------------------------------------------------------------------ actions

    def targets(self, where: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
        """The ids asked for, and the ``(id, external_id, status)`` of those that exist."""
        given = [where["id"]] if where.get("id") else list(where.get("idIn") or [])
        if not given:
            raise ServerError("where.idIn is required: give the ids of the assets (at most 1000).")
        q = asset_sql(dict(where))
        access.scope(q, "a.project_id")  # another organization's asset: as if absent
        with self.db.read() as c:
            rows = c.execute(
                f"SELECT a.id, a.external_id, a.status FROM assets a WHERE {q.sql}", q.args
            ).fetchall()
        return list(dict.fromkeys(given)), rows

    def delete(self, where: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Delete the assets (cascading); the outcome and the keys of their uploaded files."""
        given, _ = self.targets(where)
        q = asset_sql(dict(where))
        access.scope(q, "a.project_id")  # another organization's asset: as if absent
        with self.db.write() as c:
            rows = c.execute(
                f"SELECT a.id, a.external_id, a.content, a.json_content FROM assets a"
                f" WHERE {q.sql}",
                q.args,
            ).fetchall()
            ids = [r[0] for r in rows]
            keys = [k for r in rows for k in (_file_key(r[2]), _file_key(r[3])) if k]
            _cascade(c, ids, keys)
        external = {r[0]: r[1] for r in rows}
        # an asset already gone is in the state asked for
        return _outcome([(i, external.get(i)) for i in given], [], []), keys

    def to_review(self, where: Mapping[str, Any]) -> dict[str, Any]:
        given, rows = self.targets(where)
        found = {r[0]: r for r in rows}
        move = [r[0] for r in rows if r[2] in _REVIEWABLE - {"TO_REVIEW"}]
        at = now()
        with self.db.write() as c:
            steps.transition(c, move, "to_review", at, only_from=("LABELED", "REVIEWED"))
        ok = [i for i in given if i in found and found[i][2] in _REVIEWABLE]
        # unlabelled (TODO), being labelled (ONGOING) or unknown: the action does not apply
        no = [i for i in given if i not in ok]
        return _outcome(
            [(i, found[i][1]) for i in ok],
            [(i, found[i][1] if i in found else None) for i in no],
            [],
        )

    def back_to_queue(self, where: Mapping[str, Any]) -> dict[str, Any]:
        given, rows = self.targets(where)
        found = {r[0]: r for r in rows}
        ok = [i for i in given if i in found and found[i][2] != "TODO"]
        at = now()
        with self.db.write() as c:
            labels: list[str] = []
            for part in chunks(ok):
                sql = (
                    f"SELECT id FROM labels WHERE asset_id IN ({marks(len(part))}) "
                    f"AND label_type IN ({marks(len(_LABELS_KEPT))})"
                )
                labels += [r[0] for r in c.execute(sql, [*part, *_LABELS_KEPT])]
            steps.transition(c, ok, "send_back", at, extra="skipped = 0")
            events.record(c, events.SENT_BACK, ok)
            c.executemany(
                "INSERT INTO sent_back_assets VALUES (?) ON CONFLICT DO NOTHING", [(i,) for i in ok]
            )
            c.executemany(
                "INSERT INTO sent_back_labels VALUES (?) ON CONFLICT DO NOTHING",
                [(i,) for i in labels],
            )
        # nothing to send back from an asset still to be labelled, or unknown
        no = [i for i in given if i not in set(ok)]
        return _outcome(
            [(i, found[i][1]) for i in ok],
            [(i, found[i][1] if i in found else None) for i in no],
            [],
        )


# AssetData key -> assets column (externalId is written by _rename)
_ASSET_FIELDS = {
    "priority": "priority",
    "jsonMetadata": "json_metadata",
    "consensusMark": "consensus_mark",
    "honeypotMark": "honeypot_mark",
    "content": "content",
    "jsonContent": "json_content",
    "isHoneypot": "is_honeypot",
}


def _asset_ids(wheres: Sequence[Mapping[str, Any]], data: Sequence[Mapping[str, Any]]) -> list[str]:
    """The asset of each update: ``wheres[i]`` is ``{id}``, one per data item, each once."""
    if len(wheres) != len(data):
        raise ServerError(
            f"where has {len(wheres)} items but data has {len(data)}: give one data item per asset."
        )
    ids = []
    for i, where in enumerate(wheres):
        if not where.get("id") or set(k for k, v in where.items() if v is not None) != {"id"}:
            raise ServerError(f"where[{i}] must be {{id: <asset id>}}.")
        ids.append(str(where["id"]))
    if len(set(ids)) != len(ids):
        dup = sorted(i for i, n in Counter(ids).items() if n > 1)
        raise ServerError(f"where names asset(s) {dup[:5]} more than once: one update each.")
    return ids


def _check_data(index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The given (non-null) keys of ``data[index]``, checked."""
    d = {k: v for k, v in data.items() if v is not None}
    name = f"data[{index}]"
    if "externalId" in d and not str(d["externalId"]).strip():
        raise ServerError(f"{name}.externalId is empty: give a non-empty external id.")
    if "jsonMetadata" in d:
        try:
            parsed = json_input.parse(d["jsonMetadata"])
        except json_input.JSONInputError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ServerError(
                f"{name}.jsonMetadata must be the JSON text of an object, got "
                f"{str(d['jsonMetadata'])[:80]!r}."
            )
    for key in ("consensusMark", "honeypotMark"):
        if key in d and not (math.isfinite(d[key]) and 0 <= d[key] <= 1):
            raise ServerError(f"{name}.{key} must be between 0 and 1, got {d[key]}.")
    if "isHoneypot" in d:
        d["isHoneypot"] = int(d["isHoneypot"])
    if "isUsedForConsensus" in d:
        d["isUsedForConsensus"] = bool(d["isUsedForConsensus"])
    sizes = [d.get("resolution"), *(d.get("pageResolutions") or [])]
    for size in (s for s in sizes if s is not None):
        if not (size["width"] > 0 and size["height"] > 0):
            raise ServerError(f"{name}: resolutions need a width and height > 0, got {size}.")
    if "pageResolutions" in d:
        d["pageResolutions"] = sorted(
            (dict(p) for p in d["pageResolutions"]), key=lambda p: p["pageNumber"]
        )
    if "resolution" in d:
        d["resolution"] = dict(d["resolution"])
    return d


def _consensus_on_legacy_only(
    c: Conn,
    ids: Sequence[str],
    data: Sequence[Mapping[str, Any]],
    projects: Mapping[str, str],
) -> None:
    """``isUsedForConsensus`` is for legacy (V1) projects: on a project with workflow steps
    the platform answers ``[deprecated]`` naming ``setAssetConsensus``."""
    asked = sorted(
        {projects[a] for a, d in zip(ids, data, strict=True) if "isUsedForConsensus" in d}
    )
    for project_id in asked:
        if c.execute("SELECT 1 FROM project_steps WHERE project_id = ?", (project_id,)).fetchone():
            raise ServerError(
                "[deprecated] `updatePropertiesInAssets` no longer sets isUsedForConsensus on a "
                f'project with workflow steps (project "{project_id}"): use `setAssetConsensus`, '
                "one asset at a time. Nothing was updated."
            )


def _user_ids(c: Conn, index: int, data: Mapping[str, Any]) -> list[str] | None:
    """The users to assign (``toBeLabeledBy``, emails or ids), ``[]`` to reset, None: keep."""
    given = data.get("toBeLabeledBy")
    if given is None:
        return [] if data.get("shouldResetToBeLabeledBy") else None
    found: list[str] = []
    for who in given:
        row = c.execute("SELECT id FROM users WHERE id = ? OR email = ?", (who, who)).fetchone()
        if row is None:
            raise ServerError(
                f'data[{index}].toBeLabeledBy: no user "{who}". Give the emails of '
                "users of the organization. Nothing was updated.",
                "NOT_FOUND",
            )
        found.append(row[0])
    return list(dict.fromkeys(found))


def _write_fields(c: Conn, asset_id: str, data: Mapping[str, Any], at: str) -> None:
    """Write the given columns of the ``assets`` row (external ids aside), and its update time."""
    sets = {col: data[key] for key, col in _ASSET_FIELDS.items() if key in data}
    sets["updated_at"] = at
    c.execute(
        f"UPDATE assets SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
        [*sets.values(), asset_id],
    )


def _write_assignees(c: Conn, asset_id: str, users: Sequence[str]) -> None:
    c.execute("DELETE FROM asset_assignees WHERE asset_id = ?", (asset_id,))
    c.executemany("INSERT INTO asset_assignees VALUES (?, ?)", [(asset_id, u) for u in users])


def _projects_of(c: Conn, ids: Sequence[str]) -> dict[str, str]:
    """The project of each asset; refuse all if one is unknown."""
    found: dict[str, str] = {}
    for part in chunks(list(ids)):
        sql = f"SELECT id, project_id FROM assets WHERE id IN ({marks(len(part))})"
        found.update(c.execute(sql, list(part)).fetchall())
    missing = [i for i in ids if i not in found]
    if missing:
        raise ServerError(
            f"{len(missing)} asset(s) not found: "
            f"{', '.join(map(repr, missing[:5]))}. Nothing was updated.",
            "NOT_FOUND",
        )
    return found


def _file_key(stored: str | None) -> str | None:
    """The object key of content stored as one of our upload URLs."""
    if not stored or "/files?" not in stored:
        return None
    key = (parse_qs(urlsplit(stored).query).get("path") or [""])[0]
    return key if key.startswith("uploads/") else None


def _cascade(c: Conn, ids: Sequence[str], keys: Sequence[str]) -> None:
    """Delete assets and what hangs off them: labels, issues, workflow rows, uploaded files."""
    for part in chunks(list(ids)):
        delete_assets(c, f"id IN ({marks(len(part))})", [list(part)])
    for part in chunks(list(keys)):  # the blobs go once this has committed
        c.execute(f"DELETE FROM files WHERE key IN ({marks(len(part))})", list(part))


def _outcome(
    succeeded: Sequence[tuple[str, str | None]],
    declined: Sequence[tuple[str, str | None]],
    failed: Sequence[tuple[str, str | None, str]],
) -> dict[str, Any]:
    return {
        "succeeded": [{"assetId": a, "externalId": e} for a, e in succeeded],
        "declined": [{"assetId": a, "externalId": e} for a, e in declined],
        "failed": [{"assetId": a, "externalId": e, "details": d} for a, e, d in failed],
    }
