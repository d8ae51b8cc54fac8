"""The ``issues`` table: issues and questions raised on a label (and its asset) or on an
asset; listing, counting, creation and status changes.

An issue is created OPEN; it can then be SOLVED or CANCELLED, and a solved or cancelled
issue can be reopened (OPEN). Its ``text`` is its first comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ServerError
from . import access
from .columns import Columns, insert_sql
from .conn import Conn
from .db import NO_LIMIT, Database, chunks, marks, new_id, now, require_project
from .filters import Sql, asset_sql, given

if TYPE_CHECKING:
    pass

# status -> the statuses it may move to
TRANSITIONS = {"OPEN": {"SOLVED", "CANCELLED"}, "SOLVED": {"OPEN"}, "CANCELLED": {"OPEN"}}


@dataclass(frozen=True)
class IssueRow:
    id: str
    project_id: str
    asset_id: str
    label_id: str | None
    object_mid: str | None
    type: str
    status: str
    text: str | None
    author_id: str
    created_at: str
    updated_at: str
    issue_number: int
    has_been_seen: bool


COLUMNS = Columns.named(IssueRow, "i", convert={"has_been_seen": bool})


def issue_sql(where: Mapping[str, Any], arg: str = "where") -> Sql:
    """``IssueWhere`` on ``issues i``."""
    q = Sql()
    if where.get("id") is not None:
        q.add("i.id = ?", where["id"])
    project_id = (where.get("project") or {}).get("id")
    if project_id is not None:
        q.add("i.project_id = ?", project_id)
    q.add_in("i.asset_id", where.get("assetIn"), f"{arg}.assetIn")
    if where.get("status") is not None:
        q.add("i.status = ?", where["status"])
    if where.get("type") is not None:
        q.add("i.type = ?", where["type"])
    asset = dict(where.get("asset") or {})
    if given(asset):
        aq = asset_sql(asset, "ax", f"{arg}.asset")
        if aq.parts:
            q.add(f"i.asset_id IN (SELECT ax.id FROM assets ax WHERE {aq.sql})", *aq.args)
    return q


@dataclass(frozen=True)
class NewIssue:
    label_id: str | None
    asset_id: str | None
    object_mid: str | None
    type: str
    text: str | None


class IssueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _where(self, where: Mapping[str, Any]) -> Sql:
        project_id = (where.get("project") or {}).get("id")
        with self.db.read() as c:
            require_project(c, project_id)
        q = issue_sql(where)
        if project_id is None:
            access.scope(q, "i.project_id")
        return q

    def page(self, where: Mapping[str, Any], skip: int, first: int | None) -> list[IssueRow]:
        q = self._where(where)
        sql = f"SELECT {COLUMNS.sql} FROM issues i WHERE {q.sql} ORDER BY i.seq LIMIT ? OFFSET ?"
        with self.db.read() as c:
            return [
                COLUMNS.row(r)
                for r in c.execute(sql, [*q.args, NO_LIMIT if first is None else first, skip])
            ]

    def count(self, where: Mapping[str, Any]) -> int:
        q = self._where(where)
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM issues i WHERE {q.sql}", q.args).fetchone()[0]
            )

    def create(
        self,
        project_id: str | None,
        asset_id: str | None,
        issues: Sequence[NewIssue],
        author_id: str,
    ) -> list[IssueRow]:
        """Write issues (one transaction); refuse all if a label or asset is unknown.

        ``project_id`` / ``asset_id`` come from the mutation's ``where``: each issue's
        label and asset must be inside them.
        """
        at = now()
        with self.db.write(append_only=True) as c:
            targets = _Targets.read(c, issues, project_id, asset_id)
            places = [targets.place(index, issue) for index, issue in enumerate(issues)]
            numbers = _numbers(c, [p_id for _, p_id in places])
            rows = [
                IssueRow(
                    id=new_id(),
                    project_id=p_id,
                    asset_id=a_id,
                    label_id=issue.label_id,
                    object_mid=issue.object_mid,
                    type=issue.type,
                    status="OPEN",
                    text=issue.text,
                    author_id=author_id,
                    created_at=at,
                    updated_at=at,
                    issue_number=number,
                    has_been_seen=False,
                )
                for issue, (a_id, p_id), number in zip(issues, places, numbers, strict=True)
            ]
            c.executemany(insert_sql("issues", COLUMNS.names), [vars(r) for r in rows])
        return rows

    def get(self, issue_id: str) -> IssueRow:
        with self.db.read() as c:
            r = c.execute(
                f"SELECT {COLUMNS.sql} FROM issues i WHERE i.id = ?", (issue_id,)
            ).fetchone()
        if r is None:
            raise ServerError.not_found("Issue", issue_id)
        return COLUMNS.row(r)

    def set_status(self, issue_id: str, status: str) -> IssueRow:
        with self.db.write() as c:
            current = self.get(issue_id)
            if status != current.status and status not in TRANSITIONS[current.status]:
                allowed = " or ".join(sorted(TRANSITIONS[current.status]))
                raise ServerError(
                    f'Issue "{issue_id}" is {current.status}: it can only become '
                    f"{allowed}, not {status}."
                )
            c.execute(
                "UPDATE issues SET status = ?, updated_at = ? WHERE id = ?",
                (status, now(), issue_id),
            )
        return self.get(issue_id)


@dataclass(frozen=True)
class _Targets:
    """What the issues of one ``create`` may be about: the labels and assets they name (as
    read in its transaction) and the mutation's ``where``."""

    labels: dict[str, tuple[str, str]]  # label -> (asset, project)
    assets: dict[str, str]  # asset -> project
    project_id: str | None
    asset_id: str | None

    @classmethod
    def read(
        cls,
        c: Conn,
        issues: Sequence[NewIssue],
        project_id: str | None,
        asset_id: str | None,
    ) -> _Targets:
        """Read the labels and assets the issues name; the ``where`` project must exist."""
        labels: dict[str, tuple[str, str]] = {}
        for part in chunks(list(dict.fromkeys(i.label_id for i in issues if i.label_id))):
            sql = f"SELECT id, asset_id, project_id FROM labels WHERE id IN ({marks(len(part))})"
            labels.update((r[0], (r[1], r[2])) for r in c.execute(sql, list(part)))
        assets: dict[str, str] = {}
        for part in chunks(list(dict.fromkeys(i.asset_id for i in issues if i.asset_id))):
            sql = f"SELECT id, project_id FROM assets WHERE id IN ({marks(len(part))})"
            assets.update(c.execute(sql, list(part)).fetchall())
        require_project(c, project_id)
        return cls(labels, assets, project_id, asset_id)

    def place(self, index: int, issue: NewIssue) -> tuple[str, str]:
        """The ``(asset, project)`` of ``issues[index]``, checked against the ``where``."""
        where = f"issues[{index}]"
        if issue.label_id is not None:
            found = self._of_label(where, issue.label_id, issue.asset_id)
        elif issue.asset_id is not None:
            found = self._of_asset(where, issue.asset_id)
        else:
            raise ServerError(
                f"{where} needs labelID or assetId: the label or asset the issue is about."
            )
        if self.project_id is not None and found[1] != self.project_id:
            what = f"label {issue.label_id!r}" if issue.label_id else f"asset {issue.asset_id!r}"
            raise ServerError(
                f"{where}: {what} is not in project {self.project_id!r}. Nothing was written.",
                "NOT_FOUND",
            )
        if self.asset_id is not None and found[0] != self.asset_id:
            raise ServerError(
                f"{where} is about asset {found[0]!r}, outside where.id {self.asset_id!r}."
            )
        return found

    def _of_label(self, where: str, label_id: str, asset_id: str | None) -> tuple[str, str]:
        if label_id not in self.labels:
            raise ServerError(
                f'{where}: Label "{label_id}" not found. Nothing was written.', "NOT_FOUND"
            )
        label_asset, label_project = self.labels[label_id]
        if asset_id is not None and asset_id != label_asset:
            raise ServerError(
                f"{where}: label {label_id!r} is on asset "
                f"{label_asset!r}, not on assetId {asset_id!r}."
            )
        return label_asset, label_project

    def _of_asset(self, where: str, asset_id: str) -> tuple[str, str]:
        if asset_id not in self.assets:
            raise ServerError(
                f'{where}: Asset "{asset_id}" not found. Nothing was written.', "NOT_FOUND"
            )
        return asset_id, self.assets[asset_id]


def _numbers(c: Conn, project_ids: Sequence[str]) -> list[int]:
    """The issue number of each new issue: the next ones of its project, in order."""
    last: dict[str, int] = {}
    numbers = []
    for p_id in project_ids:
        if p_id not in last:
            found = c.execute(
                "SELECT max(issue_number) FROM issues WHERE project_id = ?", (p_id,)
            ).fetchone()[0]
            last[p_id] = found or 0
        last[p_id] += 1
        numbers.append(last[p_id])
    return numbers
