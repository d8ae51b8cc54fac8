"""Projects: create, list, count, update, delete."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from ._base import ClientBase
from ._generated.input_types import CreateProjectData, ProjectData, ProjectWhere
from ._generated.operations import PROJECTS_GQL
from ._inputs import build
from .errors import KiliInputError, NotFoundError
from .models import InputType, Project

InputTypeName = Literal[
    "IMAGE", "GEOSPATIAL", "PDF", "TEXT", "VIDEO", "LLM_RLHF", "LLM_INSTR_FOLLOWING",
    "LLM_STATIC", "AUDIO",
]  # fmt: skip


def _check_range(name: str, value: int | float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise KiliInputError(f"{name} must be between {low:g} and {high:g}, got {value}.")


def _json_text(value: Any) -> str | None:
    """Kili sends JSON documents (json_interface...) as JSON text."""
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


class ProjectsMixin(ClientBase):
    """Project methods of :class:`~aiokili.AsyncKili`."""

    async def create_project(
        self,
        title: str,
        description: str = "",
        input_type: InputType | InputTypeName | None = None,
        json_interface: dict[str, Any] | None = None,
        compliance_tags: Sequence[Literal["PHI", "PII"]] | None = None,
        from_demo_project: str | None = None,
    ) -> Project:
        """Create a project and return it.

        Args:
            title: project title.
            description: free text, default "".
            input_type: e.g. "IMAGE", "TEXT", "PDF", "VIDEO"; required unless
                ``from_demo_project`` is given.
            json_interface: the ontology (``{"jobs": {...}}``); required unless
                ``from_demo_project`` is given.
            compliance_tags: subset of ["PHI", "PII"].
            from_demo_project: name of a Kili demo project to copy.
        """
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
            json_interface=_json_text(json_interface),
            compliance_tags=list(compliance_tags) if compliance_tags else None,
            from_demo_project=from_demo_project,
        )
        return (await self._gql.create_project(data=data)).data

    def projects(
        self,
        project_id: str | None = None,
        search_query: str | None = None,
        should_relaunch_kpi_computation: bool | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        archived: bool | None = None,
        starred: bool | None = None,
        organization_id: str | None = None,
        deleted: bool | None = None,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
    ) -> AsyncIterator[Project]:
        """Iterate over projects, oldest first: ``async for p in kili.projects(): ...``.

        Args:
            project_id: only this project.
            search_query: title pattern, SQL LIKE style (``"cats%"``).
            updated_at_gte / updated_at_lte: dates ("YYYY-MM-DD" or ISO-8601).
            archived: only archived (True) or only active (False) projects.
            fields: GraphQL field paths to fetch (e.g. ``["id", "title", "roles.user.email"]``);
                default: every field of :class:`~aiokili.Project`.
            first: maximum number of projects (default: all).
            skip: number of projects to skip.
            disable_tqdm: accepted for compatibility; aiokili shows no progress bar here.
        """
        where = build(
            ProjectWhere,
            id=project_id,
            search_query=search_query,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            updated_at_gte=updated_at_gte,
            updated_at_lte=updated_at_lte,
            archived=archived,
            starred=starred,
            organization_id=organization_id,
            deleted=deleted,
        )

        async def count() -> int:
            return (await self._gql.count_projects(where=where)).data

        async def fetch(skip: int, first: int) -> Sequence[Project]:
            return (await self._gql.projects(where=where, first=first, skip=skip)).data

        return self._listing(
            model=Project, fragment="ProjectFields", document=PROJECTS_GQL,
            operation="Projects", where=where, count=count, fetch_default=fetch,
            fields=fields, skip=skip, first=first,
        )  # fmt: skip

    async def count_projects(
        self,
        project_id: str | None = None,
        search_query: str | None = None,
        should_relaunch_kpi_computation: bool | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        archived: bool | None = None,
        deleted: bool | None = None,
    ) -> int:
        """Number of projects matching the filters (same meaning as in :meth:`projects`)."""
        where = build(
            ProjectWhere,
            id=project_id,
            search_query=search_query,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            updated_at_gte=updated_at_gte,
            updated_at_lte=updated_at_lte,
            archived=archived,
            deleted=deleted,
        )
        return (await self._gql.count_projects(where=where)).data

    async def _get_project(self, project_id: str) -> Project:
        page = await self._gql.projects(where=ProjectWhere(id=project_id), first=1, skip=0)
        if not page.data:
            raise NotFoundError.from_message(
                f'Project "{project_id}" not found. Check the id, or list projects with '
                "kili.projects()."
            )
        return page.data[0]

    async def update_properties_in_project(
        self,
        project_id: str,
        can_navigate_between_assets: bool | None = None,
        can_skip_asset: bool | None = None,
        compliance_tags: Sequence[Literal["PHI", "PII"]] | None = None,
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
        ``min_consensus_size`` is 1-10.
        """
        _check_range("consensus_tot_coverage", consensus_tot_coverage, 0, 100)
        _check_range("review_coverage", review_coverage, 0, 100)
        _check_range("min_consensus_size", min_consensus_size, 1, 10)
        data = build(
            ProjectData,
            can_navigate_between_assets=can_navigate_between_assets,
            can_skip_asset=can_skip_asset,
            compliance_tags=list(compliance_tags) if compliance_tags is not None else None,
            consensus_mark=consensus_mark,
            consensus_tot_coverage=consensus_tot_coverage,
            description=description,
            honeypot_mark=honeypot_mark,
            instructions=instructions,
            json_interface=_json_text(json_interface),
            min_consensus_size=min_consensus_size,
            review_coverage=review_coverage,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            use_honey_pot=use_honeypot,
            title=title,
            metadata_properties=metadata_properties,
            should_auto_assign=should_auto_assign,
        )
        result = await self._gql.update_properties_in_project(
            data=data, where=ProjectWhere(id=project_id)
        )
        return result.data

    async def delete_project(self, project_id: str) -> str:
        """Delete a project with all its assets and labels; return the server's answer."""
        result = await self._gql.delete_project(where=ProjectWhere(id=project_id))
        return str(result.data)
