"""Project members and their roles: add (``append_to_roles``), list, count, change, remove.

A member holds one project role: ``ADMIN`` (anything in the project), ``TEAM_MANAGER``
(operations, and the LABELERs and REVIEWERs), ``REVIEWER`` or ``LABELER``. An organization
ADMIN is an ADMIN of every project of the organization without being listed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core.base import Domain
from ._core.calls import user_stacklevel
from ._core.inputs import FILTERS_CONFIG, build, check_filters, where_from
from ._core.listing import Lazy, Listing, ListingSource, ListingSpec
from ._generated import input_types as inputs
from ._generated.operations import COUNT_PROJECT_USERS_GQL, PROJECT_USERS_GQL
from .errors import InvalidResponseError, KiliInputError
from .models import ProjectRole, ProjectUser, ProjectUserStatus

ProjectRoleName = Literal["ADMIN", "TEAM_MANAGER", "REVIEWER", "LABELER"]
"""Names of :class:`ProjectRole`."""
ProjectUserStatusName = Literal["ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED"]
"""Names of :class:`ProjectUserStatus`."""
_STATUSES: tuple[ProjectUserStatusName, ...] = ("ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED")


@with_config(FILTERS_CONFIG)
class ProjectUserFilters(TypedDict, total=False):
    """Filters of :meth:`MemberMethods.project_users` and ``count_project_users``."""

    email: str
    """The member with this email."""
    id: str
    """The membership with this id (the ProjectUser id, not the user's)."""
    organization_id: str
    """Members whose user is of this organization."""
    status_in: Sequence[ProjectUserStatus | ProjectUserStatusName]
    """Only members with these statuses (default: all): ``ACTIVATED``, ``ORG_ADMIN`` (an
    organization ADMIN) or ``ORG_SUSPENDED`` (a deactivated user)."""


_WHERE = {
    "email": "user.email",
    "id": "id",
    "organization_id": "user.organization.id",
    "status_in": "status",
}

PROJECT_USERS = ListingSpec(
    model=ProjectUser,
    fragment="ProjectUser",
    page_document=PROJECT_USERS_GQL,
    page_operation="ProjectUsers",
    count_document=COUNT_PROJECT_USERS_GQL,
    count_operation="CountProjectUsers",
)


def _wheres(
    method: str, project_id: object, filters: dict[str, Any]
) -> tuple[inputs.ProjectUserWhere, list[inputs.ProjectUserWhere] | None]:
    """The ``where`` of the filters without status, and one per status asked for (the API
    filters on one status at a time; None: all statuses)."""
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError(f"{method}() needs project_id, the id of the project.")
    if isinstance(filters.get("status_in"), str):
        raise KiliInputError(f'{method}(): status_in takes a list, e.g. ["ACTIVATED"].')
    checked: dict[str, Any] = dict(check_filters(ProjectUserFilters, filters, method))
    statuses: Sequence[object] | None = checked.pop("status_in", None)
    base = where_from(
        inputs.ProjectUserWhere, checked, _WHERE, project={"id": project_id}, deleted=False
    )
    if statuses is None:
        return base, None
    given = {str(getattr(x, "value", x)) for x in statuses}
    wanted = [s for s in _STATUSES if s in given]
    if len(wanted) == len(_STATUSES):
        return base, None
    return base, [base.model_copy(update={"status": ProjectUserStatus(s)}) for s in wanted]


class _ByStatus(Listing[ProjectUser]):
    """Members of some statuses (not all): the listing of each status in turn."""

    def __init__(
        self,
        core: ListingSource,
        base: inputs.ProjectUserWhere,
        wheres: Sequence[inputs.ProjectUserWhere],
        *,
        fields: Sequence[str] | None,
        first: int | None,
        skip: int,
    ) -> None:
        super().__init__(core, PROJECT_USERS, base, fields=fields, first=first, skip=skip)
        self._parts = [Listing(core, PROJECT_USERS, w, fields=fields) for w in wheres]
        self._totals: Lazy[list[int]] = Lazy(self._count_parts)

    async def _count_parts(self) -> list[int]:
        return [await part._total() for part in self._parts]

    async def _total(self) -> int:
        return sum(await self._totals.get())

    async def _fetch(self, skip: int, first: int) -> Sequence[ProjectUser]:
        found: list[ProjectUser] = []
        for part, total in zip(self._parts, await self._totals.get(), strict=True):
            if skip >= total:
                skip -= total
                continue
            take = min(first - len(found), total - skip)
            if take > 0:
                found += await part._fetch(skip, take)
            skip = 0
            if len(found) >= first:
                break
        return found


def _role(value: object, name: str = "role") -> ProjectRole:
    try:
        return ProjectRole(getattr(value, "value", value))
    except ValueError:
        raise KiliInputError(
            f"{name} must be one of ADMIN, TEAM_MANAGER, REVIEWER, LABELER; got {value!r}."
        ) from None


def _email(value: object, name: str = "user_email") -> str:
    if not isinstance(value, str) or "@" not in value.strip():
        raise KiliInputError(f"{name} must be an email address, got {value!r}.")
    return value.strip().lower()


def _id(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise KiliInputError(f"{name} must be a non-empty string, got {value!r}.")
    return value


class MemberMethods(Domain):
    """Project member methods of :class:`~aiokili.AsyncKili`."""

    async def append_to_roles(
        self,
        project_id: str,
        user_email: str,
        role: ProjectRole | ProjectRoleName = "LABELER",
    ) -> ProjectUser:
        """Make the user with this email a member of the project with ``role`` (default
        LABELER), or give a member that role; return the membership.

        A user not yet in the organization is invited (created in it) when an organization
        ADMIN calls. Giving or changing the ADMIN and TEAM_MANAGER roles needs the project
        role ADMIN; LABELER and REVIEWER, TEAM_MANAGER.
        """
        project_id, email, wanted = _id(project_id, "project_id"), _email(user_email), _role(role)
        data = inputs.AppendToRolesData(role=wanted, user_email=email)
        project = (
            await self._core.gql.append_to_roles(
                data=data, where=inputs.ProjectWhere(id=project_id)
            )
        ).data
        for member in project.roles:
            if member.user.email == email and member.role == wanted:
                return member
        raise InvalidResponseError(
            f"append_to_roles(): the project's members do not list {email} as {wanted}."
        )

    def project_users(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[ProjectUserFilters],
    ) -> Listing[ProjectUser]:
        """The project's members, oldest first (see :class:`ProjectUserFilters`).

        A TEAM_MANAGER or ADMIN of the project sees every member; a REVIEWER or LABELER, its
        own membership. With ``status_in`` naming two statuses, the members of the first
        come first.

        Args:
            project_id: the project.
            fields: field paths (e.g. ``["id", "role", "user.email"]``); default: every
                field of :class:`~aiokili.ProjectUser`.
            first: maximum number (default: all). skip: members to skip.
            disable_tqdm, as_generator: accepted for compatibility: a listing streams
                (``async for``) or gives a list (``await``).
        """
        base, by_status = _wheres("project_users", project_id, dict(filters))
        if by_status is None:
            return self._core.listing(PROJECT_USERS, base, fields=fields, first=first, skip=skip)
        return _ByStatus(self._core, base, by_status, fields=fields, first=first, skip=skip)

    async def count_project_users(
        self, project_id: str, **filters: Unpack[ProjectUserFilters]
    ) -> int:
        """Number of the project's members matching the filters (see
        :class:`ProjectUserFilters`)."""
        base, by_status = _wheres("count_project_users", project_id, dict(filters))
        total = 0
        for where in [base] if by_status is None else by_status:
            total += (await self._core.gql.count_project_users(where=where)).data
        return total

    async def update_properties_in_project_user(
        self, project_id: str, user_email: str, role: ProjectRole | ProjectRoleName
    ) -> ProjectUser:
        """Give the member with this email another role in the project; return the
        membership. Needs the project role TEAM_MANAGER (ADMIN for the ADMIN and
        TEAM_MANAGER roles) or an organization ADMIN."""
        where = inputs.ProjectUserWhere(
            project=inputs.ProjectWhere(id=_id(project_id, "project_id")),
            user=inputs.ProjectUserUserWhere(email=_email(user_email)),
        )
        result = await self._core.gql.update_properties_in_role(
            data=inputs.RoleData(role=_role(role)), where=where
        )
        return result.data

    async def update_properties_in_role(
        self, role_id: str, project_id: str, user_id: str, role: ProjectRole | ProjectRoleName
    ) -> ProjectUser:
        """Deprecated (as in the official SDK): use :meth:`update_properties_in_project_user`.

        Give the membership ``role_id`` (a ProjectUser id) of ``user_id`` in ``project_id``
        another role; return it.
        """
        warnings.warn(
            "update_properties_in_role is deprecated: use update_properties_in_project_user.",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )
        data = build(
            inputs.RoleData,
            role=_role(role),
            project_id=_id(project_id, "project_id"),
            user_id=_id(user_id, "user_id"),
        )
        where = inputs.ProjectUserWhere(id=_id(role_id, "role_id"))
        return (await self._core.gql.update_properties_in_role(data=data, where=where)).data

    async def delete_from_roles(
        self,
        role_id: str | None = None,
        user_email: str | None = None,
        project_id: str | None = None,
    ) -> str:
        """Remove a member from its project: by ``role_id`` (the ProjectUser id), or by
        ``user_email`` and ``project_id``. Return the project's id."""
        if role_id is not None:
            where = inputs.ProjectUserWhere(id=_id(role_id, "role_id"))
        elif user_email is not None and project_id is not None:
            where = inputs.ProjectUserWhere(
                project=inputs.ProjectWhere(id=_id(project_id, "project_id")),
                user=inputs.ProjectUserUserWhere(email=_email(user_email)),
            )
        else:
            raise KiliInputError(
                "delete_from_roles needs role_id, or user_email and project_id together."
            )
        return (await self._core.gql.delete_from_roles(where=where)).data.id
