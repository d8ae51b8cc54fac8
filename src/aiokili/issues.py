"""Issues (and questions) on labels and assets: create, list, count, change status."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import with_config
from typing_extensions import TypedDict, Unpack

from ._core import constants as C
from ._core.base import Domain
from ._core.bulk import created_since
from ._core.calls import user_stacklevel
from ._core.inputs import FILTERS_CONFIG, as_list, build, project_where, same_length
from ._core.listing import Listing, ListingSpec
from ._generated import input_types as inputs
from ._generated.operations import COUNT_ISSUES_GQL, ISSUES_GQL
from .errors import KiliInputError, NotFoundError
from .models import Issue, IssueStatus, IssueStatusName, IssueType, IssueTypeName


@with_config(FILTERS_CONFIG)
class IssueFilters(TypedDict, total=False):
    """Filters of :meth:`IssueMethods.issues` and :meth:`IssueMethods.count_issues`."""

    asset_id: str
    """Only issues on this asset."""
    asset_id_in: Sequence[str]
    """Only issues on these assets."""
    issue_type: IssueType | IssueTypeName
    """"ISSUE" or "QUESTION" (both by default)."""
    status: IssueStatus | IssueStatusName
    """"OPEN", "SOLVED" or "CANCELLED"."""


_WHERE = {
    "asset_id": "asset.id",
    "asset_id_in": "asset_in",
    "issue_type": "type",
    "status": "status",
}

ISSUES = ListingSpec(
    model=Issue,
    fragment="Issue",
    page_document=ISSUES_GQL,
    page_operation="Issues",
    count_document=COUNT_ISSUES_GQL,
    count_operation="CountIssues",
)


def _where(method: str, project_id: str, filters: dict[str, Any]) -> inputs.IssueWhere:
    if filters.get("asset_id") is not None and filters.get("asset_id_in") is not None:
        raise KiliInputError(
            f"{method}() got both asset_id and asset_id_in: give one of them "
            "(asset_id_in=[asset_id] for several)."
        )
    return project_where(inputs.IssueWhere, IssueFilters, _WHERE, method, project_id, filters)


def _optional_texts(name: str, values: Any) -> list[str | None] | None:
    return as_list(name, values, str, type(None))


class IssueMethods(Domain):
    """Issue methods of :class:`~aiokili.AsyncKili`."""

    def issues(
        self,
        project_id: str,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        as_generator: bool = False,
        **filters: Unpack[IssueFilters],
    ) -> Listing[Issue]:
        """Issues and questions of a project, oldest first (see :class:`IssueFilters`).

        ``async for issue in kili.issues(project_id, status="OPEN"): ...`` or ``await`` it
        for a list.

        Args:
            project_id: the project.
            fields: field paths (e.g. ``["id", "status", "author.email"]``); default:
                every field of :class:`~aiokili.Issue`.
            first: maximum number of issues (default: all). skip: issues to skip.
            disable_tqdm, as_generator: accepted for compatibility: a listing streams
                (``async for``) or gives a list (``await``).
        """
        where = _where("issues", project_id, dict(filters))
        return self._core.listing(ISSUES, where, fields=fields, first=first, skip=skip)

    async def count_issues(self, project_id: str, **filters: Unpack[IssueFilters]) -> int:
        """Number of issues matching the filters (see :class:`IssueFilters`)."""
        where = _where("count_issues", project_id, dict(filters))
        return (await self._core.gql.count_issues(where=where)).data

    async def _label_assets(self, project_id: str, label_ids: Sequence[str]) -> dict[str, str]:
        """Label id → its asset id; NotFoundError naming the labels not in the project."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(label_ids))
        for start in range(0, len(unique), C.EXTERNAL_IDS_CHUNK):
            chunk = unique[start : start + C.EXTERNAL_IDS_CHUNK]
            where = inputs.LabelWhere(project=inputs.ProjectWhere(id=project_id), id_in=chunk)
            page = await self._core.gql.label_asset_ids(where=where, first=len(chunk), skip=0)
            found.update((label.id, label.asset_id or "") for label in page.data)
        missing = [i for i in unique if i not in found]
        if missing:
            shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise NotFoundError.from_message(
                f"{len(missing)} label(s) not found in project {project_id!r}: {shown}. "
                "Check the ids (kili.labels(project_id)). Nothing was written.",
                "NOT_FOUND",
            )
        return found

    async def create_issues(
        self,
        project_id: str,
        label_id_array: Sequence[str],
        object_mid_array: Sequence[str | None] | None = None,
        text_array: Sequence[str | None] | None = None,
    ) -> list[dict[Literal["id"], str]]:
        """Create one issue per label; return ``[{"id": issue_id}, ...]`` in input order.

        Each issue is attached to its label and the label's asset, status "OPEN".

        Args:
            project_id: the project of the labels.
            label_id_array: the labels to raise an issue on.
            object_mid_array: for each label, the mid of the object the issue is about
                (None: the whole label).
            text_array: for each issue, its first comment (None: no comment).

        Raises:
            NotFoundError: a label is not in the project (nothing is written).
        """
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError("create_issues() needs project_id, the id of the project.")
        labels = as_list("label_id_array", label_id_array, str) or []
        mids = _optional_texts("object_mid_array", object_mid_array)
        texts = _optional_texts("text_array", text_array)
        n = same_length(label_id_array=labels, object_mid_array=mids, text_array=texts)
        if n == 0:
            return []
        assets = await self._label_assets(project_id, labels)  # unknown labels: nothing sent
        since = datetime.now(timezone.utc) - timedelta(seconds=C.CLOCK_SKEW)
        items = [
            build(
                inputs.IssueToCreate,
                label_id=labels[i],
                object_mid=None if mids is None else mids[i],
                text=None if texts is None else texts[i],
                type=IssueType.ISSUE,
            )
            for i in range(n)
        ]
        where = inputs.AssetWhere(project=inputs.ProjectWhere(id=project_id))

        async def send(chunk: Sequence[inputs.IssueToCreate]) -> list[str]:
            result = await self._core.gql.create_issues(issues=list(chunk), where=where)
            return [issue.id for issue in result.data]

        async def reconcile(chunk: Sequence[inputs.IssueToCreate]) -> list[str | None]:
            return await self._written_issues(project_id, chunk, assets, since)

        ids = await self._core.bulk(
            "create_issues",
            items,
            send,
            keys=labels,
            chunk_size=C.LABELS_CHUNK,
            reconcile=reconcile,
        )
        return [{"id": issue_id} for issue_id in ids]

    async def _written_issues(
        self,
        project_id: str,
        chunk: Sequence[inputs.IssueToCreate],
        assets: dict[str, str],
        since: datetime,
    ) -> list[str | None]:
        """After an unknown outcome: per item, the id of the issue the API already created
        (same label, object, type, text and author, created since the call began)."""
        me = (await self._core.gql.viewer()).data.id
        on = sorted({assets[item.label_id or ""] for item in chunk})
        where = inputs.IssueWhere(project=inputs.ProjectWhere(id=project_id), asset_in=on)
        found: list[Issue] = []
        while True:
            page = await self._core.gql.issues(where=where, first=1000, skip=len(found))
            found += page.data
            if len(page.data) < 1000:
                break

        def written(item: inputs.IssueToCreate, issue: Issue) -> bool:
            text = issue.comments[0].text if issue.comments else None
            return (
                created_since(issue.created_at, since)
                and (issue.author.id if issue.author else None) == me
                and (issue.label_id, issue.object_mid, issue.type_, text)
                == (item.label_id, item.object_mid, item.type_, item.text)
            )

        result: list[str | None] = []
        for item in chunk:
            match = next((issue for issue in found if written(item, issue)), None)
            if match is not None:
                found.remove(match)  # each issue accounts for one item
            result.append(match.id if match else None)
        return result

    async def append_to_issues(
        self,
        label_id: str,
        project_id: str,
        object_mid: str | None = None,
        text: str | None = None,
        type_: IssueType | IssueTypeName = "ISSUE",
    ) -> dict[Literal["id"], str]:
        """Create one issue (or question) on a label; return ``{"id": issue_id}``.

        Deprecated in the official SDK in favour of :meth:`create_issues`; kept for the
        plugin examples that call it (a ``DeprecationWarning`` is emitted).

        Args:
            label_id: the label.
            project_id: its project.
            object_mid: mid of the object of the label the issue is about.
            text: the issue's first comment.
            type_: "ISSUE" (default) or "QUESTION".
        """
        warnings.warn(
            "append_to_issues is deprecated: use create_issues, which creates many issues "
            "in one call.",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )
        if not isinstance(label_id, str) or not label_id:
            raise KiliInputError("append_to_issues() needs label_id, the id of a label.")
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError("append_to_issues() needs project_id, the label's project.")
        for name, value in (("object_mid", object_mid), ("text", text)):
            if value is not None and not isinstance(value, str):
                raise KiliInputError(f"{name} must be a string, got {type(value).__name__}.")
        if type_ not in ("ISSUE", "QUESTION"):  # IssueType members are str too
            raise KiliInputError(f"type_ must be 'ISSUE' or 'QUESTION', got {type_!r}.")
        item = build(
            inputs.IssueToCreate, label_id=label_id, object_mid=object_mid, text=text, type=type_
        )
        asset_id = (await self._label_assets(project_id, [label_id]))[label_id]
        item.asset_id = asset_id
        result = await self._core.gql.create_issues(
            issues=[item], where=inputs.AssetWhere(id=asset_id)
        )
        return {"id": result.data[0].id}

    async def update_issue_status(
        self, issue_id: str, status: IssueStatus | IssueStatusName
    ) -> Issue:
        """Set an issue's status ("OPEN", "SOLVED", "CANCELLED"); return the issue.

        An open issue can be solved or cancelled, and a solved or cancelled one reopened.
        """
        if not isinstance(issue_id, str) or not issue_id:
            raise KiliInputError("update_issue_status() needs issue_id, the id of an issue.")
        data = build(inputs.IssueData, status=status)
        result = await self._core.gql.update_properties_in_issue(
            data=data, where=inputs.IssueWhere(id=issue_id)
        )
        return result.data
