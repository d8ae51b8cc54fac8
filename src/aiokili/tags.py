"""Tags: an organization's labels for its projects (create, list, rename, delete) and the
tags on each project (tag, untag)."""

from __future__ import annotations

from collections.abc import Sequence

from ._core.base import Domain
from ._core.inputs import as_list, check_bools
from ._core.selection import build_selection, page_model, with_selection
from ._generated import input_types as inputs
from ._generated.operations import LIST_TAGS_BY_ORG_GQL, LIST_TAGS_BY_PROJECT_GQL
from .errors import KiliInputError, NotFoundError
from .models import Tag


def _name(arg: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KiliInputError(f"{arg} must be a non-empty string, got {value!r}.")
    return value


def _one_of(method: str, given: dict[str, object]) -> str:
    """The name of the one argument given (not None) among ``given``."""
    named = [name for name, value in given.items() if value is not None]
    if len(named) != 1:
        choices = " or ".join(f"{name}=" for name in given)
        got = f"got {', '.join(f'{n}=' for n in named)}" if named else "got none"
        raise KiliInputError(f"{method} takes exactly one of {choices} ({got}).")
    return named[0]


class TagMethods(Domain):
    """Tag methods of :class:`~aiokili.AsyncKili` (tags belong to the organization)."""

    async def tags(
        self, project_id: str | None = None, *, fields: Sequence[str] | None = None
    ) -> list[Tag]:
        """The organization's tags, oldest first; with ``project_id``, those on that project.

        Args:
            project_id: only the tags on this project (NotFoundError if it does not exist).
            fields: field paths (e.g. ``["id", "label"]``); default: every field of
                :class:`~aiokili.Tag`. A field left out is not there (``id`` always is).
        """
        if project_id is None:
            document, operation, variables = LIST_TAGS_BY_ORG_GQL, "ListTagsByOrg", {}
        else:
            variables = {"projectId": _name("project_id", project_id)}
            document, operation = LIST_TAGS_BY_PROJECT_GQL, "ListTagsByProject"
        if fields is None:
            result = await self._core.gql.run_typed(document, operation, variables)
        else:
            if isinstance(fields, str) or not isinstance(fields, Sequence):
                raise KiliInputError("fields= takes a list of field names, e.g. ['id', 'label'].")
            selection = build_selection(Tag, tuple(fields))
            result = await self._core.gql.run_typed(
                with_selection(document, "Tag", selection.text),
                operation,
                variables,
                page_model(Tag, selection),
            )
        tags: list[Tag] = result.data
        return tags

    async def create_tag(self, name: str, color: str | None = None) -> Tag:
        """Create a tag in the organization (proposed for all its projects); return it.

        Args:
            name: the tag's label (not empty; several tags may share one).
            color: e.g. ``"#ff0000"``; default: the platform's default color.
        """
        if color is not None:
            _name("color", color)
        data = inputs.TagData(label=_name("name", name), color=color)
        return (await self._core.gql.create_tag(data=data)).data

    async def _ids(
        self, tags: Sequence[str] | None, tag_ids: Sequence[str] | None
    ) -> list[str] | None:
        """Tag ids from labels (``tags``) or ids; None when neither is given."""
        labels = as_list("tags", tags, str)
        ids = as_list("tag_ids", tag_ids, str)
        if labels is not None:
            return await self._core.lookups.tag_ids(labels)
        return ids

    async def tag_project(
        self,
        project_id: str,
        tags: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
    ) -> list[Tag]:
        """Put tags of the organization on a project (those already on it stay); return them.

        Args:
            project_id: the project.
            tags: labels of the tags (NotFoundError naming an unknown one; a label several
                tags share is a KiliInputError: give ``tag_ids``).
            tag_ids: ids of the tags, instead of ``tags``.
            disable_tqdm: accepted for compatibility; no progress bar is shown.
        """
        _one_of("tag_project", {"tags": tags, "tag_ids": tag_ids})
        _name("project_id", project_id)
        ids = await self._ids(tags, tag_ids) or []
        known = {t.id: t for t in (await self._core.gql.list_tags_by_org()).data}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise NotFoundError.from_message(
                f"tag_project: tag id(s) {', '.join(map(repr, unknown))} are not tags of the "
                "organization: list them with kili.tags().",
                "NOT_FOUND",
            )
        on_project = {t.id: t for t in await self.tags(project_id)}
        out: list[Tag] = []
        for tag_id in ids:
            if tag_id not in on_project:
                data = inputs.CheckedTagData(tag_id=tag_id, project_id=project_id)
                on_project[tag_id] = (await self._core.gql.check_tag(data=data)).data
            out.append(on_project[tag_id])
        return out

    async def untag_project(
        self,
        project_id: str,
        tags: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        all: bool | None = None,  # the official SDK's name
        disable_tqdm: bool | None = None,
    ) -> list[Tag]:
        """Remove tags from a project (they stay in the organization); return them.

        Give exactly one of ``tags`` (labels), ``tag_ids`` or ``all=True`` (every tag of
        the project). A tag that is not on the project is a KiliInputError naming it
        (nothing is removed).

        Args:
            disable_tqdm: accepted for compatibility; no progress bar is shown.
        """
        given = _one_of("untag_project", {"tags": tags, "tag_ids": tag_ids, "all": all})
        check_bools(all=all)
        if all is False:
            raise KiliInputError(
                "untag_project(all=False) removes nothing: give all=True, tags= or tag_ids=."
            )
        _name("project_id", project_id)
        on_project = {t.id: t for t in await self.tags(project_id)}
        ids = list(on_project) if given == "all" else await self._ids(tags, tag_ids) or []
        missing = [i for i in ids if i not in on_project]
        if missing:
            present = ", ".join(repr(t.label) for t in on_project.values()) or "none"
            raise KiliInputError(
                f"untag_project: tag(s) {', '.join(map(repr, missing))} are not on project "
                f"{project_id!r} (its tags: {present}); nothing was removed."
            )
        gql = self._core.gql
        return [(await gql.uncheck_tag(project_id=project_id, tag_id=i)).data for i in ids]

    async def update_tag(self, tag_name: str, new_tag_name: str) -> Tag:
        """Rename the tag labelled ``tag_name`` (for every project of the organization);
        return it. NotFoundError if no tag has that label."""
        tag_id = (await self._core.lookups.tag_ids([_name("tag_name", tag_name)]))[0]
        data = inputs.UpdateTagData(label=_name("new_tag_name", new_tag_name))
        result = await self._core.gql.update_tag(tag_id=tag_id, data=data)
        return result.data.updated_tag

    async def delete_tag(self, tag_name: str | None = None, tag_id: str | None = None) -> bool:
        """Delete a tag from the organization (it leaves every project it was on), given
        by label (``tag_name``) or id (``tag_id``, for a label several tags share);
        return True."""
        given = _one_of("delete_tag", {"tag_name": tag_name, "tag_id": tag_id})
        if given == "tag_name":
            tag_id = (await self._core.lookups.tag_ids([_name("tag_name", tag_name)]))[0]
        result = await self._core.gql.delete_tag(tag_id=_name("tag_id", tag_id))
        return bool(result.data)
