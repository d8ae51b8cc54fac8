"""The user tables: users, organizations and API keys (the first user and key made on
first start), searched by filter."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .db import Database, chunks, marks, new_id, now
from .filters import Sql

DDL = """
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT UNIQUE, firstname TEXT, lastname TEXT,
  organization_id TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS api_keys (
  key TEXT PRIMARY KEY, id TEXT, name TEXT, user_id TEXT, created_at TEXT);
"""


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    firstname: str | None
    lastname: str | None
    organization_id: str
    created_at: str


@dataclass(frozen=True)
class OrganizationRow:
    id: str
    name: str
    created_at: str


@dataclass(frozen=True)
class ApiKeyRow:
    key: str
    id: str
    name: str
    user_id: str
    created_at: str


class UserRepository:
    """Users (cached in memory: few, never changed locally), organizations and keys."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, UserRow] = {}
        self._lock = threading.Lock()

    def ensure_api_key(self, api_key: str | None) -> str:
        """Create the organization, admin user and a key on first start; return a key."""
        with self.db.write(append_only=True) as c:
            user = c.execute("SELECT id FROM users ORDER BY created_at LIMIT 1").fetchone()
            if user is None:
                org_id, user_id, at = new_id(), new_id(), now()
                c.execute("INSERT INTO organizations VALUES (?,?,?)", (org_id, "aiokili", at))
                c.execute(
                    "INSERT INTO users VALUES (?,?,?,?,?,?)",
                    (user_id, "admin@aiokili.local", "Ada", "Admin", org_id, at),
                )
            else:
                user_id = user[0]
            if api_key is None:
                found = c.execute("SELECT key FROM api_keys ORDER BY created_at LIMIT 1").fetchone()
                if found is not None:
                    return str(found[0])
                api_key = secrets.token_urlsafe(24)
            c.execute(
                "INSERT OR IGNORE INTO api_keys VALUES (?,?,?,?,?)",
                (api_key, new_id(), "development key", user_id, now()),
            )
        return api_key

    def user_for_key(self, api_key: str) -> UserRow | None:
        with self.db.read() as c:
            row = c.execute("SELECT user_id FROM api_keys WHERE key = ?", (api_key,)).fetchone()
        return None if row is None else self.by_ids([row[0]]).get(row[0])

    def by_ids(self, ids: Sequence[str]) -> dict[str, UserRow]:
        missing = [i for i in set(ids) if i and i not in self._cache]
        if missing:
            rows: list[UserRow] = []
            with self.db.read() as c:
                for part in chunks(missing):
                    sql = f"SELECT * FROM users WHERE id IN ({marks(len(part))})"
                    rows += [UserRow(*r) for r in c.execute(sql, list(part))]
            with self._lock:
                self._cache.update((u.id, u) for u in rows)
        return {i: self._cache[i] for i in ids if i in self._cache}

    def search(
        self, org: str, where: Mapping[str, Any], skip: int = 0, first: int | None = None
    ) -> list[UserRow]:
        """Users of organization ``org`` matching a ``UserWhere``, oldest first."""
        q = user_sql(where, org)
        sql = f"SELECT u.* FROM users u WHERE {q.sql} ORDER BY u.created_at, u.id LIMIT ? OFFSET ?"
        with self.db.read() as c:
            rows = [UserRow(*r) for r in c.execute(sql, [*q.args, first or -1, skip])]
        with self._lock:
            self._cache.update((u.id, u) for u in rows)
        return rows

    def count(self, org: str, where: Mapping[str, Any]) -> int:
        q = user_sql(where, org)
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM users u WHERE {q.sql}", q.args).fetchone()[0]
            )

    def search_organizations(
        self, org: str, where: Mapping[str, Any], skip: int = 0, first: int | None = None
    ) -> list[OrganizationRow]:
        """Organization ``org`` if it matches an ``OrganizationWhere`` (a key sees its own)."""
        q = organization_sql(where, org)
        sql = (
            f"SELECT o.* FROM organizations o WHERE {q.sql} ORDER BY o.created_at, o.id "
            "LIMIT ? OFFSET ?"
        )
        with self.db.read() as c:
            return [OrganizationRow(*r) for r in c.execute(sql, [*q.args, first or -1, skip])]

    def count_organizations(self, org: str, where: Mapping[str, Any]) -> int:
        q = organization_sql(where, org)
        with self.db.read() as c:
            return int(
                c.execute(f"SELECT COUNT(*) FROM organizations o WHERE {q.sql}", q.args).fetchone()[
                    0
                ]
            )

    def organizations(self, ids: Sequence[str]) -> dict[str, OrganizationRow]:
        with self.db.read() as c:
            sql = f"SELECT * FROM organizations WHERE id IN ({marks(len(ids))})"
            return {r[0]: OrganizationRow(*r) for r in c.execute(sql, list(ids))}

    def api_keys(self, key: str | None, user_id: str | None) -> list[ApiKeyRow]:
        sql, args = "SELECT * FROM api_keys WHERE 1", []
        if key is not None:
            sql, args = sql + " AND key = ?", [key]
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", [*args, user_id]
        with self.db.read() as c:
            return [ApiKeyRow(*r) for r in c.execute(sql + " ORDER BY created_at", args)]


def user_sql(where: Mapping[str, Any], org: str) -> Sql:
    """``UserWhere`` on ``users u``, within organization ``org`` (what a key can see)."""
    q = Sql()
    q.add("u.organization_id = ?", org)
    if where.get("id") is not None:
        q.add("u.id = ?", where["id"])
    q.add_in("u.id", where.get("idIn"), "where.idIn")
    if where.get("email") is not None:
        q.add("u.email = ?", str(where["email"]).lower())
    if where.get("activated") is False:
        q.add("0")  # every local user is activated
    organization_id = (where.get("organization") or {}).get("id")
    if organization_id is not None:
        q.add("u.organization_id = ?", organization_id)
    if where.get("apiKey") is not None:
        q.add("u.id IN (SELECT k.user_id FROM api_keys k WHERE k.key = ?)", where["apiKey"])
    return q


def organization_sql(where: Mapping[str, Any], org: str) -> Sql:
    """``OrganizationWhere`` on ``organizations o``, limited to ``org`` (the key's)."""
    q = Sql()
    q.add("o.id = ?", org)
    if where.get("id") is not None:
        q.add("o.id = ?", where["id"])
    email = (where.get("user") or {}).get("email")
    if email is not None:
        q.add("o.id IN (SELECT u.organization_id FROM users u WHERE u.email = ?)", email.lower())
    return q
