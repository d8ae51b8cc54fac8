"""Organizations, users and API keys made on the server side, where a new key can be shown:
what ``aiokili orgs create`` / ``aiokili users create`` and the pytest plugin use.

Through the API, ``createUser`` and ``createOrganization`` make users and organizations
but no key (keys are stored hashed, and the platform mails its invitations): a key comes
from here, printed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ServerError
from .store import Store
from .store.users import UserRow


@dataclass(frozen=True)
class Account:
    """A user and one of its API keys (shown this once: the server keeps its hash)."""

    user_id: str
    email: str
    organization_id: str
    organization_role: str
    api_key: str = field(repr=False)


def first_organization(store: Store) -> str:
    """The id of the oldest organization (the one ``aiokili server`` made first)."""
    with store.db.read() as c:
        row = c.execute("SELECT id FROM organizations ORDER BY created_at, id LIMIT 1").fetchone()
    if row is None:
        raise ServerError("The database has no organization: start `aiokili server` on it once.")
    return str(row[0])


def _account(store: Store, user: UserRow, key_name: str) -> Account:
    _, key = store.users.create_key(user.id, key_name)
    return Account(user.id, user.email, user.organization_id, user.organization_role, key)


def add_user(
    store: Store,
    email: str,
    organization_role: str = "USER",
    *,
    organization_id: str | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    password: str | None = None,
) -> Account:
    """A new user (of ``organization_id``, default the first organization) and a key."""
    user = store.users.create_user(
        organization_id or first_organization(store),
        email,
        organization_role,
        firstname,
        lastname,
        password,
    )
    return _account(store, user, "api key")


def add_organization(store: Store, name: str, admin_email: str) -> Account:
    """A new organization with its first ADMIN, and a key of that admin."""
    organization = store.users.create_organization(name)
    return add_user(store, admin_email, "ADMIN", organization_id=organization.id)


def add_key(store: Store, email: str, name: str = "api key") -> Account:
    """A new key of an existing user (a user may have several)."""
    user = store.users.by_email(email)
    if user is None:
        raise ServerError(f'No user "{email}" in this database.', "NOT_FOUND")
    return _account(store, user, name)
