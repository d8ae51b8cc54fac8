"""Look-ups several domains need: a project's input type and interface, assets by external
id, tags by label."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from .._generated import input_types as inputs
from ..errors import KiliInputError, NotFoundError
from ..models import InputType
from . import constants as C
from .bulk import chunked
from .graphql import KiliGraphQLClient
from .tasks import gather_or_raise

if TYPE_CHECKING:
    from .interface import Interface

R = TypeVar("R")


@dataclass(frozen=True)
class ProjectInterface:
    """A project's json interface, read into models, and its input type."""

    project_id: str
    interface: Interface
    input_type: str | None


class Lookups:
    """Read-only queries shared by the domains (one instance per client)."""

    def __init__(self, gql: KiliGraphQLClient) -> None:
        self._gql = gql

    async def input_type(self, project_id: str) -> InputType | None:
        """The project's input type; NotFoundError naming the id if there is no such project."""
        found = (await self._gql.project_input_type(where=inputs.ProjectWhere(id=project_id))).data
        if not found:
            raise project_not_found(project_id)
        return found[0].input_type

    async def json_interface(self, project_id: str) -> Any:
        """The project's json interface (a dict); NotFoundError naming an unknown project."""
        found = (
            await self._gql.label_project_interface(where=inputs.ProjectWhere(id=project_id))
        ).data
        if not found:
            raise project_not_found(project_id)
        return found[0].json_interface or {}

    async def interface(self, project_id: str) -> ProjectInterface:
        """The project's json interface as an :class:`~aiokili.Interface` (read as stored)
        and its input type; NotFoundError naming an unknown project."""
        from .interface import Interface  # the models, built when first used

        found = (
            await self._gql.label_project_interface(where=inputs.ProjectWhere(id=project_id))
        ).data
        if not found:
            raise project_not_found(project_id)
        kind = found[0].input_type
        return ProjectInterface(
            project_id,
            Interface.read(found[0].json_interface or {}),
            None if kind is None else kind.value,
        )

    async def steps(self, project_id: str) -> dict[str, list[str]]:
        """Step name → step ids of the project's workflow (empty for a legacy V1 project)."""
        found = (await self._gql.steps_of_project(where=inputs.ProjectWhere(id=project_id))).data
        if not found:
            raise project_not_found(project_id)
        steps: dict[str, list[str]] = {}
        for step in found[0].steps or []:
            steps.setdefault(step.name, []).append(step.id)
        return steps

    async def step_ids(self, project_id: str, names: Sequence[str], arg: str) -> list[list[str]]:
        """The ids of the project's steps of each of ``names``, in order (one look-up; a name
        may belong to several steps); a KiliInputError naming ``arg``, the unknown name and
        the project's steps if one is not there."""
        steps = await self.steps(project_id)
        for name in names:
            if name not in steps:
                known = ", ".join(map(repr, steps)) or "none (a legacy workflow: use statuses)"
                raise KiliInputError(
                    f"{arg}: project {project_id!r} has no step named {name!r}. Its steps: {known}."
                )
        return [steps[name] for name in names]

    async def tag_ids(self, labels: Sequence[str]) -> list[str]:
        """Ids of the organization's tags with these labels, in order; NotFoundError naming a
        missing label (and the existing ones), KiliInputError for a label several tags share."""
        by_label: dict[str, list[str]] = {}
        for tag in (await self._gql.list_tags_by_org()).data:
            by_label.setdefault(tag.label, []).append(tag.id)
        missing = [label for label in labels if label not in by_label]
        if missing:
            raise NotFoundError.from_message(
                f"Tag(s) {', '.join(map(repr, missing))} not found in the organization. "
                f"Existing tags: {', '.join(map(repr, sorted(by_label))) or 'none'}.",
                "NOT_FOUND",
            )
        ambiguous = [label for label in labels if len(by_label[label]) > 1]
        if ambiguous:
            raise KiliInputError(
                f"Several tags have the label {ambiguous[0]!r} ({by_label[ambiguous[0]]}); "
                "rename one of them."
            )
        return [by_label[label][0] for label in labels]

    async def existing_external_ids(self, project_id: str, external_ids: Sequence[str]) -> set[str]:
        """The subset of ``external_ids`` already used in the project."""

        async def look_up(chunk: Sequence[str]) -> list[str]:
            result = await self._gql.filter_existing_assets(
                project_id=project_id, external_ids=list(chunk)
            )
            return result.data

        return {e for found in await _each_chunk(external_ids, look_up) for e in found}

    async def asset_ids_by_external_id(
        self, project_id: str, external_ids: Sequence[str]
    ) -> dict[str, str]:
        """External id → asset id, for those of ``external_ids`` found in the project."""

        async def look_up(chunk: Sequence[str]) -> list[tuple[str, str]]:
            where = inputs.AssetWhere(
                project=inputs.ProjectWhere(id=project_id), external_id_strictly_in=list(chunk)
            )
            page = await self._gql.asset_ids(where=where, first=len(chunk), skip=0)
            return [(a.external_id, a.id) for a in page.data if a.external_id is not None]

        pairs = await _each_chunk(list(dict.fromkeys(external_ids)), look_up)
        return dict(pair for found in pairs for pair in found)

    async def projects_of_assets(self, asset_ids: Sequence[str]) -> dict[str, str]:
        """Asset id → its project's id, for those of ``asset_ids`` the key reaches."""

        async def look_up(chunk: Sequence[str]) -> list[tuple[str, str]]:
            where = inputs.AssetWhere(id_in=list(chunk))
            page = await self._gql.label_assets_projects(where=where, first=len(chunk))
            return [(a.id, a.project.id) for a in page.data if a.project is not None]

        pairs = await _each_chunk(list(dict.fromkeys(asset_ids)), look_up)
        return dict(pair for found in pairs for pair in found)

    async def existing_asset_ids(self, project_id: str, asset_ids: Sequence[str]) -> set[str]:
        """The subset of ``asset_ids`` that already exist in the project."""

        async def look_up(chunk: Sequence[str]) -> list[str]:
            where = inputs.AssetWhere(project=inputs.ProjectWhere(id=project_id), id_in=list(chunk))
            page = await self._gql.asset_ids(where=where, first=len(chunk), skip=0)
            return [a.id for a in page.data]

        return {i for found in await _each_chunk(list(asset_ids), look_up) for i in found}


def project_not_found(project_id: str) -> NotFoundError:
    """The NotFoundError of an unknown project id, with how to find the right one."""
    return NotFoundError.from_message(
        f'Project "{project_id}" not found. Check the id, or list projects with kili.projects().',
        "NOT_FOUND",
    )


async def _each_chunk(
    keys: Sequence[str], look_up: Callable[[Sequence[str]], Awaitable[R]]
) -> list[R]:
    """``look_up`` each chunk of 1,000 keys, a few chunks at a time; results in order."""
    jobs = [partial(look_up, chunk) for chunk in chunked(keys, C.EXTERNAL_IDS_CHUNK)]
    return await gather_or_raise(jobs, limit=C.LOOKUP_CONCURRENCY)
