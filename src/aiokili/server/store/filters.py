"""``where`` inputs compiled to SQL: projects, assets, labels, metadata, authors, search.

Every value travels as a parameter; user text is never pasted into SQL. Filters the
local server cannot evaluate answer ``NOT_IMPLEMENTED`` naming the filter, and user
mistakes answer ``BAD_USER_INPUT`` naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ..._core.category_search import CategorySearchError, Count, Node
from ..._core.category_search import parse as parse_category_search
from ..errors import ServerError
from .db import marks

Where = dict[str, Any]
MAX_IN = 1000  # items in one list filter (the SDKs send chunks of 1,000 at most)


class Sql:
    """A conjunction of SQL conditions with their parameters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> None:
        self.parts.append(clause)
        self.args.extend(args)

    def add_in(
        self, column: str, values: Sequence[Any] | None, arg: str, *, negate: bool = False
    ) -> None:
        if values is None or (negate and not values):  # NOT IN (nothing): every row
            return
        check_list(values, arg)
        self.add(f"{column} {'NOT ' if negate else ''}IN ({marks(len(values))})", *values)

    def range(
        self, column: str, gte: str | None, lte: str | None, arg: str = "", name: str = ""
    ) -> None:
        """``column`` between two dates (``<arg>.<name>Gte`` / ``Lte`` in messages)."""
        if gte:
            self.add(f"{column} >= ?", _day_bound(gte, f"{arg}.{name}Gte", upper=False))
        if lte:
            self.add(f"{column} <= ?", _day_bound(lte, f"{arg}.{name}Lte", upper=True))

    def merge(self, other: Sql) -> None:
        self.parts.extend(other.parts)
        self.args.extend(other.args)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "1 = 1"


def check_list(values: Sequence[Any], arg: str) -> None:
    """Refuse lists over :data:`MAX_IN` items, naming the argument."""
    if len(values) > MAX_IN:
        raise ServerError(
            f"{arg} has {len(values)} items; at most {MAX_IN} are accepted per request: "
            "split the list into chunks."
        )


def given(value: Any) -> bool:
    """Whether a filter value is set: ``None`` and objects of only nulls/empties are not."""
    if isinstance(value, dict):
        return any(given(v) for v in value.values())
    return value is not None


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date or date-time, or None. A ``Z`` after an offset is ignored: the
    official SDK sends ``2024-01-31T12:00:00.000+00:00Z``."""
    if text.endswith("Z"):
        text = text[:-1]
        if len(text) < 6 or text[-6] not in "+-" or text[-3] != ":":
            text += "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _day_bound(value: str, arg: str, *, upper: bool) -> str:
    """A date bound as stored (UTC, ``YYYY-MM-DDTHH:MM:SS.mmmZ``); a bare ``YYYY-MM-DD``
    covers the whole day."""
    text = value.strip()
    at = parse_instant(text)
    if at is None:
        raise ServerError(
            f"{arg} must be a date like 2024-01-31 or a date-time like "
            f"2024-01-31T12:00:00.000Z, got {value[:40]!r}."
        )
    if "T" not in text and " " not in text:  # a day
        return at.date().isoformat() + ("T23:59:59.999Z" if upper else "T00:00:00.000Z")
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------ projects
def project_sql(where: Where, arg: str = "where", viewer: str | None = None) -> Sql:
    """``ProjectWhere`` on ``projects p``; ``starred`` is the ``viewer``'s (a user id)."""
    q = Sql()
    if where.get("deleted"):
        q.add("1 = 0")  # deletions are immediate: no project is kept as deleted
    if where.get("starred") is not None:
        if viewer is None:
            raise ServerError.not_implemented(f"The filter {arg}.starred")
        q.add(
            f"p.id {'' if where['starred'] else 'NOT '}IN "
            "(SELECT s.project_id FROM project_stars s WHERE s.user_id = ?)",
            viewer,
        )
    tag_ids = where.get("tagIds")
    if tag_ids is not None:
        check_list(tag_ids, f"{arg}.tagIds")
        q.add(
            f"p.id IN (SELECT pt.project_id FROM project_tags pt "
            f"WHERE pt.tag_id IN ({marks(len(tag_ids))}))",
            *tag_ids,
        )
    if where.get("id") is not None:
        q.add("p.id = ?", where["id"])
    if where.get("searchQuery"):
        q.add("lower(p.title) LIKE lower(?)", where["searchQuery"])  # ASCII case aside
    if where.get("archived") is not None:
        q.add("p.archived = ?", int(where["archived"]))
    if where.get("shouldRelaunchKpiComputation") is not None:
        wanted = "true" if where["shouldRelaunchKpiComputation"] else "false"
        q.add("coalesce(json_type(p.props, '$.shouldRelaunchKpiComputation'), 'false') = ?", wanted)
    if where.get("organizationId") is not None:
        q.add("p.organization_id = ?", where["organizationId"])
    q.range("p.updated_at", where.get("updatedAtGte"), where.get("updatedAtLte"), arg, "updatedAt")
    q.range("p.created_at", where.get("createdAtGte"), where.get("createdAtLte"), arg, "createdAt")
    return q


# ------------------------------------------------------------------ assets
def _mark_range(q: Sql, column: str, where: Where, name: str) -> None:
    """``<name>Gte`` / ``<name>Lte`` on a numeric column (an unset mark never matches)."""
    gte, lte = where.get(f"{name}Gte"), where.get(f"{name}Lte")
    if gte is not None:
        q.add(f"{column} >= ?", gte)
    if lte is not None:
        q.add(f"{column} <= ?", lte)


def asset_mark(a: str, kind: str) -> str:
    """SQL of an asset's ``kind`` mark ("consensus" / "honeypot"): its own column (set by
    updatePropertiesInAssets), else the one computed from its labels (``asset_marks``)."""
    return (
        f"coalesce({a}.{kind}_mark, (SELECT am.{kind}_mark FROM asset_marks am "
        f"WHERE am.asset_id = {a}.id))"
    )


def _user_ids(names: Sequence[str], arg: str) -> Sql:
    """``SELECT`` of the ids of users given by id, email, first/last or full name."""
    check_list(names, arg)
    m = marks(len(names))
    full = "trim(coalesce(u.firstname, '') || ' ' || coalesce(u.lastname, ''))"
    q = Sql()
    q.add(
        f"SELECT u.id FROM users u WHERE u.id IN ({m}) OR u.email IN ({m}) "
        f"OR u.firstname IN ({m}) OR u.lastname IN ({m}) OR {full} IN ({m})",
        *(list(names) * 5),
    )
    return q


_STEP_STATUS_ALIASES = {"DOING": "IN_PROGRESS", "REDO": "REWORK"}  # deprecated names


def _step_statuses(values: Any) -> Any:
    """Step statuses with the deprecated ``DOING`` / ``REDO`` read as what replaced them."""
    if not isinstance(values, list):
        return values  # check_list names the mistake
    return [_STEP_STATUS_ALIASES.get(v, v) if isinstance(v, str) else v for v in values]


def _steps(q: Sql, where: Where, a: str, arg: str) -> None:
    """Workflow filters (V2/V3) on the asset's current step: id, status, group."""
    where = dict(where)
    for key in ("stepStatusIn", "stepStatusNotIn"):
        if where.get(key) is not None:
            where[key] = _step_statuses(where[key])
    for key in ("stepIdAndStatusIn", "stepIdAndStatusNotIn"):
        if isinstance(where.get(key), list):
            where[key] = [
                {**p, "status": _STEP_STATUS_ALIASES.get(p["status"], p["status"])}
                if isinstance(p, dict)
                else p
                for p in where[key]
            ]
    q.add_in(f"{a}.step_id", where.get("stepIdIn"), f"{arg}.stepIdIn")
    if where.get("stepIdNotIn") is not None:
        q.add_in(
            f"coalesce({a}.step_id, '')", where["stepIdNotIn"], f"{arg}.stepIdNotIn", negate=True
        )
    q.add_in(f"{a}.step_status", where.get("stepStatusIn"), f"{arg}.stepStatusIn")
    if where.get("stepStatusNotIn") is not None:
        q.add_in(
            f"coalesce({a}.step_status, '')",
            where["stepStatusNotIn"],
            f"{arg}.stepStatusNotIn",
            negate=True,
        )
    for key, negate in (("stepIdAndStatusIn", False), ("stepIdAndStatusNotIn", True)):
        pairs = where.get(key)
        if pairs is None:
            continue
        check_list(pairs, f"{arg}.{key}")
        one = f"({a}.step_id = ? AND {a}.step_status = ?)"
        any_ = "(" + (" OR ".join([one] * len(pairs)) or "1 = 0") + ")"
        q.add(
            f"coalesce(NOT {any_}, 1 = 1)" if negate else any_,
            *[x for p in pairs for x in (p["stepId"], p["status"])],
        )
    if where.get("groupNameIn"):
        q.add_in(f"{a}.step_group_name", where["groupNameIn"], f"{arg}.groupNameIn")
    if where.get("groupNameNotIn"):
        q.add_in(
            f"coalesce({a}.step_group_name, '')",
            where["groupNameNotIn"],
            f"{arg}.groupNameNotIn",
            negate=True,
        )


def asset_sql(where: Where, a: str = "a", arg: str = "where") -> Sql:
    """``AssetWhere`` on ``assets <a>``: every filter of the schema."""
    q = Sql()
    if where.get("id") is not None:
        q.add(f"{a}.id = ?", where["id"])
    q.add_in(f"{a}.id", where.get("idIn"), f"{arg}.idIn")
    q.add_in(f"{a}.id", where.get("idNotIn"), f"{arg}.idNotIn", negate=True)
    project = where.get("project") or {}
    if project.get("id") is not None:
        q.add(f"{a}.project_id = ?", project["id"])
    # externalIdStrictlyIn: equal to one of; externalIdIn: contains one of (as Kili does)
    q.add_in(f"{a}.external_id", where.get("externalIdStrictlyIn"), f"{arg}.externalIdStrictlyIn")
    contains = where.get("externalIdIn")
    if contains is not None:
        check_list(contains, f"{arg}.externalIdIn")
        q.add(
            "("
            + (" OR ".join(f"instr({a}.external_id, ?) > 0" for _ in contains) or "1 = 0")
            + ")",
            *contains,
        )
    q.add_in(f"{a}.status", where.get("statusIn"), f"{arg}.statusIn")
    if where.get("skipped") is not None:
        q.add(f"coalesce({a}.skipped, 0) = ?", int(where["skipped"]))
    _mark_range(q, asset_mark(a, "consensus"), where, "consensusMark")
    _mark_range(q, asset_mark(a, "honeypot"), where, "honeypotMark")
    _mark_range(q, f"{a}.inference_mark", where, "inferenceMark")
    for key, negate in (("assigneeIn", False), ("assigneeNotIn", True)):
        if where.get(key) is not None:
            users = _user_ids(where[key], f"{arg}.{key}")
            q.add(
                f"{'NOT ' if negate else ''}EXISTS (SELECT 1 FROM asset_assignees aa WHERE "
                f"aa.asset_id = {a}.id AND aa.user_id IN ({users.sql}))",
                *users.args,
            )
    _steps(q, where, a, arg)
    q.range(
        f"{a}.created_at", where.get("createdAtGte"), where.get("createdAtLte"), arg, "createdAt"
    )
    q.range(
        f"{a}.updated_at", where.get("updatedAtGte"), where.get("updatedAtLte"), arg, "updatedAt"
    )
    if where.get("metadata") is not None:
        q.merge(metadata_sql(f"{a}.json_metadata", where["metadata"], f"{arg}.metadata"))
    issue = {k: v for k, v in (where.get("issue") or {}).items() if v is not None}
    if issue:
        iq = Sql()
        if "type" in issue:
            iq.add("ix.type = ?", issue["type"])
        if "status" in issue:
            iq.add("ix.status = ?", issue["status"])
        q.add(f"EXISTS (SELECT 1 FROM issues ix WHERE ix.asset_id = {a}.id AND {iq.sql})", *iq.args)
    label = where.get("label") or {}
    if given(label):
        inner = label_conditions(label, "lx", f"{arg}.label")
        q.add(
            f"EXISTS (SELECT 1 FROM labels lx WHERE lx.asset_id = {a}.id AND {inner.sql})",
            *inner.args,
        )
    return q


def _json_value(column: str, key: str) -> tuple[str, str, list[Any]]:
    """SQL for (value, type) of top-level ``key`` of a JSON column, and its parameters."""
    if '"' not in key and "\\" not in key and "\x00" not in key:
        path = f'$."{key}"'
        return f"json_extract({column}, ?)", f"json_type({column}, ?)", [path]
    each = f"FROM json_each({column}) j WHERE j.key = ?"
    return f"(SELECT j.value {each})", f"(SELECT j.type {each})", [key]


def _as_number(value_sql: str, type_sql: str) -> str:
    """The JSON value as a number, NULL unless it is one (a CASE: PostgreSQL's ``AND`` may
    cast before it checks the type; its ``json_extract`` gives text)."""
    return f"CASE WHEN {type_sql} IN ('integer', 'real') THEN CAST({value_sql} AS NUMERIC) END"


def _equals(value_sql: str, type_sql: str, path: list[Any], value: Any, arg: str) -> Sql:
    q = Sql()
    if isinstance(value, bool):
        q.add(f"{type_sql} = ?", *path, "true" if value else "false")
    elif isinstance(value, (int, float)):
        q.add(f"{_as_number(value_sql, type_sql)} = ?", *path, *path, value)
    elif isinstance(value, str):
        q.add(f"{type_sql} = 'text' AND {value_sql} = ?", *path, *path, value)
    elif value is None:
        q.add(f"{type_sql} = 'null'", *path)
    else:
        raise ServerError(
            f"{arg} must be a string, number, boolean or null, a list of them (one of), "
            f"or [min, max] numbers; got {type(value).__name__}."
        )
    return q


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metadata_sql(column: str, metadata: Any, arg: str) -> Sql:
    """``{key: value | [one, of] | [min, max]}`` on a JSON metadata column."""
    if not isinstance(metadata, dict):
        raise ServerError(
            f'{arg} must be a JSON object like {{"key": "value"}}, got {type(metadata).__name__}.'
        )
    q = Sql()
    for key, wanted in metadata.items():
        value_sql, type_sql, path = _json_value(column, key)
        where = f"{arg}.{key}"
        if isinstance(wanted, list) and len(wanted) == 2 and all(map(_number, wanted)):
            q.add(
                f"{_as_number(value_sql, type_sql)} BETWEEN ? AND ?",
                *path,
                *path,
                wanted[0],
                wanted[1],
            )
        elif isinstance(wanted, list):
            check_list(wanted, where)
            terms = [_equals(value_sql, type_sql, path, v, where) for v in wanted]
            q.add(
                "(" + (" OR ".join(f"({t.sql})" for t in terms) or "1 = 0") + ")",
                *[x for t in terms for x in t.args],
            )
        else:
            q.merge(_equals(value_sql, type_sql, path, wanted, where))
    return q


# ------------------------------------------------------------------ labels
def author_sql(column: str, names: Sequence[str], arg: str) -> Sql:
    """Authors given by first name, last name, "first last", email or id."""
    users = _user_ids(names, arg)
    q = Sql()
    q.add(f"{column} IN ({users.sql})", *users.args)
    return q


def mark_sql(owner: str, alias: str, kind: str, gte: Any, lte: Any) -> Sql:
    """Mark ``kind`` ("consensus" / "honeypot") of a label or asset (``owner``) in [gte, lte].

    Marks are computed by ``marks.py`` into ``label_marks`` / ``asset_marks``; an item
    without a mark matches no range.
    """
    table, key = ("label_marks", "label_id") if owner == "label" else ("asset_marks", "asset_id")
    column = f"(SELECT mk.{kind}_mark FROM {table} mk WHERE mk.{key} = {alias}.id)"
    q = Sql()
    if gte is not None:
        q.add(f"{column} >= ?", float(gte))
    if lte is not None:
        q.add(f"{column} <= ?", float(lte))
    return q


def label_conditions(where: Where, lb: str, arg: str) -> Sql:
    """What ``LabelWhere`` and ``AssetLabelWhere`` share, on ``labels <lb>``.

    ``labelerIn`` / ``labelerNotIn``: authors (as in ``authorIn``) of non-REVIEW labels;
    ``reviewerIn`` / ``reviewerNotIn``: authors of REVIEW labels.
    """
    q = Sql()
    q.add_in(f"{lb}.label_type", where.get("typeIn"), f"{arg}.typeIn")
    if where.get("authorIn") is not None:
        q.merge(author_sql(f"{lb}.author_id", where["authorIn"], f"{arg}.authorIn"))
    for name, review, negate in (
        ("labelerIn", False, False),
        ("labelerNotIn", False, True),
        ("reviewerIn", True, False),
        ("reviewerNotIn", True, True),
    ):
        if where.get(name) is None:
            continue
        authors = author_sql(f"{lb}.author_id", where[name], f"{arg}.{name}")
        kind = f"{lb}.label_type {'=' if review else '<>'} 'REVIEW'"
        if negate:
            q.add(f"NOT ({kind} AND {authors.sql})", *authors.args)
        else:
            q.add(f"{kind} AND {authors.sql}", *authors.args)
    for kind in ("consensus", "honeypot"):
        q.merge(
            mark_sql("label", lb, kind, where.get(f"{kind}MarkGte"), where.get(f"{kind}MarkLte"))
        )
    if where.get("createdAt"):
        day = _day_bound(where["createdAt"], f"{arg}.createdAt", upper=False)[:10]
        q.range(f"{lb}.created_at", day, day, arg, "createdAt")
    q.range(
        f"{lb}.created_at", where.get("createdAtGte"), where.get("createdAtLte"), arg, "createdAt"
    )
    if where.get("search"):
        q.merge(search_sql(where["search"], lb, f"{arg}.search"))
    return q


def label_sql(where: Where, lb: str = "l", arg: str = "where") -> Sql:
    """``LabelWhere`` on ``labels <lb>``."""
    q = label_conditions(where, lb, arg)
    if where.get("id") is not None:
        q.add(f"{lb}.id = ?", where["id"])
    q.add_in(f"{lb}.id", where.get("idIn"), f"{arg}.idIn")
    project = {k: v for k, v in (where.get("project") or {}).items() if given(v)}
    if list(project) == ["id"]:
        q.add(f"{lb}.project_id = ?", project["id"])
    elif project:
        pq = project_sql(project, f"{arg}.project")
        q.add(f"{lb}.project_id IN (SELECT p.id FROM projects p WHERE {pq.sql})", *pq.args)
    user = where.get("user") or {}
    if user.get("activated") is False:  # every local user is activated
        q.add("1 = 0")
    organization = (user.get("organization") or {}).get("id")
    if organization is not None:
        q.add(
            f"{lb}.author_id IN (SELECT u.id FROM users u WHERE u.organization_id = ?)",
            organization,
        )
    if user.get("id") is not None:
        q.add(f"{lb}.author_id = ?", user["id"])
    q.add_in(f"{lb}.author_id", user.get("idIn"), f"{arg}.user.idIn")
    if user.get("email") is not None:
        q.add(f"{lb}.author_id IN (SELECT u.id FROM users u WHERE u.email = ?)", user["email"])
    asset = dict(where.get("asset") or {})
    asset_project = (asset.pop("project", None) or {}).get("id")
    if asset_project is not None:  # a label's project is its asset's project
        q.add(f"{lb}.project_id = ?", asset_project)
    if given(asset):
        aq = asset_sql(asset, "ax", f"{arg}.asset")
        if aq.parts:
            q.add(f"{lb}.asset_id IN (SELECT ax.id FROM assets ax WHERE {aq.sql})", *aq.args)
    return q


# ------------------------------------------------------------------ category search
_SQL_OPS = {"==": "=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}


def search_sql(query: str, lb: str, arg: str) -> Sql:
    """Kili's category search (``JOB.CAT.count > 0 AND (... OR ...)``) over ``label_categories``.

    Parsed by the client's own parser (AND binds tighter than OR); the counts were computed
    when the label was written.
    """
    try:
        tree = parse_category_search(query)
    except CategorySearchError as exc:
        raise ServerError(f"Invalid search in {arg}: {exc}.") from None
    args: list[Any] = []

    def compile_node(node: Node) -> str:
        if isinstance(node, Count):
            args.extend((node.job, node.category, node.value))
            return (
                f"coalesce((SELECT lc.count FROM label_categories lc WHERE lc.label_id = {lb}.id"
                f" AND lc.job = ? AND lc.category = ?), 0) {_SQL_OPS[node.op]} ?"
            )
        return "(" + f" {node.operator} ".join(compile_node(p) for p in node.parts) + ")"

    q = Sql()
    q.add(compile_node(tree), *args)
    return q


def _list(value: Any) -> list[Any]:
    """``value`` if it is a list (a malformed jsonResponse counts nothing), else []."""
    return list(value) if isinstance(value, list) else []


def category_counts(response: Any) -> dict[tuple[str, str], int]:
    """``(job, category) -> count`` of a label's jsonResponse (classic and nested jobs)."""
    counts: dict[tuple[str, str], int] = {}
    if not isinstance(response, dict):
        return counts
    for job, value in response.items():
        if not isinstance(value, dict):
            continue
        found = _list(value.get("categories"))
        for annotation in _list(value.get("annotations")):
            if isinstance(annotation, dict):
                found += _list(annotation.get("categories"))
        for category in found:
            if isinstance(category, dict) and isinstance(category.get("name"), str):
                key = (str(job), category["name"])
                counts[key] = counts.get(key, 0) + 1
    return counts
