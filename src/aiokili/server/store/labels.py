"""The ``labels`` table: listing and counting by filter, writing labels, honeypot answers,
updates, deletion of predictions.

A write also records each label's category counts (for ``searchQuery``), moves its asset
through the workflow (``steps.py``) and recomputes the marks (``marks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ServerError
from . import access, admin, responses, step_work, steps
from . import marks as label_marks
from .cascade import delete_labels
from .columns import Columns, insert_sql, upsert_sql
from .conn import Conn
from .db import Database, chunks, marks, new_id, now, require_project
from .filters import Sql, category_counts, label_sql
from .paging import PageCache, read_page

if TYPE_CHECKING:
    pass

_DELETABLE = ("PREDICTION", "INFERENCE")


@dataclass(frozen=True)
class LabelRow:
    id: str
    project_id: str
    asset_id: str
    author_id: str
    label_type: str
    json_response: str
    model_name: str | None
    seconds_to_label: float | None
    created_at: str
    updated_at: str
    consensus_mark: float | None = None
    honeypot_mark: float | None = None


COLUMNS = Columns(
    LabelRow,
    {
        "id": "l.id",
        "project_id": "l.project_id",
        "asset_id": "l.asset_id",
        "author_id": "l.author_id",
        "label_type": "l.label_type",
        "json_response": "l.json_response",
        "model_name": "l.model_name",
        "seconds_to_label": "l.seconds_to_label",
        "created_at": "l.created_at",
        "updated_at": "l.updated_at",
        "consensus_mark": "m.consensus_mark",
        "honeypot_mark": "m.honeypot_mark",
    },
)
FROM = "labels l LEFT JOIN label_marks m ON m.label_id = l.id"  # what COLUMNS read
_MARKS = ("consensus_mark", "honeypot_mark")  # in label_marks (marks.py), not in labels
_INSERTED = [name for name in COLUMNS.names if name not in _MARKS]


@dataclass(frozen=True)
class NewLabel:
    asset_id: str
    author_id: str
    label_type: str
    json_response: str
    model_name: str | None = None
    seconds_to_label: float | None = None


class LabelRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pages = PageCache(lambda: db.generation)

    def _where(self, where: Mapping[str, Any]) -> Sql:
        q = label_sql(dict(where))
        project_id = (where.get("project") or {}).get("id")
        project_id = project_id or ((where.get("asset") or {}).get("project") or {}).get("id")
        with self.db.read() as c:
            require_project(c, project_id)
            access.limit_labels(c, q, "l", project_id)
        return q

    def page(self, where: Mapping[str, Any], skip: int, first: int | None) -> list[LabelRow]:
        q = self._where(where)
        with self.db.read() as c:
            rows = read_page(
                c, self.pages, f"SELECT {COLUMNS.sql}, l.seq FROM {FROM}", q, "l.seq", skip, first
            )
        return [COLUMNS.row(r) for r in rows]

    def count(self, where: Mapping[str, Any]) -> int:
        q = self._where(where)
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM labels l WHERE {q.sql}", q.args).fetchone()[0]
            )

    def of_assets(self, asset_ids: Sequence[str]) -> dict[str, list[LabelRow]]:
        out: dict[str, list[LabelRow]] = {i: [] for i in asset_ids}
        with self.db.read() as c:
            for part in chunks(asset_ids):
                q = Sql()
                q.add(f"l.asset_id IN ({marks(len(part))})", *part)
                access.limit_labels(c, q, "l")
                sql = f"SELECT {COLUMNS.sql} FROM {FROM} WHERE {q.sql} ORDER BY l.seq"
                for r in c.execute(sql, q.args):
                    out[r[2]].append(COLUMNS.row(r))
        return out

    def skip(self, asset_id: str) -> None:
        """Mark the asset skipped (step status SKIPPED)."""
        with self.db.write() as c:
            steps.transition(c, [asset_id], "skip", now(), extra="skipped = 1")

    def append(
        self,
        project_id: str | None,
        labels: Sequence[NewLabel],
        *,
        overwrite: bool = False,
        set_status: bool = True,
        step_id: str | None = None,
        arg: str = "labelsData[{}].jsonResponse",
    ) -> list[LabelRow]:
        """Write labels (one transaction); refuse all if an asset is missing or a label does
        not match its project's interface (``responses.py``; ``arg``, formatted with the
        label's index, names it).

        DEFAULT / REVIEW labels are made at a step, which the caller must be allowed to
        work at, and move their asset on from it (``step_work.py``; unless not
        ``set_status``: a honeypot answer leaves the asset in the queue). ``step_id``: the
        step the labels are made at (checked).
        """
        answers = [responses.parse(lb.json_response, arg.format(i)) for i, lb in enumerate(labels)]
        with self.db.write() as c:
            return _append(c, project_id, labels, answers, overwrite, set_status, step_id, arg)

    def create_honeypot(self, label: NewLabel) -> LabelRow:
        """Write the REVIEW label that becomes the asset's honeypot answer and mark the
        asset, in one transaction (all or nothing)."""
        arg = "data.jsonResponse"
        answers = [responses.parse(label.json_response, arg)]
        with self.db.write() as c:
            row = _append(c, None, [label], answers, False, False, None, arg)[0]
            c.execute(
                upsert_sql("honeypots", ("asset_id", "label_id"), ("asset_id",)),
                (row.asset_id, row.id),
            )
            c.execute("UPDATE assets SET is_honeypot = 1 WHERE id = ?", (row.asset_id,))
            label_marks.refresh(c, [row.asset_id])
        return row

    def update(self, label_id: str, changes: Mapping[str, Any]) -> LabelRow:
        """Change a label's jsonResponse / modelName / secondsToLabel; its marks follow."""
        at = now()
        with self.db.write() as c:
            found = c.execute(
                "SELECT asset_id, project_id FROM labels WHERE id = ?", (label_id,)
            ).fetchone()
            if found is None:
                raise ServerError.not_found("Label", label_id)
            if "json_response" in changes:
                answer = responses.parse(changes["json_response"], "data.jsonResponse")
                responses.check(c, [found[1]], [answer], lambda _: "data.jsonResponse")
                counts = category_counts(answer)
                c.execute("DELETE FROM label_categories WHERE label_id = ?", (label_id,))
                _insert_categories(c, [label_id], [counts])
            for column, value in changes.items():  # column names come from the resolver
                c.execute(f"UPDATE labels SET {column} = ? WHERE id = ?", (value, label_id))
            c.execute("UPDATE labels SET updated_at = ? WHERE id = ?", (at, label_id))
            label_marks.refresh(c, [found[0]])
            row = c.execute(f"SELECT {COLUMNS.sql} FROM {FROM} WHERE l.id = ?", (label_id,))
            return COLUMNS.row(row.fetchone())

    def delete(self, ids: Sequence[str]) -> list[str]:
        """Delete PREDICTION / INFERENCE labels; refuse all if one is unknown or of another type."""
        found: dict[str, tuple[str, str]] = {}
        with self.db.write() as c:
            for part in chunks(list(dict.fromkeys(ids))):
                sql = (
                    f"SELECT id, label_type, asset_id FROM labels WHERE id IN ({marks(len(part))})"
                )
                found.update((r[0], (r[1], r[2])) for r in c.execute(sql, list(part)))
            unknown = [i for i in dict.fromkeys(ids) if i not in found]
            if unknown:
                raise ServerError(
                    f"{len(unknown)} label(s) not found: "
                    f"{', '.join(map(repr, unknown[:5]))}. Nothing was deleted.",
                    "NOT_FOUND",
                )
            kept = [f"{i!r} ({t})" for i, (t, _) in found.items() if t not in _DELETABLE]
            if kept:
                raise ServerError(
                    f"Only PREDICTION and INFERENCE labels can be deleted; "
                    f"{len(kept)} label(s) are not: {', '.join(kept[:5])}. "
                    "Nothing was deleted."
                )
            delete_labels(c, "id = ?", [(i,) for i in found])
        return [i for i in dict.fromkeys(ids) if i in found]  # in the order asked


def _projects(c: Conn, project_id: str | None, asset_ids: Sequence[str]) -> dict[str, str]:
    """The project of each asset; refuse all if one is unknown or outside ``project_id``."""
    projects: dict[str, str] = {}
    for part in chunks(list(set(asset_ids))):
        sql = f"SELECT id, project_id FROM assets WHERE id IN ({marks(len(part))})"
        projects.update(c.execute(sql, list(part)).fetchall())
    missing = [a for a in asset_ids if a not in projects or project_id not in (None, projects[a])]
    if missing:
        where = f" in project {project_id!r}" if project_id else ""
        raise ServerError(
            f"{len(missing)} asset(s) not found{where}: "
            f"{', '.join(repr(m) for m in missing[:5])}. Nothing was written.",
            "NOT_FOUND",
        )
    return projects


def _insert_categories(
    c: Conn, label_ids: Sequence[str], counts: Sequence[Mapping[tuple[str, str], int]]
) -> None:
    """Record the category counts of each label (``searchQuery`` reads them)."""
    c.executemany(
        "INSERT INTO label_categories VALUES (?,?,?,?)",
        [
            (label_id, job, cat, n)
            for label_id, found in zip(label_ids, counts, strict=True)
            for (job, cat), n in found.items()
        ],
    )


def _append(
    c: Conn,
    project_id: str | None,
    labels: Sequence[NewLabel],
    answers: Sequence[Any],
    overwrite: bool,
    set_status: bool,
    step_id: str | None,
    arg: str,
) -> list[LabelRow]:
    """``LabelRepository.append`` within the transaction ``c``."""
    counts = [category_counts(answer) for answer in answers]
    at = now()
    projects = _projects(c, project_id, [lb.asset_id for lb in labels])
    admin.refuse_locked(c, [(lb.asset_id, lb.author_id) for lb in labels], labels[0].label_type)
    responses.check(c, [projects[lb.asset_id] for lb in labels], answers, arg.format)
    if step_id is not None:
        steps.step_type(c, step_id, sorted(set(projects.values())))
    rows = [
        LabelRow(
            id=new_id(),
            project_id=projects[lb.asset_id],
            asset_id=lb.asset_id,
            author_id=lb.author_id,
            label_type=lb.label_type,
            json_response=lb.json_response,
            model_name=lb.model_name,
            seconds_to_label=lb.seconds_to_label,
            created_at=at,
            updated_at=at,
        )
        for lb in labels
    ]
    if overwrite and labels[0].label_type in _DELETABLE:
        replaced = [(r.asset_id, r.label_type, r.model_name) for r in rows]
        delete_labels(c, "asset_id = ? AND label_type = ? AND model_name IS ?", replaced)
    c.executemany(insert_sql("labels", _INSERTED), [vars(r) for r in rows])
    _insert_categories(c, [r.id for r in rows], counts)
    work = [step_work.Work(r.id, r.asset_id, r.author_id, r.project_id) for r in rows]
    step_work.record(c, work, labels[0].label_type, step_id, at, move=set_status)
    if labels[0].label_type in label_marks.MARKED_TYPES:
        label_marks.refresh(c, [r.asset_id for r in rows])
    return rows
