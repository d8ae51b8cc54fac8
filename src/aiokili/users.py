"""Users of the organization: look-ups (the key's user, the members), creation, updates
(names, role, activation), passwords."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core.base import Domain
from ._core.inputs import FILTERS_CONFIG, build, check_bools, check_filters, where_from
from ._core.listing import Listing, ListingSpec
from ._core.selection import build_selection
from ._generated import input_types as inputs
from ._generated.operations import COUNT_USERS_GQL, USERS_GQL
from .errors import KiliInputError
from .models import OrganizationRole, UserProfile

OrganizationRoleName = Literal["ADMIN", "USER"]
"""Names of :class:`OrganizationRole`."""


@with_config(FILTERS_CONFIG)
class UserFilters(TypedDict, total=False):
    """Filters of :meth:`UserMethods.users` and :meth:`UserMethods.count_users`."""

    email: str
    """The user with this email."""
    organization_id: str
    """Members of this organization."""
    api_key: str
    """The owner of this API key (older SDKs' filter)."""
    user_id: str
    """The user with this id."""
    id_in: Sequence[str]
    """Users with these ids."""
    activated: bool
    """Only activated (True) or only deactivated (False) users."""


_USER_WHERE = {
    "email": "email",
    "organization_id": "organization.id",
    "api_key": "api_key",
    "user_id": "id",
    "id_in": "id_in",
    "activated": "activated",
}

USERS = ListingSpec(
    model=UserProfile,
    fragment="UserProfile",
    page_document=USERS_GQL,
    page_operation="Users",
    count_document=COUNT_USERS_GQL,
    count_operation="CountUsers",
)


def _user_where(method: str, filters: dict[str, Any]) -> inputs.UserWhere:
    return where_from(inputs.UserWhere, check_filters(UserFilters, filters, method), _USER_WHERE)


class UserMethods(Domain):
    """User methods of :class:`~aiokili.AsyncKili`."""

    def users(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[UserFilters],
    ) -> Listing[UserProfile]:
        """Users matching the filters, oldest first (see :class:`UserFilters`).

        ``await kili.users()`` lists the organization's users (an organization ADMIN sees
        them all; a USER, itself and the members of its projects).

        Args:
            fields: field paths (e.g. ``["id", "email"]``); default: every field of
                :class:`~aiokili.UserProfile`.
            first: maximum number of users (default: all). skip: users to skip.
            disable_tqdm, as_generator: accepted for compatibility: a listing streams
                (``async for``) or gives a list (``await``).
        """
        where = _user_where("users", dict(filters))
        return self._core.listing(USERS, where, fields=fields, first=first, skip=skip)

    async def count_users(self, **filters: Unpack[UserFilters]) -> int:
        """Number of users matching the filters (see :class:`UserFilters`)."""
        where = _user_where("count_users", dict(filters))
        return (await self._core.gql.count_users(where=where)).data

    async def get_current_user(self, fields: Sequence[str] | None = None) -> UserProfile:
        """The user of the API key, with every field of :class:`~aiokili.UserProfile`.

        ``fields`` is accepted for compatibility and checked (an unknown field is a
        :class:`~aiokili.KiliInputError`); the profile is small, so all of it is fetched.
        """
        if fields is not None:
            if isinstance(fields, str) or not isinstance(fields, Sequence):
                raise KiliInputError("fields= takes a list of field names, e.g. ['id', 'email'].")
            build_selection(UserProfile, tuple(fields))
        return (await self._core.gql.current_user()).data

    async def create_user(
        self,
        email: str,
        password: str,
        organization_role: OrganizationRole | OrganizationRoleName,
        firstname: str | None = None,
        lastname: str | None = None,
    ) -> UserProfile:
        """Add a user to your organization (needs the organization role ADMIN); return it.

        ``password`` (at least 8 characters) is the one of its first sign-in;
        ``organization_role`` is ``"ADMIN"`` or ``"USER"``. On the local server the user
        gets no API key from this call: ``aiokili users key --email`` makes one.
        """
        data = build(
            inputs.CreateUserData,
            email=_email(email, "email"),
            password=_text(password, "password"),
            organization_role=_organization_role(organization_role),
            firstname=firstname,
            lastname=lastname,
        )
        return (await self._core.gql.create_user(data=data)).data

    async def update_properties_in_user(
        self,
        email: str,
        firstname: str | None = None,
        lastname: str | None = None,
        organization_id: str | None = None,
        organization_role: OrganizationRole | OrganizationRoleName | None = None,
        activated: bool | None = None,
    ) -> UserProfile:
        """Update the user with this email (None = leave unchanged); return it.

        Anyone may change their own first and last name; the rest (another user, the
        organization role, ``activated``, ``organization_id``) needs the organization role
        ADMIN. ``activated=False`` deactivates the user but keeps it: its API keys are
        refused from the next request on; ``True`` lets them in again.
        """
        check_bools(activated=activated)
        data = build(
            inputs.UserData,
            firstname=firstname,
            lastname=lastname,
            organization_id=organization_id,
            organization_role=None
            if organization_role is None
            else _organization_role(organization_role),
            activated=activated,
        )
        where = inputs.UserWhere(email=_email(email, "email"))
        return (await self._core.gql.update_properties_in_user(data=data, where=where)).data

    async def update_password(
        self, email: str, old_password: str, new_password_1: str, new_password_2: str
    ) -> UserProfile:
        """Change your own password: ``old_password``, then the new one twice (at least 8
        characters). Return the user."""
        if _text(new_password_1, "new_password_1") != _text(new_password_2, "new_password_2"):
            raise KiliInputError("new_password_1 and new_password_2 differ: type it twice.")
        data = inputs.UpdatePasswordData(
            old_password=_text(old_password, "old_password"),
            new_password_1=new_password_1,
            new_password_2=new_password_2,
        )
        where = inputs.UserWhere(email=_email(email, "email"))
        return (await self._core.gql.update_password(data=data, where=where)).data


def _email(value: object, name: str) -> str:
    if not isinstance(value, str) or "@" not in value.strip():
        raise KiliInputError(f"{name} must be an email address, got {value!r}.")
    return value.strip().lower()


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise KiliInputError(f"{name} must be a non-empty string.")  # never echo a password
    return value


def _organization_role(value: object) -> OrganizationRole:
    try:
        return OrganizationRole(getattr(value, "value", value))
    except ValueError:
        raise KiliInputError(
            f"organization_role must be ADMIN or USER, got {value!r} (project roles are "
            "given in a project: append_to_roles)."
        ) from None
