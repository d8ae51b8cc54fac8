"""Storage for the local server: one interface, a SQLite implementation.

Resolvers only talk to :class:`Store`; rows come back as dicts keyed by GraphQL field
names. Another backend (PostgreSQL...) implements the same protocol.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from .errors import ServerError
from .filters import asset_matches_python, label_matches_python

Row = dict[str, Any]


def now() -> str:
    """Current UTC time in Kili's DateTime format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """A fresh opaque id (cuid-like: a letter then 24 hex digits)."""
    return "c" + uuid.uuid4().hex[:24]


class Store(Protocol):
    """What the resolvers need from storage."""

    def user_for_key(self, api_key: str) -> Row | None: ...
    def ensure_api_key(self, api_key: str | None) -> str: ...
    def users_by_id(self, ids: Iterable[str]) -> dict[str, Row]: ...
    def organization(self, org_id: str) -> Row | None: ...
    def api_keys(self, key: str | None) -> list[Row]: ...
    def create_project(self, data: Row, author_id: str) -> Row: ...
    def update_project(self, project_id: str, data: Row) -> Row: ...
    def delete_project(self, project_id: str) -> Row: ...
    def projects(self, where: Row, skip: int, first: int | None) -> list[Row]: ...
    def count_projects(self, where: Row) -> int: ...
    def assets(self, where: Row, skip: int, first: int | None) -> list[Row]: ...
    def count_assets(self, where: Row) -> int: ...
    def assets_by_id(self, ids: Iterable[str]) -> dict[str, Row]: ...
    def existing_external_ids(self, project_id: str, external_ids: Sequence[str]) -> list[str]: ...
    def append_assets(self, project_id: str, assets: Sequence[Row]) -> list[Row]: ...
    def labels(self, where: Row, skip: int, first: int | None) -> list[Row]: ...
    def count_labels(self, where: Row) -> int: ...
    def labels_of_assets(self, asset_ids: Sequence[str]) -> dict[str, list[Row]]: ...
    def append_labels(
        self, project_id: str | None, labels: Sequence[Row], overwrite: bool
    ) -> list[Row]: ...
    def delete_labels(self, ids: Sequence[str]) -> list[str]: ...
    def put_file(self, path: str, content_type: str, data: bytes) -> None: ...
    def get_file(self, path: str) -> tuple[str, bytes] | None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT UNIQUE, firstname TEXT, lastname TEXT,
  organization_id TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS api_keys (
  key TEXT PRIMARY KEY, id TEXT, name TEXT, user_id TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS projects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, title TEXT, description TEXT,
  input_type TEXT, json_interface TEXT, author_id TEXT, archived INTEGER DEFAULT 0,
  props TEXT DEFAULT '{}', created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS assets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, project_id TEXT, external_id TEXT,
  content TEXT, json_content TEXT, json_metadata TEXT, status TEXT, is_honeypot INTEGER,
  created_at TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS assets_project ON assets (project_id, seq);
CREATE INDEX IF NOT EXISTS assets_external ON assets (project_id, external_id);
CREATE TABLE IF NOT EXISTS labels (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, project_id TEXT, asset_id TEXT,
  author_id TEXT, label_type TEXT, json_response TEXT, model_name TEXT,
  seconds_to_label REAL, created_at TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS labels_project ON labels (project_id, seq);
CREATE INDEX IF NOT EXISTS labels_asset ON labels (asset_id, seq);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, content_type TEXT, data BLOB);
"""

_PROJECT_PROPS = (
    "instructions", "consensusTotCoverage", "minConsensusSize", "reviewCoverage", "useHoneyPot",
    "metadataProperties", "canNavigateBetweenAssets", "canSkipAsset", "consensusMark",
    "honeypotMark", "shouldAutoAssign", "shouldRelaunchKpiComputation", "complianceTags",
)  # fmt: skip
_PROJECT_DEFAULTS: Row = {
    "instructions": None, "consensusTotCoverage": 0, "minConsensusSize": 1,
    "reviewCoverage": 0, "useHoneyPot": False, "metadataProperties": {},
    "canNavigateBetweenAssets": True, "canSkipAsset": False, "consensusMark": None,
    "honeypotMark": None, "shouldAutoAssign": False, "shouldRelaunchKpiComputation": False,
    "complianceTags": [],
}  # fmt: skip


def _day_bound(value: str, upper: bool) -> str:
    """A date filter bound: a bare YYYY-MM-DD covers the whole day."""
    if len(value) == 10:
        return value + ("T23:59:59.999Z" if upper else "T00:00:00.000Z")
    return value


class _Sql:
    """A WHERE clause under construction."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> None:
        self.parts.append(clause)
        self.args.extend(args)

    def add_in(self, column: str, values: Sequence[Any] | None) -> None:
        if values is not None:
            self.add(f"{column} IN ({','.join('?' * len(values)) or 'NULL'})", *values)

    def range(self, column: str, gte: Any, lte: Any, dates: bool = False) -> None:
        if gte is not None:
            self.add(f"{column} >= ?", _day_bound(gte, False) if dates else gte)
        if lte is not None:
            self.add(f"{column} <= ?", _day_bound(lte, True) if dates else lte)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "1"


class SQLiteStore:
    """SQLite implementation of :class:`Store` (a file path or ``":memory:"``).

    Used from the server's event-loop thread only; each mutation is one transaction.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._users: dict[str, Row] = {}

    # -------------------------------------------------------------- helpers
    def _tx(self, fn: Callable[[], Any]) -> Any:
        self.db.execute("BEGIN")
        try:
            result = fn()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return result

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
        return row

    # -------------------------------------------------------------- users & keys
    def ensure_api_key(self, api_key: str | None) -> str:
        """Create the organization, admin user and a key on first start; return a key."""
        user = self._one("SELECT id FROM users ORDER BY created_at LIMIT 1")
        if user is None:
            org_id, user_id, at = new_id(), new_id(), now()
            self.db.execute("INSERT INTO organizations VALUES (?,?,?)", (org_id, "aiokili", at))
            self.db.execute(
                "INSERT INTO users VALUES (?,?,?,?,?,?)",
                (user_id, "admin@aiokili.local", "Ada", "Admin", org_id, at),
            )
        else:
            user_id = user["id"]
        if api_key is None:
            existing = self._one("SELECT key FROM api_keys ORDER BY created_at LIMIT 1")
            if existing is not None:
                return str(existing["key"])
            api_key = secrets.token_urlsafe(24)
        if self._one("SELECT 1 FROM api_keys WHERE key = ?", api_key) is None:
            self.db.execute(
                "INSERT INTO api_keys VALUES (?,?,?,?,?)",
                (api_key, new_id(), "development key", user_id, now()),
            )
        return api_key

    def user_for_key(self, api_key: str) -> Row | None:
        row = self._one("SELECT user_id FROM api_keys WHERE key = ?", api_key)
        return None if row is None else self.users_by_id([row["user_id"]]).get(row["user_id"])

    def users_by_id(self, ids: Iterable[str]) -> dict[str, Row]:
        missing = [i for i in set(ids) if i and i not in self._users]
        if missing:
            sql = f"SELECT * FROM users WHERE id IN ({','.join('?' * len(missing))})"
            for r in self.db.execute(sql, missing):
                self._users[r["id"]] = {
                    "id": r["id"], "email": r["email"], "firstname": r["firstname"],
                    "lastname": r["lastname"], "organizationId": r["organization_id"],
                    "activated": True, "organizationRole": "ADMIN", "createdAt": r["created_at"],
                    "updatedAt": r["created_at"],
                }  # fmt: skip
        return {i: self._users[i] for i in ids if i in self._users}

    def organization(self, org_id: str) -> Row | None:
        r = self._one("SELECT * FROM organizations WHERE id = ?", org_id)
        if r is None:
            return None
        return {"id": r["id"], "name": r["name"], "createdAt": r["created_at"],
                "license": {"uploadLocalData": True}}  # fmt: skip

    def api_keys(self, key: str | None) -> list[Row]:
        sql, args = "SELECT * FROM api_keys", []
        if key is not None:
            sql, args = sql + " WHERE key = ?", [key]
        return [
            {
                "id": r["id"],
                "name": r["name"],
                "key": r["key"],
                "createdAt": r["created_at"],
                "expiryDate": "2099-12-31T00:00:00.000Z",
                "revoked": False,
                "userId": r["user_id"],
            }
            for r in self.db.execute(sql, args)
        ]

    # -------------------------------------------------------------- projects
    @staticmethod
    def _project(r: sqlite3.Row) -> Row:
        props = {**_PROJECT_DEFAULTS, **json.loads(r["props"])}
        return {
            "id": r["id"], "title": r["title"], "description": r["description"],
            "inputType": r["input_type"], "jsonInterface": r["json_interface"],
            "archived": bool(r["archived"]), "authorId": r["author_id"],
            "createdAt": r["created_at"], "updatedAt": r["updated_at"],
            "workflowVersion": "V1", "steps": [], "stepGroups": [], "dataConnections": [],
            **props,
        }  # fmt: skip

    def create_project(self, data: Row, author_id: str) -> Row:
        project_id, at = new_id(), now()
        props = {k: data[k] for k in _PROJECT_PROPS if data.get(k) is not None}
        self.db.execute(
            "INSERT INTO projects (id, title, description, input_type, json_interface, author_id,"
            " props, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (project_id, data["title"], data.get("description") or "", data.get("inputType"),
             data.get("jsonInterface") or "{}", author_id, json.dumps(props), at, at),
        )  # fmt: skip
        return self._get_project(project_id)

    def _get_project(self, project_id: str) -> Row:
        r = self._one("SELECT * FROM projects WHERE id = ?", project_id)
        if r is None:
            raise ServerError.not_found("Project", project_id)
        return self._project(r)

    def update_project(self, project_id: str, data: Row) -> Row:
        current = self._get_project(project_id)
        props = {k: current[k] for k in _PROJECT_PROPS}
        props.update({k: v for k, v in data.items() if k in _PROJECT_PROPS})
        self.db.execute(
            "UPDATE projects SET title = ?, description = ?, json_interface = ?, archived = ?,"
            " props = ?, updated_at = ? WHERE id = ?",
            (data.get("title") or current["title"],
             data["description"] if data.get("description") is not None
             else current["description"],
             data.get("jsonInterface") or current["jsonInterface"],
             int(data["archived"]) if data.get("archived") is not None else current["archived"],
             json.dumps(props), now(), project_id),
        )  # fmt: skip
        return self._get_project(project_id)

    def delete_project(self, project_id: str) -> Row:
        project = self._get_project(project_id)

        def delete() -> None:
            for table in ("labels", "assets"):
                self.db.execute(f"DELETE FROM {table} WHERE project_id = ?", (project_id,))
            self.db.execute("DELETE FROM projects WHERE id = ?", (project_id,))

        self._tx(delete)
        return project

    def _project_sql(self, where: Row) -> _Sql:
        q = _Sql()
        if where.get("id") is not None:
            q.add("id = ?", where["id"])
        if where.get("searchQuery"):
            q.add("title LIKE ?", where["searchQuery"])
        if where.get("archived") is not None:
            q.add("archived = ?", int(where["archived"]))
        q.range("updated_at", where.get("updatedAtGte"), where.get("updatedAtLte"), dates=True)
        q.range("created_at", where.get("createdAtGte"), where.get("createdAtLte"), dates=True)
        if where.get("deleted"):
            q.add("0")
        return q

    def projects(self, where: Row, skip: int, first: int | None) -> list[Row]:
        q = self._project_sql(where)
        sql = f"SELECT * FROM projects WHERE {q.sql} ORDER BY seq LIMIT ? OFFSET ?"
        rows = self.db.execute(sql, [*q.args, -1 if first is None else first, skip])
        return [self._project(r) for r in rows]

    def count_projects(self, where: Row) -> int:
        q = self._project_sql(where)
        return int(
            self.db.execute(f"SELECT COUNT(*) FROM projects WHERE {q.sql}", q.args).fetchone()[0]
        )

    # -------------------------------------------------------------- assets
    @staticmethod
    def _asset(r: sqlite3.Row) -> Row:
        return {
            "id": r["id"], "projectId": r["project_id"], "externalId": r["external_id"],
            "content": r["content"], "jsonContent": r["json_content"],
            "jsonMetadata": r["json_metadata"], "status": r["status"],
            "isHoneypot": bool(r["is_honeypot"]), "skipped": False, "priority": 0,
            "consensusMark": None, "honeypotMark": None, "inferenceMark": None,
            "createdAt": r["created_at"], "updatedAt": r["updated_at"], "resolution": None,
            "currentStep": None, "ocrMetadata": None, "pageResolutions": [],
        }  # fmt: skip

    def _asset_sql(self, where: Row, alias: str = "a") -> tuple[_Sql, bool]:
        """SQL for AssetWhere, and whether Python filters (metadata, labels) remain."""
        q = _Sql()
        p = f"{alias}."
        if where.get("id") is not None:
            q.add(f"{p}id = ?", where["id"])
        q.add_in(f"{p}id", where.get("idIn"))
        if where.get("idNotIn") is not None:
            ids = where["idNotIn"]
            q.add(f"{p}id NOT IN ({','.join('?' * len(ids)) or 'NULL'})", *ids)
        project = where.get("project") or {}
        if project.get("id") is not None:
            q.add(f"{p}project_id = ?", project["id"])
        q.add_in(f"{p}external_id", where.get("externalIdStrictlyIn"))
        if where.get("externalIdIn"):
            ors = " OR ".join(f"instr({p}external_id, ?) > 0" for _ in where["externalIdIn"])
            q.add(f"({ors})", *where["externalIdIn"])
        q.add_in(f"{p}status", where.get("statusIn"))
        if where.get("skipped"):
            q.add("0")
        q.range(f"{p}created_at", where.get("createdAtGte"), where.get("createdAtLte"), True)
        q.range(f"{p}updated_at", where.get("updatedAtGte"), where.get("updatedAtLte"), True)
        for mark in ("consensusMark", "honeypotMark", "inferenceMark"):
            if where.get(mark + "Gte") is not None or where.get(mark + "Lte") is not None:
                q.add("0")  # marks are not computed locally: no asset has one
        python = bool(where.get("metadata")) or bool(where.get("label"))
        return q, python

    def _filtered_assets(self, where: Row) -> list[Row]:
        q, _ = self._asset_sql(where)
        rows = [self._asset(r) for r in self.db.execute(
            f"SELECT * FROM assets a WHERE {q.sql} ORDER BY a.seq", q.args)]  # fmt: skip
        label_where = where.get("label") or {}
        labels = self.labels_of_assets([r["id"] for r in rows]) if label_where else {}
        users = self.users_by_id({lb["authorId"] for ls in labels.values() for lb in ls})
        return [
            r for r in rows
            if asset_matches_python(r, where, labels.get(r["id"], []), users)
        ]  # fmt: skip

    def assets(self, where: Row, skip: int, first: int | None) -> list[Row]:
        q, python = self._asset_sql(where)
        if python:
            rows = self._filtered_assets(where)
            return rows[skip : None if first is None else skip + first]
        sql = f"SELECT * FROM assets a WHERE {q.sql} ORDER BY a.seq LIMIT ? OFFSET ?"
        rows_ = self.db.execute(sql, [*q.args, -1 if first is None else first, skip])
        return [self._asset(r) for r in rows_]

    def count_assets(self, where: Row) -> int:
        q, python = self._asset_sql(where)
        if python:
            return len(self._filtered_assets(where))
        return int(
            self.db.execute(f"SELECT COUNT(*) FROM assets a WHERE {q.sql}", q.args).fetchone()[0]
        )

    def assets_by_id(self, ids: Iterable[str]) -> dict[str, Row]:
        ids = list(set(ids))
        out: dict[str, Row] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT * FROM assets WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((r["id"], self._asset(r)) for r in self.db.execute(sql, chunk))
        return out

    def existing_external_ids(self, project_id: str, external_ids: Sequence[str]) -> list[str]:
        found: set[str] = set()
        for i in range(0, len(external_ids), 500):
            chunk = list(external_ids[i : i + 500])
            sql = (f"SELECT external_id FROM assets WHERE project_id = ? AND external_id IN "
                   f"({','.join('?' * len(chunk))})")  # fmt: skip
            found.update(r[0] for r in self.db.execute(sql, [project_id, *chunk]))
        return [e for e in external_ids if e in found]

    def append_assets(self, project_id: str, assets: Sequence[Row]) -> list[Row]:
        self._get_project(project_id)
        ids = [a["id"] for a in assets]
        taken = self.assets_by_id(ids)
        if taken:
            raise ServerError(
                f"Asset id(s) already exist: {', '.join(sorted(taken)[:5])}. Use new ids.",
                "BAD_USER_INPUT",
            )
        at = now()
        rows = [
            (a["id"], project_id, a["externalId"], a["content"], a["jsonContent"],
             a["jsonMetadata"], "TODO", int(a["isHoneypot"]), at, at)
            for a in assets
        ]  # fmt: skip
        self._tx(lambda: self.db.executemany(
            "INSERT INTO assets (id, project_id, external_id, content, json_content, "
            "json_metadata, status, is_honeypot, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)", rows))  # fmt: skip
        found = self.assets_by_id(ids)
        return [found[i] for i in ids]

    # -------------------------------------------------------------- labels
    @staticmethod
    def _label(r: sqlite3.Row) -> Row:
        return {
            "id": r["id"], "projectId": r["project_id"], "assetId": r["asset_id"],
            "authorId": r["author_id"], "labelType": r["label_type"],
            "jsonResponse": r["json_response"], "jsonResponseUrl": None,
            "modelName": r["model_name"], "secondsToLabel": r["seconds_to_label"],
            "createdAt": r["created_at"], "updatedAt": r["updated_at"],
            "isLastForStep": None, "isSentBackToQueue": False, "consensusMark": None,
            "honeypotMark": None, "inferenceMark": None, "annotations": [],
        }  # fmt: skip

    def _label_sql(self, where: Row) -> tuple[_Sql, bool]:
        q = _Sql()
        if where.get("id") is not None:
            q.add("l.id = ?", where["id"])
        q.add_in("l.id", where.get("idIn"))
        project = where.get("project") or {}
        if project.get("id") is not None:
            q.add("l.project_id = ?", project["id"])
        q.add_in("l.label_type", where.get("typeIn"))
        user = where.get("user") or {}
        if user.get("id") is not None:
            q.add("l.author_id = ?", user["id"])
        if where.get("createdAt"):
            q.range("l.created_at", where["createdAt"][:10], where["createdAt"][:10], True)
        q.range("l.created_at", where.get("createdAtGte"), where.get("createdAtLte"), True)
        for mark in ("consensusMark", "honeypotMark"):
            if where.get(mark + "Gte") is not None or where.get(mark + "Lte") is not None:
                q.add("0")
        asset_where = {k: v for k, v in (where.get("asset") or {}).items() if v not in (None, {})}
        asset_where.pop("project", None)
        python = bool(where.get("authorIn") or where.get("search"))
        if asset_where:
            aq, asset_python = self._asset_sql(asset_where)
            python = python or asset_python
            if aq.parts:
                q.add(f"l.asset_id IN (SELECT a.id FROM assets a WHERE {aq.sql})", *aq.args)
        return q, python

    def _filtered_labels(self, where: Row) -> list[Row]:
        q, _ = self._label_sql(where)
        rows = [self._label(r) for r in self.db.execute(
            f"SELECT * FROM labels l WHERE {q.sql} ORDER BY l.seq", q.args)]  # fmt: skip
        asset_where = where.get("asset") or {}
        assets = self.assets_by_id(r["assetId"] for r in rows) if asset_where else {}
        users = self.users_by_id({r["authorId"] for r in rows})
        return [r for r in rows if label_matches_python(r, where, assets, users)]

    def labels(self, where: Row, skip: int, first: int | None) -> list[Row]:
        q, python = self._label_sql(where)
        if python:
            return self._filtered_labels(where)[skip : None if first is None else skip + first]
        sql = f"SELECT * FROM labels l WHERE {q.sql} ORDER BY l.seq LIMIT ? OFFSET ?"
        rows = self.db.execute(sql, [*q.args, -1 if first is None else first, skip])
        return [self._label(r) for r in rows]

    def count_labels(self, where: Row) -> int:
        q, python = self._label_sql(where)
        if python:
            return len(self._filtered_labels(where))
        return int(
            self.db.execute(f"SELECT COUNT(*) FROM labels l WHERE {q.sql}", q.args).fetchone()[0]
        )

    def labels_of_assets(self, asset_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        ids = list(asset_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = (f"SELECT * FROM labels WHERE asset_id IN ({','.join('?' * len(chunk))}) "
                   "ORDER BY seq")  # fmt: skip
            for r in self.db.execute(sql, chunk):
                out.setdefault(r["asset_id"], []).append(self._label(r))
        return out

    def append_labels(
        self, project_id: str | None, labels: Sequence[Row], overwrite: bool
    ) -> list[Row]:
        assets = self.assets_by_id(lb["assetId"] for lb in labels)
        missing = [
            lb["assetId"] for lb in labels
            if lb["assetId"] not in assets
            or (project_id is not None and assets[lb["assetId"]]["projectId"] != project_id)
        ]  # fmt: skip
        if missing:
            where = f" in project {project_id!r}" if project_id else ""
            raise ServerError(
                f"{len(missing)} asset(s) not found{where}: "
                f"{', '.join(repr(m) for m in missing[:5])}. Nothing was written.",
                "NOT_FOUND",
            )
        at = now()
        rows = [
            (new_id(), assets[lb["assetId"]]["projectId"], lb["assetId"], lb["authorId"],
             lb["labelType"], lb["jsonResponse"], lb.get("modelName"),
             lb.get("secondsToLabel"), at, at)
            for lb in labels
        ]  # fmt: skip
        status = {"DEFAULT": "LABELED", "REVIEW": "REVIEWED"}.get(labels[0]["labelType"])

        def write() -> None:
            if overwrite and labels[0]["labelType"] in ("PREDICTION", "INFERENCE"):
                self.db.executemany(
                    "DELETE FROM labels WHERE asset_id = ? AND label_type = ? AND model_name IS ?",
                    [(r[2], r[4], r[6]) for r in rows],
                )
            self.db.executemany(
                "INSERT INTO labels (id, project_id, asset_id, author_id, label_type, "
                "json_response, model_name, seconds_to_label, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            if status:
                self.db.executemany(
                    "UPDATE assets SET status = ?, updated_at = ? WHERE id = ?",
                    [(status, at, r[2]) for r in rows],
                )

        self._tx(write)
        ids = [r[0] for r in rows]
        sql = f"SELECT * FROM labels WHERE id IN ({','.join('?' * len(ids))})"
        found = {r["id"]: self._label(r) for r in self.db.execute(sql, ids)}
        return [found[i] for i in ids]

    def delete_labels(self, ids: Sequence[str]) -> list[str]:
        sql = f"SELECT id FROM labels WHERE id IN ({','.join('?' * len(ids))})"
        found = [r[0] for r in self.db.execute(sql, list(ids))]
        self._tx(
            lambda: self.db.executemany("DELETE FROM labels WHERE id = ?", [(i,) for i in found])
        )
        return found

    # -------------------------------------------------------------- files
    def put_file(self, path: str, content_type: str, data: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?)", (path, content_type, data))

    def get_file(self, path: str) -> tuple[str, bytes] | None:
        r = self._one("SELECT content_type, data FROM files WHERE path = ?", path)
        return None if r is None else (r["content_type"], bytes(r["data"]))
