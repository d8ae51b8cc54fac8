"""Users and organizations: look-ups (the key's user, members, organizations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core.base import Domain
from ._core.inputs import FILTERS_CONFIG, check_filters, where_from
from ._core.listing import Listing, ListingSpec
from ._core.selection import build_selection
from ._generated import input_types as inputs
from ._generated.operations import (
    COUNT_ORGANIZATIONS_GQL,
    COUNT_USERS_GQL,
    ORGANIZATIONS_GQL,
    USERS_GQL,
)
from .errors import KiliInputError
from .models import Organization, UserProfile


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


@with_config(FILTERS_CONFIG)
class OrganizationFilters(TypedDict, total=False):
    """Filters of :meth:`UserMethods.organizations` and ``count_organizations``."""

    email: str
    """The organization of the user with this email."""
    organization_id: str
    """The organization with this id."""


_USER_WHERE = {
    "email": "email",
    "organization_id": "organization.id",
    "api_key": "api_key",
    "user_id": "id",
    "id_in": "id_in",
    "activated": "activated",
}
_ORGANIZATION_WHERE = {"email": "user.email", "organization_id": "id"}

USERS = ListingSpec(
    model=UserProfile,
    fragment="UserProfile",
    page_document=USERS_GQL,
    page_operation="Users",
    count_document=COUNT_USERS_GQL,
    count_operation="CountUsers",
)
ORGANIZATIONS = ListingSpec(
    model=Organization,
    fragment="Organization",
    page_document=ORGANIZATIONS_GQL,
    page_operation="Organizations",
    count_document=COUNT_ORGANIZATIONS_GQL,
    count_operation="CountOrganizations",
)


def _user_where(method: str, filters: dict[str, Any]) -> inputs.UserWhere:
    return where_from(inputs.UserWhere, check_filters(UserFilters, filters, method), _USER_WHERE)


def _organization_where(method: str, filters: dict[str, Any]) -> inputs.OrganizationWhere:
    checked = check_filters(OrganizationFilters, filters, method)
    return where_from(inputs.OrganizationWhere, checked, _ORGANIZATION_WHERE)


class UserMethods(Domain):
    """User and organization methods of :class:`~aiokili.AsyncKili`."""

    def users(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        **filters: Unpack[UserFilters],
    ) -> Listing[UserProfile]:
        """Users matching the filters, oldest first (see :class:`UserFilters`).

        ``await kili.users(organization_id=org.id)`` lists an organization's members.

        Args:
            fields: field paths (e.g. ``["id", "email"]``); default: every field of
                :class:`~aiokili.UserProfile`.
            first: maximum number of users (default: all). skip: users to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
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

    def organizations(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        **filters: Unpack[OrganizationFilters],
    ) -> Listing[Organization]:
        """Organizations matching the filters (see :class:`OrganizationFilters`).

        With an API key, that is the key's organization; ``email=`` gives a user's.

        Args:
            fields: field paths (e.g. ``["id", "name", "license.uploadLocalData"]``).
            first: maximum number (default: all). skip: organizations to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
        """
        where = _organization_where("organizations", dict(filters))
        return self._core.listing(ORGANIZATIONS, where, fields=fields, first=first, skip=skip)

    async def count_organizations(self, **filters: Unpack[OrganizationFilters]) -> int:
        """Number of organizations matching the filters (see :class:`OrganizationFilters`)."""
        where = _organization_where("count_organizations", dict(filters))
        return (await self._core.gql.count_organizations(where=where)).data
