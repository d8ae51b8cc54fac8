"""The user tables: organizations, their users (with an organization role, activated or not,
a password hash) and the users' API keys, stored hashed.

An API key is shown once, when it is made (:meth:`UserRepository.create_key`); the table
keeps its SHA-256 (keys are 32 random bytes: a slow hash adds nothing). Passwords are kept
as scrypt hashes, salted. The first start of a database makes an organization and its
admin (:meth:`UserRepository.ensure_api_key`). A plugin run's key is hashed the same way,
in ``run_keys`` with its expiry, so every process serving the database accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from . import access
from .columns import Columns
from .conn import Conn
from .db import NO_LIMIT, Database, chunks, marks, new_id, now
from .filters import Sql

FIRST_ORGANIZATION = "aiokili"
FIRST_ADMIN = "admin@aiokili.local"
ORGANIZATION_ROLES = ("ADMIN", "USER")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    firstname: str | None
    lastname: str | None
    organization_id: str
    created_at: str
    organization_role: str = "USER"
    activated: bool = True
    updated_at: str = ""


COLUMNS = Columns(
    UserRow,
    {
        "id": "u.id",
        "email": "u.email",
        "firstname": "u.firstname",
        "lastname": "u.lastname",
        "organization_id": "u.organization_id",
        "created_at": "u.created_at",
        "organization_role": "coalesce(u.organization_role, 'USER')",
        "activated": "coalesce(u.activated, 1)",
        "updated_at": "coalesce(u.updated_at, u.created_at)",
    },
    convert={"activated": bool},
)


@dataclass(frozen=True)
class OrganizationRow:
    id: str
    name: str
    created_at: str


@dataclass(frozen=True)
class ApiKeyRow:
    id: str
    name: str
    user_id: str
    created_at: str
    revoked: bool = False


def hash_key(key: str) -> str:
    """What the table keeps of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    """A salted scrypt hash, ``scrypt$<salt>$<hash>`` in hex."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(found.hex(), digest)


def check_password(password: object, what: str = "password") -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ServerError(f"{what} must have at least {MIN_PASSWORD} characters.")
    return password


def clean_email(email: object) -> str:
    """An email as stored: trimmed, lower-cased; refused unless it looks like one."""
    text = str(email or "").strip().lower()
    name, at, domain = text.partition("@")
    if not (name and at and domain) or any(c.isspace() for c in text):
        raise ServerError(f"{email!r} is not an email address: give one like name@example.com.")
    return text


class UserRepository:
    """Users (cached in memory by id, refreshed on every change made here), organizations
    and API keys."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, UserRow] = {}
        self._epoch = 0  # bumped by forget_all: a read begun before it fills nothing
        self.clock: Callable[[], float] = time.time  # when plugin runs' keys expire
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- first start, keys
    def ensure_api_key(self, api_key: str | None) -> str:
        """Make the first organization and its admin on first start; return a key of that
        admin: ``api_key`` (accepted from now on), else a new one (keys are stored hashed:
        one made earlier cannot be shown again)."""
        with self.db.write(append_only=True) as c:
            admin = c.execute(
                "SELECT u.id FROM users u JOIN organizations o ON o.id = u.organization_id "
                "WHERE coalesce(u.organization_role, 'USER') = 'ADMIN' "
                "AND coalesce(u.activated, 1) = 1 ORDER BY o.created_at, u.created_at LIMIT 1"
            ).fetchone()
            if admin is None:
                organization = self._insert_organization(c, FIRST_ORGANIZATION)
                user_id = self._insert_user(
                    c, organization.id, FIRST_ADMIN, "ADMIN", "Ada", "Admin", None
                ).id
            else:
                user_id = admin[0]
            key = api_key or secrets.token_urlsafe(32)
            c.execute(
                "INSERT INTO api_keys (key_hash, id, name, user_id, created_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                (hash_key(key), new_id(), "development key", user_id, now()),
            )
        return key

    def create_key(self, user_id: str, name: str = "api key") -> tuple[ApiKeyRow, str]:
        """A new key of the user: its row, and the key itself (shown this once)."""
        key = secrets.token_urlsafe(32)
        row = ApiKeyRow(new_id(), name, user_id, now())
        with self.db.write(append_only=True) as c:
            if c.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
                raise ServerError.not_found("User", user_id)
            c.execute(
                "INSERT INTO api_keys (key_hash, id, name, user_id, created_at) VALUES (?,?,?,?,?)",
                (hash_key(key), row.id, row.name, row.user_id, row.created_at),
            )
        return row, key

    def grant_run_key(self, user_id: str, ttl_s: float) -> str:
        """A key of the user for one plugin run, accepted by every process serving the
        database until :meth:`revoke_run_key`, or ``ttl_s`` seconds from now (a run whose
        process died); the rows of expired keys are removed meanwhile."""
        key = secrets.token_urlsafe(32)
        at = self.clock()
        with self.db.write(append_only=True) as c:
            c.execute("DELETE FROM run_keys WHERE expires_at <= ?", (at,))
            c.execute(
                "INSERT INTO run_keys (key_hash, id, user_id, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (hash_key(key), new_id(), user_id, now(), at + ttl_s),
            )
        return key

    def revoke_run_key(self, key: str) -> None:
        """The run is over: its key is refused from now on, by every process."""
        with self.db.write(append_only=True) as c:
            c.execute("DELETE FROM run_keys WHERE key_hash = ?", (hash_key(key),))

    def key_owner(self, digest: str) -> tuple[str, bool] | None:
        """The owner of a key (by its hash) that is neither revoked nor expired, and whether
        it is a plugin run's key (which a caller must not remember); ``None`` otherwise."""
        with self.db.read() as c:
            row = c.execute(
                "SELECT user_id, 0 FROM api_keys WHERE key_hash = ? AND coalesce(revoked, 0) = 0 "
                "UNION ALL SELECT user_id, 1 FROM run_keys WHERE key_hash = ? AND expires_at > ?",
                (digest, digest, self.clock()),
            ).fetchone()
        return None if row is None else (str(row[0]), bool(row[1]))

    def user_id_for_key(self, api_key: str) -> str | None:
        """The owner of a key that is not revoked, or ``None``."""
        with self.db.read() as c:
            row = c.execute(
                "SELECT user_id FROM api_keys WHERE key_hash = ? AND coalesce(revoked, 0) = 0",
                (hash_key(api_key),),
            ).fetchone()
        return None if row is None else str(row[0])

    def user_for_key(self, api_key: str) -> UserRow | None:
        user_id = self.user_id_for_key(api_key)
        return None if user_id is None else self.by_ids([user_id]).get(user_id)

    def api_keys(self, user_id: str, key: str | None = None) -> list[ApiKeyRow]:
        """The user's keys (``key``: only that one), oldest first, then those of its plugin
        runs going on."""
        own = "SELECT id, name, user_id, created_at, revoked FROM api_keys WHERE user_id = ?"
        runs = (
            "SELECT id, 'plugin run', user_id, created_at, 0 FROM run_keys "
            "WHERE user_id = ? AND expires_at > ?"
        )
        args: list[object] = [user_id]
        run_args: list[object] = [user_id, self.clock()]
        if key is not None:
            own, runs = own + " AND key_hash = ?", runs + " AND key_hash = ?"
            args, run_args = [*args, hash_key(key)], [*run_args, hash_key(key)]
        with self.db.read() as c:
            return [
                ApiKeyRow(i, n, u, at, bool(r))
                for sql, values in ((own, args), (runs, run_args))
                for i, n, u, at, r in c.execute(sql + " ORDER BY created_at, id", values)
            ]

    # ---------------------------------------------------------------- organizations, users
    @staticmethod
    def _insert_organization(c: Conn, name: str) -> OrganizationRow:
        row = OrganizationRow(new_id(), name, now())
        c.execute("INSERT INTO organizations VALUES (?,?,?)", (row.id, row.name, row.created_at))
        return row

    @staticmethod
    def _insert_user(
        c: Conn,
        organization_id: str,
        email: str,
        role: str,
        firstname: str | None,
        lastname: str | None,
        password: str | None,
    ) -> UserRow:
        if role not in ORGANIZATION_ROLES:
            raise ServerError(f"organizationRole must be ADMIN or USER, got {role!r}.")
        email = clean_email(email)
        if c.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
            raise ServerError(f'A user with the email "{email}" already exists: use another.')
        at = now()
        row = UserRow(new_id(), email, firstname, lastname, organization_id, at, role, True, at)
        c.execute(
            "INSERT INTO users (id, email, firstname, lastname, organization_id, created_at, "
            "organization_role, activated, updated_at, password_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                *(row.id, row.email, firstname, lastname, organization_id, at, role, 1, at),
                None if password is None else hash_password(password),
            ),
        )
        return row

    def create_organization(self, name: str) -> OrganizationRow:
        if not name.strip():
            raise ServerError("name is required: give the organization a non-empty name.")
        with self.db.write(append_only=True) as c:
            return self._insert_organization(c, name.strip())

    def create_user(
        self,
        organization_id: str,
        email: str,
        role: str = "USER",
        firstname: str | None = None,
        lastname: str | None = None,
        password: str | None = None,
    ) -> UserRow:
        """A new activated user of the organization (emails are unique across organizations)."""
        if password is not None:
            check_password(password)
        with self.db.write(append_only=True) as c:
            if not c.execute(
                "SELECT 1 FROM organizations WHERE id = ?", (organization_id,)
            ).fetchone():
                raise ServerError.not_found("Organization", organization_id)
            row = self._insert_user(c, organization_id, email, role, firstname, lastname, password)
        with self._lock:
            self._cache[row.id] = row
        return row

    def update(self, user_id: str, changes: Mapping[str, Any]) -> UserRow:
        """Set columns of ``users`` (``email``, ``firstname``, ``lastname``,
        ``organization_role``, ``activated``, ``organization_id``) of one user."""
        allowed = {"email", "firstname", "lastname", "organization_role", "activated"}
        unknown = set(changes) - allowed - {"organization_id"}
        if unknown:
            raise ValueError(f"not user columns: {unknown}")
        values = dict(changes)
        if "email" in values:
            values["email"] = clean_email(values["email"])
        if "activated" in values:
            values["activated"] = int(bool(values["activated"]))
        with self.db.write() as c:
            if (
                "email" in values
                and c.execute(
                    "SELECT 1 FROM users WHERE email = ? AND id <> ?", (values["email"], user_id)
                ).fetchone()
            ):
                raise ServerError(f'A user with the email "{values["email"]}" already exists.')
            if values:
                sets = ", ".join(f"{name} = ?" for name in values)
                c.execute(
                    f"UPDATE users SET {sets}, updated_at = ? WHERE id = ?",
                    (*values.values(), now(), user_id),
                )
        self._forget(user_id)
        return self.get(user_id)

    def set_password(self, user_id: str, password: str) -> UserRow:
        with self.db.write() as c:
            c.execute(
                "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                (hash_password(check_password(password)), now(), user_id),
            )
        self._forget(user_id)
        return self.get(user_id)

    def password_matches(self, user_id: str, password: str) -> bool:
        with self.db.read() as c:
            row = c.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
        return row is not None and password_matches(password, row[0])

    def forget_all(self) -> None:
        """Empty the cache (another process may have changed any user)."""
        with self._lock:
            self._epoch += 1
            self._cache = {}

    def _forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(user_id, None)

    def get(self, user_id: str) -> UserRow:
        found = self.by_ids([user_id]).get(user_id)
        if found is None:
            raise ServerError.not_found("User", user_id)
        return found

    def cached(self, user_id: str) -> UserRow | None:
        """The user if it is in memory (no read)."""
        return self._cache.get(user_id)

    def by_ids(self, ids: Sequence[str]) -> dict[str, UserRow]:
        cache, epoch = self._cache, self._epoch
        missing = [i for i in set(ids) if i and i not in cache]
        found = {i: cache[i] for i in ids if i in cache}
        if missing:
            rows: list[UserRow] = []
            with self.db.read() as c:
                for part in chunks(missing):
                    sql = f"SELECT {COLUMNS.sql} FROM users u WHERE u.id IN ({marks(len(part))})"
                    rows += [COLUMNS.row(r) for r in c.execute(sql, list(part))]
            found.update((u.id, u) for u in rows)
            with self._lock:
                if self._epoch == epoch:  # else forgotten meanwhile: may be stale
                    self._cache.update((u.id, u) for u in rows)
        return {i: found[i] for i in ids if i in found}

    def by_email(self, email: str) -> UserRow | None:
        """The user with this email, in any organization (callers check which)."""
        with self.db.read() as c:
            row = c.execute(
                f"SELECT {COLUMNS.sql} FROM users u WHERE u.email = ?", (email.strip().lower(),)
            ).fetchone()
        return None if row is None else COLUMNS.row(row)

    def admins(self, organization_id: str) -> list[UserRow]:
        """The activated ADMINs of the organization, oldest first."""
        with self.db.read() as c:
            return [
                COLUMNS.row(r)
                for r in c.execute(
                    f"SELECT {COLUMNS.sql} FROM users u WHERE u.organization_id = ? "
                    "AND coalesce(u.organization_role, 'USER') = 'ADMIN' "
                    "AND coalesce(u.activated, 1) = 1 ORDER BY u.created_at, u.id",
                    (organization_id,),
                )
            ]

    def search(
        self, org: str, where: Mapping[str, Any], skip: int = 0, first: int | None = None
    ) -> list[UserRow]:
        """Users of organization ``org`` matching a ``UserWhere``, oldest first."""
        q = user_sql(where, org)
        sql = (
            f"SELECT {COLUMNS.sql} FROM users u WHERE {q.sql} ORDER BY u.created_at, u.id "
            "LIMIT ? OFFSET ?"
        )
        with self.db.read() as c:
            rows = [COLUMNS.row(r) for r in c.execute(sql, [*q.args, first or NO_LIMIT, skip])]
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
            return [OrganizationRow(*r) for r in c.execute(sql, [*q.args, first or NO_LIMIT, skip])]

    def count_organizations(self, org: str, where: Mapping[str, Any]) -> int:
        q = organization_sql(where, org)
        with self.db.read() as c:
            found = c.execute(f"SELECT COUNT(*) FROM organizations o WHERE {q.sql}", q.args)
            return int(found.fetchone()[0])

    def organizations(self, ids: Sequence[str]) -> dict[str, OrganizationRow]:
        with self.db.read() as c:
            sql = f"SELECT * FROM organizations WHERE id IN ({marks(len(ids))})"
            return {r[0]: OrganizationRow(*r) for r in c.execute(sql, list(ids))}

    def metrics(self, organization_id: str, start: str, end: str) -> dict[str, Any]:
        """What the organization's members did between ``start`` and ``end`` (ISO-8601):
        annotations (categories given, in classifications and objects) and hours spent in
        the labels written then, and the assets those labels are on."""
        window = (
            "FROM labels l JOIN projects p ON p.id = l.project_id WHERE p.organization_id = ? "
            "AND l.created_at >= ? AND l.created_at <= ? AND l.label_type IN "
            "('DEFAULT', 'REVIEW', 'AUTOSAVE')"
        )
        args = (organization_id, start, end)
        with self.db.read() as c:
            seconds, assets = c.execute(
                f"SELECT coalesce(sum(l.seconds_to_label), 0), count(DISTINCT l.asset_id) {window}",
                args,
            ).fetchone()
            annotations = c.execute(
                "SELECT coalesce(sum(lc.count), 0) FROM label_categories lc WHERE lc.label_id IN "
                f"(SELECT l.id {window})",
                args,
            ).fetchone()[0]
        return {
            "numberOfAnnotations": int(annotations),
            "numberOfHours": round(float(seconds) / 3600, 4),
            "numberOfLabeledAssets": int(assets),
        }


def user_sql(where: Mapping[str, Any], org: str) -> Sql:
    """``UserWhere`` on ``users u``, within organization ``org``. A caller who is not an
    organization admin sees itself and the members of its projects."""
    q = Sql()
    q.add("u.organization_id = ?", org)
    caller = access.current()
    if caller is not None and not caller.org_admin:
        q.add(
            "(u.id = ? OR u.id IN (SELECT m.user_id FROM project_users m WHERE m.project_id IN "
            "(SELECT mine.project_id FROM project_users mine WHERE mine.user_id = ?)))",
            caller.user_id,
            caller.user_id,
        )
    if where.get("id") is not None:
        q.add("u.id = ?", where["id"])
    q.add_in("u.id", where.get("idIn"), "where.idIn")
    if where.get("email") is not None:
        q.add("u.email = ?", str(where["email"]).strip().lower())
    if where.get("activated") is not None:
        q.add("coalesce(u.activated, 1) = ?", int(bool(where["activated"])))
    organization_id = (where.get("organization") or {}).get("id")
    if organization_id is not None:
        q.add("u.organization_id = ?", organization_id)
    if where.get("apiKey") is not None:
        q.add(
            "u.id IN (SELECT k.user_id FROM api_keys k WHERE k.key_hash = ?)",
            hash_key(str(where["apiKey"])),
        )
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
