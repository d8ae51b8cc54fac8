"""Projects: create, list, count, update, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core import Domain
from ._generated.input_types import CreateProjectData, ProjectData, ProjectWhere
from ._generated.operations import COUNT_PROJECTS_GQL, PROJECTS_GQL
from ._inputs import (
    FILTERS_CONFIG,
    as_list,
    build,
    check_bools,
    check_filters,
    check_int,
    check_number,
    json_text,
    where_from,
)
from ._listing import Listing, ListingSpec
from .errors import KiliInputError
from .models import InputType, Project

InputTypeName = Literal[
    "IMAGE", "GEOSPATIAL", "PDF", "TEXT", "VIDEO", "LLM_RLHF", "LLM_INSTR_FOLLOWING",
    "LLM_STATIC", "AUDIO",
]  # fmt: skip
"""Names of :class:`~aiokili.InputType` (a test keeps the two in step)."""
ComplianceTagName = Literal["PHI", "PII"]
"""Names of :class:`~aiokili.ComplianceTag`."""


@with_config(FILTERS_CONFIG)
class ProjectFilters(TypedDict, total=False):
    """Filters of :meth:`ProjectMethods.projects` and :meth:`ProjectMethods.count_projects`."""

    project_id: str
    """Only this project."""
    search_query: str
    """Title pattern, SQL ``LIKE`` style (``"cats%"``)."""
    should_relaunch_kpi_computation: bool
    updated_at_gte: str
    """Updated on or after this date (``"YYYY-MM-DD"`` or ISO-8601)."""
    updated_at_lte: str
    archived: bool
    """Only archived (True) or only active (False) projects."""
    starred: bool
    organization_id: str
    deleted: bool


_WHERE = {name: name for name in ProjectFilters.__annotations__} | {"project_id": "id"}

PROJECTS = ListingSpec(
    model=Project,
    fragment="Project",
    page_document=PROJECTS_GQL,
    page_operation="Projects",
    count_document=COUNT_PROJECTS_GQL,
    count_operation="CountProjects",
)


def _where(method: str, filters: dict[str, Any]) -> ProjectWhere:
    return where_from(ProjectWhere, check_filters(ProjectFilters, filters, method), _WHERE)


def _compliance_tags(value: Any) -> list[str] | None:
    return as_list("compliance_tags", value, str)


class ProjectMethods(Domain):
    """Project methods of :class:`~aiokili.AsyncKili`."""

    async def create_project(
        self,
        title: str,
        description: str = "",
        input_type: InputType | InputTypeName | None = None,
        json_interface: dict[str, Any] | None = None,
        compliance_tags: Sequence[ComplianceTagName] | None = None,
        from_demo_project: str | None = None,
    ) -> Project:
        """Create a project and return it.

        Args:
            title: project title (not empty).
            description: free text, default "".
            input_type: e.g. "IMAGE", "TEXT", "PDF", "VIDEO"; required unless
                ``from_demo_project`` is given.
            json_interface: the ontology, a dict (``{"jobs": {...}}``); required unless
                ``from_demo_project`` is given.
            compliance_tags: subset of ["PHI", "PII"].
            from_demo_project: name of a Kili demo project to copy.
        """
        if not isinstance(title, str) or not title.strip():
            raise KiliInputError(f"title must be a non-empty string, got {title!r}.")
        if from_demo_project is None and (input_type is None or json_interface is None):
            raise KiliInputError(
                "create_project needs input_type (e.g. 'IMAGE') and json_interface "
                "(e.g. {'jobs': {...}}), unless from_demo_project is given."
            )
        data = build(
            CreateProjectData,
            title=title,
            description=description,
            input_type=input_type,
            json_interface=None
            if json_interface is None
            else json_text("json_interface", json_interface),
            compliance_tags=_compliance_tags(compliance_tags),
            from_demo_project=from_demo_project,
        )
        return (await self._core.gql.create_project(data=data)).data

    def projects(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        **filters: Unpack[ProjectFilters],
    ) -> Listing[Project]:
        """Projects matching the filters, oldest first (see :class:`ProjectFilters`).

        ``async for p in kili.projects(): ...`` or ``await kili.projects()`` for a list.

        Args:
            fields: field paths to fetch (e.g. ``["id", "title", "roles.user.email"]``);
                default: every field of :class:`~aiokili.Project`.
            first: maximum number of projects (default: all). skip: projects to skip.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
        """
        where = _where("projects", dict(filters))
        return self._core.listing(PROJECTS, where, fields=fields, first=first, skip=skip)

    async def count_projects(self, **filters: Unpack[ProjectFilters]) -> int:
        """Number of projects matching the filters (see :class:`ProjectFilters`)."""
        where = _where("count_projects", dict(filters))
        return (await self._core.gql.count_projects(where=where)).data

    async def update_properties_in_project(
        self,
        project_id: str,
        can_navigate_between_assets: bool | None = None,
        can_skip_asset: bool | None = None,
        compliance_tags: Sequence[ComplianceTagName] | None = None,
        consensus_mark: float | None = None,
        consensus_tot_coverage: int | None = None,
        description: str | None = None,
        honeypot_mark: float | None = None,
        instructions: str | None = None,
        json_interface: dict[str, Any] | None = None,
        min_consensus_size: int | None = None,
        review_coverage: int | None = None,
        should_relaunch_kpi_computation: bool | None = None,
        use_honeypot: bool | None = None,
        title: str | None = None,
        metadata_properties: dict[str, Any] | None = None,
        should_auto_assign: bool | None = None,
    ) -> Project:
        """Update the given properties of a project (None = leave unchanged); return it.

        ``consensus_tot_coverage`` and ``review_coverage`` are percentages (0-100);
        ``min_consensus_size`` is 1-10; marks are 0-1.
        """
        for name, value in (("consensus_tot_coverage", consensus_tot_coverage),
                            ("review_coverage", review_coverage)):  # fmt: skip
            if value is not None:
                check_int(name, value, 0, 100)
        if min_consensus_size is not None:
            check_int("min_consensus_size", min_consensus_size, 1, 10)
        for name, mark in (("consensus_mark", consensus_mark), ("honeypot_mark", honeypot_mark)):
            if mark is not None:
                check_number(name, mark, 0, 1)
        check_bools(
            can_navigate_between_assets=can_navigate_between_assets,
            can_skip_asset=can_skip_asset,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            use_honeypot=use_honeypot,
            should_auto_assign=should_auto_assign,
        )
        if metadata_properties is not None and not isinstance(metadata_properties, dict):
            raise KiliInputError("metadata_properties must be a dict.")
        data = build(
            ProjectData,
            can_navigate_between_assets=can_navigate_between_assets,
            can_skip_asset=can_skip_asset,
            compliance_tags=_compliance_tags(compliance_tags),
            consensus_mark=consensus_mark,
            consensus_tot_coverage=consensus_tot_coverage,
            description=description,
            honeypot_mark=honeypot_mark,
            instructions=instructions,
            json_interface=None
            if json_interface is None
            else json_text("json_interface", json_interface),
            min_consensus_size=min_consensus_size,
            review_coverage=review_coverage,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            use_honey_pot=use_honeypot,
            title=title,
            metadata_properties=metadata_properties,
            should_auto_assign=should_auto_assign,
        )
        result = await self._core.gql.update_properties_in_project(
            data=data, where=ProjectWhere(id=project_id)
        )
        return result.data

    async def delete_project(self, project_id: str) -> str:
        """Delete a project with all its assets and labels; return the server's answer."""
        result = await self._core.gql.delete_project(where=ProjectWhere(id=project_id))
        return str(result.data)
