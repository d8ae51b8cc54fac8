"""Organizations: look-ups (an API key sees its own organization) and their metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core.base import Domain
from ._core.inputs import FILTERS_CONFIG, check_filters, where_from
from ._core.listing import Listing, ListingSpec
from ._core.selection import build_selection
from ._generated import input_types as inputs
from ._generated.operations import COUNT_ORGANIZATIONS_GQL, ORGANIZATIONS_GQL
from .errors import KiliInputError
from .models import Organization, OrganizationMetrics


@with_config(FILTERS_CONFIG)
class OrganizationFilters(TypedDict, total=False):
    """Filters of :meth:`OrganizationMethods.organizations` and ``count_organizations``."""

    email: str
    """The organization of the user with this email."""
    organization_id: str
    """The organization with this id."""


_WHERE = {"email": "user.email", "organization_id": "id"}

ORGANIZATIONS = ListingSpec(
    model=Organization,
    fragment="Organization",
    page_document=ORGANIZATIONS_GQL,
    page_operation="Organizations",
    count_document=COUNT_ORGANIZATIONS_GQL,
    count_operation="CountOrganizations",
)


def _where(method: str, filters: dict[str, object]) -> inputs.OrganizationWhere:
    checked = check_filters(OrganizationFilters, filters, method)
    return where_from(inputs.OrganizationWhere, checked, _WHERE)


def _instant(name: str, value: object) -> datetime:
    """A metrics bound: an aware datetime (a naive one is taken as UTC); default now."""
    if value is None:
        return datetime.now(timezone.utc)
    if not isinstance(value, datetime):
        raise KiliInputError(f"{name} must be a datetime, got {value!r}.")
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class OrganizationMethods(Domain):
    """Organization methods of :class:`~aiokili.AsyncKili`."""

    def organizations(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[OrganizationFilters],
    ) -> Listing[Organization]:
        """Organizations matching the filters (see :class:`OrganizationFilters`).

        With an API key, that is the key's organization; ``email=`` gives a user's.

        Args:
            fields: field paths (e.g. ``["id", "name", "license.uploadLocalData"]``).
            first: maximum number (default: all). skip: organizations to skip.
            disable_tqdm, as_generator: accepted for compatibility: a listing streams
                (``async for``) or gives a list (``await``).
        """
        where = _where("organizations", dict(filters))
        return self._core.listing(ORGANIZATIONS, where, fields=fields, first=first, skip=skip)

    async def count_organizations(self, **filters: Unpack[OrganizationFilters]) -> int:
        """Number of organizations matching the filters (see :class:`OrganizationFilters`)."""
        where = _where("count_organizations", dict(filters))
        return (await self._core.gql.count_organizations(where=where)).data

    async def organization_metrics(
        self,
        organization_id: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        fields: Sequence[str] | None = None,
    ) -> OrganizationMetrics:
        """What the organization's members labelled between ``start_date`` and ``end_date``
        (datetimes, default now; naive ones are UTC): annotations, hours spent, labelled
        assets. Needs the organization role ADMIN.

        ``fields`` is accepted for compatibility and checked (an unknown field is a
        :class:`~aiokili.KiliInputError`); the three metrics are always fetched.
        """
        if not isinstance(organization_id, str) or not organization_id:
            raise KiliInputError(
                f"organization_id must be a non-empty string, got {organization_id!r}."
            )
        if fields is not None:
            if isinstance(fields, str) or not isinstance(fields, Sequence):
                raise KiliInputError("fields= takes a list of field names, e.g. ['numberOfHours'].")
            build_selection(OrganizationMetrics, tuple(fields))
        start, end = _instant("start_date", start_date), _instant("end_date", end_date)
        if start > end:
            raise KiliInputError(f"start_date ({start}) is after end_date ({end}).")
        where = inputs.OrganizationMetricsWhere(
            organization_id=organization_id, start_date=start, end_date=end
        )
        return (await self._core.gql.get_organization_metrics(where=where)).data
