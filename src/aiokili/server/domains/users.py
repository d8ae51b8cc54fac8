"""Users, organizations and API keys: ``viewer``, ``users``, ``organizations``, ``apiKeys``."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..db import Database, chunks, in_thread, marks, new_id, now
from .common import constants, page

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
                c.execute("INSERT INTO users VALUES (?,?,?,?,?,?)",
                          (user_id, "admin@aiokili.local", "Ada", "Admin", org_id, at))  # fmt: skip
            else:
                user_id = user[0]
            if api_key is None:
                found = c.execute("SELECT key FROM api_keys ORDER BY created_at LIMIT 1").fetchone()
                if found is not None:
                    return str(found[0])
                api_key = secrets.token_urlsafe(24)
            c.execute("INSERT OR IGNORE INTO api_keys VALUES (?,?,?,?,?)",
                      (api_key, new_id(), "development key", user_id, now()))  # fmt: skip
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


query = QueryType()
user_type = ObjectType("User")
organization_type = ObjectType("Organization")
api_key_type = ObjectType("ApiKey")
constants(user_type, {"activated": True, "organizationRole": "ADMIN"})
constants(organization_type, {"license": {"uploadLocalData": True}})
constants(api_key_type, {"expiryDate": "2099-12-31T00:00:00.000Z", "revoked": False})


@query.field("viewer")
def resolve_viewer(_: Any, info: Info) -> UserRow:
    return context(info).user


def _users(info: Info, where: Mapping[str, Any]) -> list[UserRow]:
    """The local server has one user: the key's owner."""
    user = context(info).user
    org = (where.get("organization") or {}).get("id")
    ok = (
        where.get("id") in (None, user.id)
        and where.get("email") in (None, user.email)
        and (where.get("idIn") is None or user.id in where["idIn"])
        and org in (None, user.organization_id)
        and where.get("activated") in (None, True)
    )
    return [user] if ok else []


@query.field("users")
def resolve_users(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[UserRow]:
    skip, first = page(kw)
    return _users(info, where)[skip : None if first is None else skip + first]


@query.field("countUsers")
def resolve_count_users(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(_users(info, where))


async def _organizations(info: Info, where: Mapping[str, Any]) -> list[OrganizationRow]:
    ctx = context(info)
    email = (where.get("user") or {}).get("email")
    if where.get("id") not in (None, ctx.user.organization_id) or email not in (
        None,
        ctx.user.email,
    ):
        return []
    found = await in_thread(ctx.store.users.organizations, [ctx.user.organization_id])
    return list(found.values())


@query.field("organizations")
async def resolve_organizations(
    _: Any, info: Info, where: dict[str, Any], **kw: Any
) -> list[OrganizationRow]:
    skip, first = page(kw)
    return (await _organizations(info, where))[skip : None if first is None else skip + first]


@query.field("countOrganizations")
async def resolve_count_organizations(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(await _organizations(info, where))


@user_type.field("updatedAt")
def resolve_user_updated_at(user: UserRow, _: Info) -> str:
    return user.created_at


@user_type.field("organization")
async def resolve_user_organization(user: UserRow, info: Info) -> OrganizationRow | None:
    store = context(info).store
    return (await in_thread(store.users.organizations, [user.organization_id])).get(
        user.organization_id
    )


@query.field("apiKeys")
async def resolve_api_keys(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[ApiKeyRow]:
    ctx = context(info)
    skip, first = page(kw)
    user_id = (where.get("user") or {}).get("id")
    keys = await in_thread(ctx.store.users.api_keys, where.get("key"), user_id)
    keys = [k for k in keys if where.get("id") in (None, k.id)]
    return keys[skip : None if first is None else skip + first]


@query.field("countApiKeys")
async def resolve_count_api_keys(_: Any, info: Info, where: dict[str, Any]) -> int:
    return len(await resolve_api_keys(_, info, where))


@api_key_type.field("user")
async def resolve_api_key_user(key: ApiKeyRow, info: Info) -> UserRow | None:
    return await context(info).users.load(key.user_id)


bindables = [query, user_type, organization_type, api_key_type]
