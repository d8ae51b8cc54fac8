"""Copies of a project: the server copies the project (and its assets and members, when
asked), then the client names it and copies the labels, as the official SDK does."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from functools import partial
from itertools import groupby

from ._core import constants as C
from ._core.base import Domain
from ._core.bulk import chunked
from ._core.calls import user_stacklevel
from ._core.inputs import check_bools
from ._core.listing import ListingSpec
from ._core.lookups import project_not_found
from ._core.tasks import gather_or_raise
from ._generated import input_types as inputs
from ._generated.fragments import CopiedAsset, CopiedLabel, ProjectTitle
from ._generated.operations import (
    COPIED_ASSETS_GQL,
    COPIED_LABELS_GQL,
    COUNT_ASSETS_GQL,
    COUNT_LABELS_GQL,
    COUNT_PROJECTS_GQL,
    PROJECT_TITLES_GQL,
)
from .errors import KiliInputError
from .models import Project

NOT_COPIED_INPUT_TYPES = ("LLM_INSTR_FOLLOWING", "LLM_RLHF", "LLM_STATIC")

_TITLES = ListingSpec(ProjectTitle, "ProjectTitle", PROJECT_TITLES_GQL, "ProjectTitles",
                      COUNT_PROJECTS_GQL, "CountProjects")  # fmt: skip
_ASSETS = ListingSpec(CopiedAsset, "CopiedAsset", COPIED_ASSETS_GQL, "CopiedAssets",
                      COUNT_ASSETS_GQL, "CountAssets")  # fmt: skip
_LABELS = ListingSpec(CopiedLabel, "CopiedLabel", COPIED_LABELS_GQL, "CopiedLabels",
                      COUNT_LABELS_GQL, "CountLabels")  # fmt: skip


def copy_title(source: str, taken: set[str]) -> str:
    """``"<source> (copy)"``, or ``"<source> (copy 1)"``, ``(copy 2)``... the first not taken."""
    title, n = f"{source} (copy)", 1
    while title in taken:
        title, n = f"{source} (copy {n})", n + 1
    return title


def _check(
    from_project_id: object,
    title: object,
    description: object,
    flags: dict[str, object],
) -> None:
    if not isinstance(from_project_id, str) or not from_project_id:
        raise KiliInputError(
            f"from_project_id must be a non-empty string, got {from_project_id!r}."
        )
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise KiliInputError(f"title must be a non-empty string or None, got {title!r}.")
    if description is not None and not isinstance(description, str):
        raise KiliInputError(f"description must be a string or None, got {description!r}.")
    check_bools(**flags)
    for name in ("copy_json_interface", "copy_quality_settings"):
        if flags[name] is False:
            raise KiliInputError(
                f"{name} is deprecated: the json interface and the quality settings are "
                f"always copied. Leave {name}=True (the default)."
            )
    if flags["copy_labels"] and not (flags["copy_assets"] and flags["copy_members"]):
        raise KiliInputError(
            "copy_labels=True needs copy_assets=True (labels go on the copied assets) and "
            "copy_members=True (their authors must be members of the copy)."
        )


class ProjectCopyMethods(Domain):
    """The project copy method of :class:`~aiokili.AsyncKili`."""

    async def copy_project(
        self,
        from_project_id: str,
        title: str | None = None,
        description: str | None = None,
        copy_json_interface: bool = True,
        copy_quality_settings: bool = True,
        copy_members: bool = True,
        copy_assets: bool = False,
        copy_labels: bool = False,
        disable_tqdm: bool | None = None,
    ) -> Project:
        """Copy a project; return the new one.

        The copy has the source's input type, json interface, instructions, quality
        settings and tags; with ``copy_members`` its members, with ``copy_assets`` its
        assets (as new, unlabelled assets), with ``copy_labels`` (which needs both) their
        labels too, each asset then in the state of its source.

        Args:
            from_project_id: the project to copy (NotFoundError if it does not exist).
            title: default ``"<title> (copy)"``, or ``"<title> (copy 1)"``... the first
                not already a project's title.
            description: default: empty.
            copy_json_interface, copy_quality_settings: deprecated, always True (False is
                a KiliInputError).
            disable_tqdm: accepted for compatibility; no progress bar is shown.

        Raises:
            KiliInputError: before any write, for a project with cloud storage and
                ``copy_assets``, or of an LLM input type (not copied by the platform).
        """
        flags: dict[str, object] = {
            "copy_json_interface": copy_json_interface,
            "copy_quality_settings": copy_quality_settings,
            "copy_members": copy_members,
            "copy_assets": copy_assets,
            "copy_labels": copy_labels,
        }
        _check(from_project_id, title, description, flags)
        found = (
            await self._core.gql.copy_source(where=inputs.ProjectWhere(id=from_project_id))
        ).data
        if not found:
            raise project_not_found(from_project_id)
        source = found[0]
        if source.data_connections and copy_assets:
            raise KiliInputError(
                f"Project {from_project_id!r} reads its assets from cloud storage: its assets "
                "cannot be copied. Copy it with copy_assets=False."
            )
        if source.input_type is not None and source.input_type.value in NOT_COPIED_INPUT_TYPES:
            raise KiliInputError(
                f"Projects of input type {source.input_type.value} cannot be copied: create "
                "a new project instead."
            )
        timeout = max(C.COPY_PROJECT_TIMEOUT, self._core.settings.timeout)  # not resent
        copied = await self._core.with_settings(timeout=timeout).gql.copy_project(
            data=inputs.CopyProjectData(
                project_id=from_project_id,
                should_copy_assets=copy_assets,
                should_copy_users=copy_members,
            )
        )
        project_id = str(copied.data)
        if title is None:
            where = inputs.ProjectWhere(search_query=f"{source.title}%")
            titles = await self._core.listing(_TITLES, where, fields=None, first=None, skip=0)
            title = copy_title(source.title, {p.title for p in titles})
        project = (
            await self._core.gql.update_properties_in_project(
                data=inputs.ProjectData(title=title, description=description),
                where=inputs.ProjectWhere(id=project_id),
            )
        ).data
        if copy_labels:
            if f"{source.workflow_version}" in ("V2", "V3"):
                await self._copy_labels(from_project_id, project_id)
            else:
                warnings.warn(
                    "copying the labels of a project on the legacy workflow (V1): the "
                    "latest label of each labeller and the predictions are added again; "
                    "asset statuses and assignments may differ from the source's.",
                    DeprecationWarning,
                    stacklevel=user_stacklevel(),
                )
                await self._copy_legacy_labels(from_project_id, project_id)
        return project

    async def _assets(self, project_id: str) -> list[CopiedAsset]:
        where = inputs.AssetWhere(project=inputs.ProjectWhere(id=project_id))
        return await self._core.listing(_ASSETS, where, fields=None, first=None, skip=0)

    async def _copy_labels(self, source_id: str, project_id: str) -> None:
        """One ``copyLabels`` per labelled asset (matched by external id); the last one,
        sent when all the others are done, rebuilds the copy's state."""
        where = inputs.LabelWhere(project=inputs.ProjectWhere(id=source_id))
        if not (await self._core.gql.count_labels(where=where)).data:
            return
        copies = {a.external_id: a.id for a in await self._assets(project_id)}
        pairs: list[tuple[str, str]] = []
        for asset in await self._assets(source_id):
            if not asset.labels:
                continue
            if asset.external_id not in copies:
                raise KiliInputError(
                    f"copy_project: asset {asset.external_id!r} of {source_id!r} is not in "
                    f"the copy {project_id!r}; its labels cannot be copied."
                )
            pairs.append((asset.id, copies[asset.external_id]))

        async def copy(src: str, dst: str, skip_rebuilds: bool) -> None:
            data = inputs.CopyLabelsInput(
                src_asset_id=src,
                dst_asset_id=dst,
                project_id=project_id,
                skip_rebuilds=skip_rebuilds,
            )
            await self._core.gql.copy_labels(data=data)

        jobs = [partial(copy, src, dst, True) for src, dst in pairs[:-1]]
        await gather_or_raise(jobs, limit=self._core.settings.concurrency)
        if pairs:
            await copy(*pairs[-1], False)

    async def _copy_legacy_labels(self, source_id: str, project_id: str) -> None:
        """Legacy (V1) projects: each labeller's latest label and the model labels (with a
        model name) added again to the copied assets, one ``appendManyLabels`` per label
        type and model."""
        where = inputs.LabelWhere(project=inputs.ProjectWhere(id=source_id))
        labels = [
            label
            for label in await self._core.listing(_LABELS, where, fields=None, first=None, skip=0)
            if label.is_latest_label_for_user or label.model_name
        ]
        if not labels:
            return
        copies = {a.external_id: a.id for a in await self._assets(project_id)}

        def group(label: CopiedLabel) -> tuple[str, str]:
            return (f"{label.label_type}", label.model_name or "")

        for (label_type, model), same in groupby(sorted(labels, key=group), key=group):
            batch: Sequence[CopiedLabel] = list(same)
            rows = [
                inputs.AppendLabelData(
                    asset_id=copies[label.label_of.external_id],
                    author_id=label.author.id if label.author else None,
                    json_response=json.dumps(label.json_response),
                    model_name=model or None,
                    seconds_to_label=label.seconds_to_label,
                )
                for label in batch
                if label.label_of is not None and label.label_of.external_id in copies
            ]
            for chunk in chunked(rows, C.LABELS_CHUNK):
                await self._core.gql.append_many_labels(
                    data=inputs.AppendManyLabelsData(
                        label_type=label_type, labels_data=list(chunk)
                    ),
                    where=inputs.AssetWhere(
                        id_in=[r.asset_id for r in chunk],
                        project=inputs.ProjectWhere(id=project_id),
                    ),
                )
