"""Project versions: listing, counting, setting a version's content (its download link)."""

from __future__ import annotations

from collections.abc import Sequence

from ._core.base import Domain
from ._core.listing import Listing, ListingSpec
from ._generated import input_types as inputs
from ._generated.operations import COUNT_PROJECT_VERSIONS_GQL, PROJECT_VERSIONS_GQL
from .errors import KiliInputError
from .models import ProjectVersion

PROJECT_VERSIONS = ListingSpec(
    model=ProjectVersion,
    fragment="ProjectVersion",
    page_document=PROJECT_VERSIONS_GQL,
    page_operation="ProjectVersions",
    count_document=COUNT_PROJECT_VERSIONS_GQL,
    count_operation="CountProjectVersions",
)


def _where(project_id: object) -> inputs.ProjectVersionWhere:
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
    return inputs.ProjectVersionWhere(project_id=project_id)


class ProjectVersionMethods(Domain):
    """Project version methods of :class:`~aiokili.AsyncKili`."""

    def project_version(
        self,
        project_id: str,
        *,
        first: int | None = None,
        skip: int = 0,
        fields: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
    ) -> Listing[ProjectVersion]:
        """The project's versions, oldest first (``async for`` or ``await`` for a list).

        What creates a version is the platform's (the local server: the local-only
        ``createProjectVersion`` mutation, see the local server's documentation).

        Args:
            project_id: the project (NotFoundError if it does not exist).
            first: maximum number of versions (default: all). skip: versions to skip.
            fields: field paths (e.g. ``["id", "name"]``); default: every field of
                :class:`~aiokili.ProjectVersion`.
            disable_tqdm: accepted for compatibility; listings show no progress bar.
            as_generator: accepted for compatibility: a listing is both (``async for`` or
                ``await``).
        """
        where = _where(project_id)
        return self._core.listing(PROJECT_VERSIONS, where, fields=fields, first=first, skip=skip)

    async def count_project_versions(self, project_id: str) -> int:
        """Number of versions of the project."""
        return (await self._core.gql.count_project_versions(where=_where(project_id))).data

    async def update_properties_in_project_version(
        self, project_version_id: str, content: str | None
    ) -> ProjectVersion:
        """Set a version's ``content`` (the link to download it; None clears it); return the
        version. NotFoundError if there is no such version."""
        if not isinstance(project_version_id, str) or not project_version_id:
            raise KiliInputError(
                f"project_version_id must be a non-empty string, got {project_version_id!r}."
            )
        if content is not None and not isinstance(content, str):
            raise KiliInputError(f"content must be a string (a link) or None, got {content!r}.")
        result = await self._core.gql.update_properties_in_project_version(
            id=project_version_id, content=content
        )
        return result.data
