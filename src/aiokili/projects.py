"""Projects: create (or copy), list, count, get, update, archive, anonymize, delete; tags on
new projects."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core.base import Domain
from ._core.calls import user_stacklevel
from ._core.inputs import (
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
from ._core.listing import Listing, ListingSpec
from ._core.lookups import project_not_found
from ._generated.input_types import (
    CheckedTagData,
    CreateProjectData,
    ProjectData,
    ProjectWhere,
    UpdateProjectAnonymizationInput,
)
from ._generated.operations import COUNT_PROJECTS_GQL, PROJECTS_GQL
from .errors import InvalidInterfaceError, KiliInputError
from .models import ComplianceTagName, InputType, InputTypeName, Project

if TYPE_CHECKING:
    from ._core.interface import Interface


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
    """Only projects the key's user starred (True) or did not (False)."""
    organization_id: str
    """Only projects of this organization."""
    deleted: bool
    tags_in: Sequence[str]
    """Only projects with at least one of these tags (tag labels, e.g. ``["urgent"]``)."""


_WHERE = {name: name for name in ProjectFilters.__annotations__} | {
    "project_id": "id",
    "tags_in": "tag_ids",
}
_METADATA_DEFAULTS = {
    "filterable": True,
    "type": "string",
    "visibleByLabeler": True,
    "visibleByReviewer": True,
}

PROJECTS = ListingSpec(
    model=Project,
    fragment="Project",
    page_document=PROJECTS_GQL,
    page_operation="Projects",
    count_document=COUNT_PROJECTS_GQL,
    count_operation="CountProjects",
)


def _checked(method: str, filters: dict[str, Any]) -> dict[str, Any]:
    return dict(check_filters(ProjectFilters, filters, method))


def _metadata_properties(
    metadata_properties: Any, metadata_types: Any
) -> dict[str, dict[str, Any]] | None:
    """``metadata_properties`` with Kili's defaults filled in, or built from the older
    ``metadata_types`` (``{"key": "number"}``)."""
    if metadata_types is not None:
        if not isinstance(metadata_types, dict) or not all(
            isinstance(v, str) for v in metadata_types.values()
        ):
            raise KiliInputError(
                "metadata_types must be a dict of metadata name -> type "
                "('string', 'number' or 'date'), e.g. {'score': 'number'}."
            )
        if metadata_properties is None:
            metadata_properties = {k: {"type": v} for k, v in metadata_types.items()}
    if metadata_properties is None:
        return None
    if not isinstance(metadata_properties, dict) or not all(
        isinstance(v, dict) for v in metadata_properties.values()
    ):
        raise KiliInputError(
            "metadata_properties must be a dict of metadata name -> properties dict, e.g. "
            "{'score': {'type': 'number', 'filterable': True}}."
        )
    return {key: {**_METADATA_DEFAULTS, **props} for key, props in metadata_properties.items()}


def _interface_text(value: object) -> str | None:
    """The ``json_interface`` argument (a dict or an :class:`~aiokili.Interface`) as the JSON
    text to send, checked: :class:`~aiokili.errors.InvalidInterfaceError` listing what the
    platform would refuse."""
    if value is None:
        return None
    from ._core.interface import Interface  # the models, built when first used

    given = value.to_json() if isinstance(value, Interface) else value
    text = json_text("json_interface", given)
    try:
        Interface.from_json(value if isinstance(value, Interface) else text)
    except InvalidInterfaceError as exc:
        raise InvalidInterfaceError(f"json_interface: {exc}", exc.problems) from None
    return text


def _compliance_tags(value: Any) -> list[str] | None:
    return as_list("compliance_tags", value, str)


def _check_new_project(
    title: object,
    input_type: object,
    json_interface: object,
    from_demo_project: object,
    project_id: object,
    pixel_labeling: object,
) -> None:
    """``create_project``'s local checks: a title, what the project is made from (an input
    type and an interface, a demo project or a project to copy), pixel labelling's terms."""
    if not isinstance(title, str) or not title.strip():
        raise KiliInputError(f"title must be a non-empty string, got {title!r}.")
    check_bools(pixel_labeling=pixel_labeling)
    if project_id is not None and (not isinstance(project_id, str) or not project_id):
        raise KiliInputError(
            f"project_id (the project to copy) must be a non-empty string, got {project_id!r}."
        )
    if pixel_labeling:
        if project_id is not None or from_demo_project is not None:
            raise KiliInputError(
                "pixel_labeling cannot be combined with project_id (a copy keeps the "
                "labelling mode of its source) nor with from_demo_project."
            )
        if str(getattr(input_type, "value", input_type)) != "GEOSPATIAL":
            raise KiliInputError(
                f"pixel_labeling is only for input_type='GEOSPATIAL', got {input_type!r}."
            )
    if project_id is not None and (input_type is not None or json_interface is not None):
        raise KiliInputError(
            "create_project(project_id=...) copies that project's input_type and "
            "json_interface: do not give them too."
        )
    if (
        project_id is None
        and from_demo_project is None
        and (input_type is None or json_interface is None)
    ):
        raise KiliInputError(
            "create_project needs input_type (e.g. 'IMAGE') and json_interface "
            "(e.g. {'jobs': {...}}), unless from_demo_project or project_id is given."
        )


_DEPRECATED_PROJECT_ARGUMENTS = {
    "input_type": "a project's input type cannot change; it is ignored.",
    "metadata_types": "use metadata_properties.",
    "seconds_to_label_before_auto_assign": "use should_auto_assign.",
}


def _warn_deprecated(
    input_type: object, metadata_types: object, seconds_to_label_before_auto_assign: object
) -> None:
    """A DeprecationWarning for each deprecated argument given (not None) of
    ``update_properties_in_project``, pointing at the user's line."""
    given = {
        "input_type": input_type,
        "metadata_types": metadata_types,
        "seconds_to_label_before_auto_assign": seconds_to_label_before_auto_assign,
    }
    for name, use in _DEPRECATED_PROJECT_ARGUMENTS.items():
        if given.get(name) is not None:
            warnings.warn(
                f"{name} is deprecated: {use}", DeprecationWarning, stacklevel=user_stacklevel()
            )


def _auto_assign(should_auto_assign: bool | None, seconds: int | None) -> bool | None:
    """``should_auto_assign``, or True if only the deprecated
    ``seconds_to_label_before_auto_assign`` (an int >= 0) is given."""
    if seconds is None:
        return should_auto_assign
    check_int("seconds_to_label_before_auto_assign", seconds, 0)
    return True if should_auto_assign is None else should_auto_assign


def _check_settings(
    *,
    consensus_tot_coverage: object,
    review_coverage: object,
    min_consensus_size: object,
    consensus_mark: object,
    honeypot_mark: object,
    **flags: object,
) -> None:
    """Percentages 0-100, a consensus size 1-10, marks 0-1, ``flags`` True or False (None:
    not changed)."""
    for name, value in (
        ("consensus_tot_coverage", consensus_tot_coverage),
        ("review_coverage", review_coverage),
    ):
        if value is not None:
            check_int(name, value, 0, 100)
    if min_consensus_size is not None:
        check_int("min_consensus_size", min_consensus_size, 1, 10)
    for name, mark in (("consensus_mark", consensus_mark), ("honeypot_mark", honeypot_mark)):
        if mark is not None:
            check_number(name, mark, 0, 1)
    check_bools(**flags)


class ProjectMethods(Domain):
    """Project methods of :class:`~aiokili.AsyncKili`."""

    async def create_project(
        self,
        title: str,
        description: str = "",
        input_type: InputType | InputTypeName | None = None,
        json_interface: dict[str, Any] | Interface | None = None,
        project_id: str | None = None,
        tags: Sequence[str] | None = None,
        compliance_tags: Sequence[ComplianceTagName] | None = None,
        from_demo_project: str | None = None,
        pixel_labeling: bool = False,
    ) -> Project:
        """Create a project (or a copy of ``project_id``) and return it.

        Args:
            title: project title (not empty).
            description: free text, default "".
            input_type: e.g. "IMAGE", "TEXT", "PDF", "VIDEO"; required unless
                ``from_demo_project`` or ``project_id`` is given.
            json_interface: the ontology: an :class:`~aiokili.Interface` or its dict
                (``{"jobs": {...}}``); required unless ``from_demo_project`` or
                ``project_id`` is given.
            compliance_tags: subset of ["PHI", "PII"].
            from_demo_project: name of a Kili demo project to copy.
            project_id: a project to copy: its input type, json interface, instructions,
                tags and labelling mode (``input_type`` / ``json_interface`` are then
                not needed). Assets and labels are not copied.
            tags: labels of tags of the organization to put on the new project.
            pixel_labeling: GEOSPATIAL projects only: label in the images' own pixel
                grid. Set at creation only; not with ``project_id`` or
                ``from_demo_project``.

        Raises:
            NotFoundError: ``project_id`` or a tag does not exist.
            InvalidInterfaceError: the interface has what the platform would refuse (an
                unknown ML task, input or tool, a child job that does not exist...), before
                any request.
        """
        _check_new_project(
            title, input_type, json_interface, from_demo_project, project_id, pixel_labeling
        )
        interface_text = _interface_text(json_interface)
        tag_labels = as_list("tags", tags, str)
        tag_ids = None if tag_labels is None else await self._core.lookups.tag_ids(tag_labels)
        if project_id is not None:
            return await self._copy_project(
                project_id, title, description, _compliance_tags(compliance_tags), tag_ids
            )
        data = build(
            CreateProjectData,
            title=title,
            description=description,
            input_type=input_type,
            json_interface=interface_text,
            compliance_tags=_compliance_tags(compliance_tags),
            from_demo_project=from_demo_project,
            pixel_labeling=True if pixel_labeling else None,
        )
        project = (await self._core.gql.create_project(data=data)).data
        if tag_ids:
            await self._tag_project(project.id, tag_ids)
        return project

    async def _copy_project(
        self,
        source_id: str,
        title: str,
        description: str,
        compliance_tags: list[str] | None,
        tag_ids: list[str] | None,
    ) -> Project:
        found = (await self._core.gql.project_to_copy(where=ProjectWhere(id=source_id))).data
        if not found:
            raise project_not_found(source_id)
        source = found[0]
        pixel = (source.geospatial_settings or {}).get("labelingCRSCode") == "PIXEL"
        data = build(
            CreateProjectData,
            title=title,
            description=description,
            input_type=source.input_type,
            json_interface=json_text("json_interface", source.json_interface or {}),
            compliance_tags=compliance_tags,
            pixel_labeling=True if pixel else None,
        )
        project = (await self._core.gql.create_project(data=data)).data
        if source.instructions:
            project = (
                await self._core.gql.update_properties_in_project(
                    data=ProjectData(instructions=source.instructions),
                    where=ProjectWhere(id=project.id),
                )
            ).data
        source_tags = (await self._core.gql.list_tags_by_project(project_id=source_id)).data
        await self._tag_project(project.id, [t.id for t in source_tags] + (tag_ids or []))
        return project

    async def _tag_project(self, project_id: str, tag_ids: Sequence[str]) -> None:
        current = {t.id for t in (await self._core.gql.list_tags_by_project(project_id)).data}
        for tag_id in dict.fromkeys(tag_ids):
            if tag_id not in current:
                data = CheckedTagData(tag_id=tag_id, project_id=project_id)
                await self._core.gql.check_tag(data=data)

    async def _project_where(self, method: str, filters: dict[str, Any]) -> ProjectWhere:
        checked = _checked(method, filters)
        if "tags_in" in checked:
            checked["tags_in"] = await self._core.lookups.tag_ids(list(checked["tags_in"]))
        return where_from(ProjectWhere, checked, _WHERE)

    async def get_project(self, project_id: str) -> Project:
        """The project with this id; NotFoundError naming the id if there is none."""
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
        found = await self._core.listing(
            PROJECTS, ProjectWhere(id=project_id), fields=None, first=1, skip=0
        )
        if not found:
            raise project_not_found(project_id)
        return found[0]

    async def get_interface(self, project_id: str) -> Interface:
        """The project's json interface as typed models (:class:`~aiokili.Interface`:
        ``.jobs["JOB"].content.categories``...); NotFoundError naming an unknown project.

        The counterpart of Labelbox's ``get_ontology``: a Kili project holds its ontology.
        Change it and give it back with ``update_properties_in_project(project_id,
        json_interface=interface)``.
        """
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
        return (await self._core.lookups.interface(project_id)).interface

    def projects(
        self,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[ProjectFilters],
    ) -> Listing[Project]:
        """Projects matching the filters, oldest first (see :class:`ProjectFilters`).

        ``async for p in kili.projects(): ...`` or ``await kili.projects()`` for a list.

        Args:
            fields: field paths to fetch (e.g. ``["id", "title", "roles.user.email"]``);
                default: every field of :class:`~aiokili.Project`.
            first: maximum number of projects (default: all). skip: projects to skip.
            disable_tqdm, as_generator: accepted for compatibility: a listing streams
                (``async for``) or gives a list (``await``).
        """
        checked = _checked("projects", dict(filters))
        if "tags_in" in checked:  # tag labels -> ids: one look-up, before the first page
            filters_ = dict(filters)

            async def where() -> ProjectWhere:
                return await self._project_where("projects", filters_)

            return self._core.listing(PROJECTS, where, fields=fields, first=first, skip=skip)
        where_ = where_from(ProjectWhere, checked, _WHERE)
        return self._core.listing(PROJECTS, where_, fields=fields, first=first, skip=skip)

    async def count_projects(self, **filters: Unpack[ProjectFilters]) -> int:
        """Number of projects matching the filters (see :class:`ProjectFilters`)."""
        where = await self._project_where("count_projects", dict(filters))
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
        input_type: InputType | InputTypeName | None = None,
        json_interface: dict[str, Any] | Interface | None = None,
        min_consensus_size: int | None = None,
        review_coverage: int | None = None,
        should_relaunch_kpi_computation: bool | None = None,
        title: str | None = None,
        use_honeypot: bool | None = None,
        metadata_types: dict[str, str] | None = None,
        metadata_properties: dict[str, Any] | None = None,
        seconds_to_label_before_auto_assign: int | None = None,
        should_auto_assign: bool | None = None,
    ) -> Project:
        """Update the given properties of a project (None = leave unchanged); return it.

        ``consensus_tot_coverage`` and ``review_coverage`` are percentages (0-100);
        ``min_consensus_size`` is 1-10; marks are 0-1. ``metadata_properties`` maps each
        metadata name to ``{"type": "string"|"number"|"date", "filterable",
        "visibleByLabeler", "visibleByReviewer"}`` (missing keys: "string" / True).

        Deprecated, as in the official SDK (each warns): ``input_type`` (a project's input
        type cannot change: not sent), ``metadata_types`` (``{"name": "number"}``, turned
        into ``metadata_properties``), ``seconds_to_label_before_auto_assign`` (any value
        means ``should_auto_assign=True`` unless that is given).

        ``json_interface`` (an :class:`~aiokili.Interface` or its dict) is checked first:
        :class:`~aiokili.errors.InvalidInterfaceError` for what the platform would refuse.
        """
        _warn_deprecated(input_type, metadata_types, seconds_to_label_before_auto_assign)
        should_auto_assign = _auto_assign(should_auto_assign, seconds_to_label_before_auto_assign)
        metadata_properties = _metadata_properties(metadata_properties, metadata_types)
        _check_settings(
            consensus_tot_coverage=consensus_tot_coverage,
            review_coverage=review_coverage,
            min_consensus_size=min_consensus_size,
            consensus_mark=consensus_mark,
            honeypot_mark=honeypot_mark,
            can_navigate_between_assets=can_navigate_between_assets,
            can_skip_asset=can_skip_asset,
            should_relaunch_kpi_computation=should_relaunch_kpi_computation,
            use_honeypot=use_honeypot,
            should_auto_assign=should_auto_assign,
        )
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
            json_interface=_interface_text(json_interface),
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

    async def _set_archived(self, project_id: str, archived: bool) -> Project:
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
        result = await self._core.gql.update_properties_in_project(
            data=ProjectData(archived=archived), where=ProjectWhere(id=project_id)
        )
        return result.data

    async def archive_project(self, project_id: str) -> Project:
        """Archive a project; return it.

        Archived projects leave the list of active projects (``projects(archived=False)``)
        for ``projects(archived=True)``; ``projects()`` with no ``archived`` filter lists
        both, as on the platform. An archived project still works (assets, labels...).
        """
        return await self._set_archived(project_id, True)

    async def unarchive_project(self, project_id: str) -> Project:
        """Bring an archived project back among the active ones; return it."""
        return await self._set_archived(project_id, False)

    async def update_project_anonymization(
        self, project_id: str, should_anonymize: bool = True
    ) -> Project:
        """Show (True, the default) or stop showing the names of the project's labelers and
        reviewers as "Anonymized"; return the project.

        The platform anonymizes names in its interface (queue, explore, labeling,
        analytics). The local server does it in the API: the ``firstname`` of the authors
        of the project's labels and issues reads "Anonymized" (no ``lastname``); their
        id and email are kept.
        """
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
        check_bools(should_anonymize=should_anonymize)
        data = UpdateProjectAnonymizationInput(id=project_id, should_anonymize=should_anonymize)
        return (await self._core.gql.update_project_anonymization(input=data)).data

    async def delete_project(self, project_id: str) -> str:
        """Delete a project with all its assets and labels; return the server's answer."""
        result = await self._core.gql.delete_project(where=ProjectWhere(id=project_id))
        return str(result.data)
