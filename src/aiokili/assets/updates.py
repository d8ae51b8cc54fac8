"""Asset mutations other than imports: properties, external ids, deletion, review, queue.

Assets are named by ``asset_ids``, or by ``external_ids`` plus ``project_id``. Every id
is resolved (and checked to exist) before anything is changed: an unknown id raises
:class:`~aiokili.errors.NotFoundError` naming it, and nothing is sent. Calls go in
chunks of 100 assets, ``concurrency`` chunks at a time, results in input order; a
failed chunk does not stop the others (:class:`~aiokili.errors.BulkOperationError`
lists each failed asset with its position and reason).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .._core import constants as C
from .._core.base import Domain
from .._core.bulk import chunked
from .._core.calls import user_stacklevel
from .._core.inputs import as_list, build, check_number, json_text, same_length
from .._generated import input_types as inputs
from .._generated.fragments import (
    AssetActionOutcome,
    AssetActionOutcomeDeclined,
    AssetActionOutcomeFailed,
    AssetActionOutcomeSucceeded,
    UpdatedAsset,
)
from ..errors import BulkOperationError, ItemFailure, KiliInputError, NotFoundError

__all__ = [
    "AssetActionOutcome",
    "AssetActionOutcomeDeclined",
    "AssetActionOutcomeFailed",
    "AssetActionOutcomeSucceeded",
    "AssetUpdateMethods",
    "UpdatedAsset",
]

ACTION_CHUNK = 100
"""Assets per asset-action request (deleteAssets, addAssetsToReview...), as Kili does."""


@dataclass(frozen=True)
class _Target:
    id: str
    external_id: str | None
    project_id: str | None


def _empty(method: str, name: str, values: Sequence[Any] | None) -> bool:
    """True (with a warning naming the argument) if ``values`` is an empty list."""
    if values is not None and len(values) == 0:
        warnings.warn(
            f"{method}: {name} is empty, so nothing was done.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return True
    return False


def _ids(name: str, values: Any) -> list[str] | None:
    """A list of non-empty ids naming each asset once (None stays None)."""
    items = as_list(name, values, str)
    if items is None:
        return None
    blank = [i for i, v in enumerate(items) if not v.strip()]
    if blank:
        raise KiliInputError(f"{name}[{blank[0]}] is empty: give a non-empty id.")
    counts = Counter(items)
    repeated = [v for v, n in counts.items() if n > 1]
    if repeated:
        shown = ", ".join(map(repr, repeated[:5]))
        raise KiliInputError(
            f"{name} names the same asset more than once: {shown}. Give each once."
        )
    return items


def _identify(
    method: str, asset_ids: Any, external_ids: Any, project_id: Any
) -> tuple[list[str] | None, list[str] | None]:
    """Check how the assets are named: ``asset_ids``, or ``external_ids`` + ``project_id``."""
    ids = _ids("asset_ids", asset_ids)
    external = _ids("external_ids", external_ids)
    if ids is not None and external is not None:
        raise KiliInputError(
            f"{method}: please provide either `asset_ids` or `external_ids`, not both."
        )
    if ids is None and external is None:
        raise KiliInputError(
            f"{method}: give asset_ids, or external_ids and project_id, to name the assets."
        )
    if project_id is not None and (not isinstance(project_id, str) or not project_id):
        raise KiliInputError(f"{method}: project_id must be a project id, got {project_id!r}.")
    if external is not None and project_id is None:
        raise KiliInputError(
            f"{method}: external_ids need project_id, the project the external ids belong to."
        )
    return ids, external


def _not_found(what: str, missing: Sequence[str], project_id: str | None) -> NotFoundError:
    shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
    where = f" in project {project_id!r}" if project_id else ""
    return NotFoundError.from_message(
        f"{len(missing)} asset(s) not found{where}, by {what}: {shown}. Check the ids (list "
        "them with kili.assets()). Nothing was changed.",
        "NOT_FOUND",
    )


def _optional(name: str, values: Any, *kinds: type) -> list[Any] | None:
    """A per-asset array whose ``None`` entries mean "leave this asset's value as it is"."""
    return as_list(name, values, *kinds, type(None))


def _metadata(index: int, value: Any) -> str | None:
    name = f"json_metadatas[{index}]"
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise KiliInputError(
                f"{name} must be a dict, or the JSON text of one; got {value!r:.60}."
            )
        return value
    return json_text(name, value)


def _number(name: str, value: Any) -> float | None:
    return None if value is None else check_number(name, value, 0, 1)


def _resolution(name: str, value: Any) -> inputs.ResolutionInput | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not {"width", "height"} <= set(value):
        raise KiliInputError(f"{name} must be a dict with width and height, got {value!r:.60}.")
    width = check_number(f"{name}['width']", value["width"], 1e-9, float("inf"))
    height = check_number(f"{name}['height']", value["height"], 1e-9, float("inf"))
    return inputs.ResolutionInput(width=width, height=height)


def _page_resolutions(name: str, value: Any) -> list[inputs.PageResolutionInput] | None:
    if value is None:
        return None
    pages = as_list(name, value, Mapping, object)
    out: list[inputs.PageResolutionInput] = []
    for page_index, page in enumerate(pages or []):
        where = f"{name}[{page_index}]"
        if not isinstance(page, Mapping):  # e.g. kili.utils.assets.PageResolution
            as_dict = getattr(page, "as_dict", None)
            if not callable(as_dict):
                raise KiliInputError(f"{where} must be a dict, got {type(page).__name__}.")
            page = as_dict()
        number = page.get("pageNumber", page.get("page_number"))
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise KiliInputError(f"{where} needs pageNumber, an integer >= 1, got {number!r}.")
        size = _resolution(where, page)
        assert size is not None
        rotation = page.get("rotation")
        if rotation not in (None, 0, 90, 180, 270) or isinstance(rotation, bool):
            raise KiliInputError(
                f"{where}['rotation'] must be 0, 90, 180 or 270, got {rotation!r}."
            )
        out.append(
            inputs.PageResolutionInput(
                page_number=number, width=size.width, height=size.height, rotation=rotation
            )
        )
    return out


@dataclass(frozen=True)
class _Properties:
    """The per-asset arrays of ``update_properties_in_assets``, checked (None: not given;
    a None entry: leave that asset's value as it is)."""

    priorities: list[Any] | None
    json_metadatas: list[Any] | None
    consensus_marks: list[Any] | None
    honeypot_marks: list[Any] | None
    to_be_labeled_by_array: list[Any] | None
    contents: list[Any] | None
    json_contents: list[Any] | None
    status_array: list[Any] | None
    is_used_for_consensus_array: list[Any] | None
    is_honeypot_array: list[Any] | None
    resolution_array: list[Any] | None
    page_resolutions_array: list[Any] | None

    @classmethod
    def checked(cls, **given: Any) -> _Properties:
        """Each array checked to be a list of its kind (or None entries)."""
        arrays = {
            "priorities": _optional("priorities", given["priorities"], int),
            "json_metadatas": _optional("json_metadatas", given["json_metadatas"], dict, str),
            "consensus_marks": _optional("consensus_marks", given["consensus_marks"], float, int),
            "honeypot_marks": _optional("honeypot_marks", given["honeypot_marks"], float, int),
            "to_be_labeled_by_array": _optional(
                "to_be_labeled_by_array", given["to_be_labeled_by_array"], list, tuple
            ),
            "contents": _optional("contents", given["contents"], str),
            "json_contents": _optional("json_contents", given["json_contents"], str, dict, list),
            "is_used_for_consensus_array": _optional(
                "is_used_for_consensus_array", given["is_used_for_consensus_array"], bool
            ),
            "is_honeypot_array": _optional("is_honeypot_array", given["is_honeypot_array"], bool),
            "resolution_array": _optional("resolution_array", given["resolution_array"], Mapping),
            "page_resolutions_array": _optional(
                "page_resolutions_array", given["page_resolutions_array"], list, tuple
            ),
            "status_array": as_list("status_array", given["status_array"], str, type(None)),
        }
        return cls(**arrays)

    def arrays(self) -> dict[str, list[Any] | None]:
        """Name → array, in the order of the method's arguments."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def data(self, i: int) -> inputs.AssetData:
        """What changes on asset ``i`` (its values checked)."""

        def entry(values: list[Any] | None) -> Any:
            return None if values is None else values[i]

        who = entry(self.to_be_labeled_by_array)
        if who is not None:
            who = as_list(f"to_be_labeled_by_array[{i}]", who, str)
        text = entry(self.json_contents)
        if text is not None and not isinstance(text, str):
            text = json_text(f"json_contents[{i}]", text, objects_only=False)
        return build(
            inputs.AssetData,
            priority=entry(self.priorities),
            json_metadata=_metadata(i, entry(self.json_metadatas)),
            consensus_mark=_number(f"consensus_marks[{i}]", entry(self.consensus_marks)),
            honeypot_mark=_number(f"honeypot_marks[{i}]", entry(self.honeypot_marks)),
            to_be_labeled_by=who,
            should_reset_to_be_labeled_by=(not who) if who is not None else None,
            content=entry(self.contents),
            json_content=text,
            is_used_for_consensus=entry(self.is_used_for_consensus_array),
            is_honeypot=entry(self.is_honeypot_array),
            resolution=_resolution(f"resolution_array[{i}]", entry(self.resolution_array)),
            page_resolutions=_page_resolutions(
                f"page_resolutions_array[{i}]", entry(self.page_resolutions_array)
            ),
        )


class AssetUpdateMethods(Domain):
    """Asset update and workflow methods of :class:`~aiokili.AsyncKili`."""

    async def _targets(
        self, ids: list[str] | None, external: list[str] | None, project_id: str | None
    ) -> list[_Target]:
        """The assets named, in input order; NotFoundError naming any unknown one."""
        if external is not None:
            assert project_id is not None
            found = await self._core.lookups.asset_ids_by_external_id(project_id, external)
            missing = [e for e in external if e not in found]
            if missing:
                raise _not_found("external id", missing, project_id)
            return [_Target(found[e], e, project_id) for e in external]
        assert ids is not None
        known: dict[str, _Target] = {}
        for chunk in chunked(ids, C.EXTERNAL_IDS_CHUNK):
            where = inputs.AssetWhere(
                id_in=list(chunk),
                project=inputs.ProjectWhere(id=project_id) if project_id is not None else None,
            )
            page = await self._core.gql.assets_to_update(where=where, first=len(chunk), skip=0)
            for a in page.data:
                known[a.id] = _Target(a.id, a.external_id, a.project.id if a.project else None)
        missing = [i for i in ids if i not in known]
        if missing:
            raise _not_found("id", missing, project_id)
        return [known[i] for i in ids]

    async def _update(
        self,
        method: str,
        targets: Sequence[_Target],
        data: Sequence[inputs.AssetData],
        *,
        failures: Sequence[ItemFailure] = (),
        chunk_size: int = C.ASSETS_CHUNK,
    ) -> list[UpdatedAsset]:
        """Send ``data[i]`` to ``targets[i]`` in chunks; failures so far are reported too."""
        keep = [i for i in range(len(targets)) if i not in {f.index for f in failures}]

        async def send(indexes: Sequence[int]) -> list[UpdatedAsset]:
            result = await self._core.gql.update_properties_in_assets(
                where=[inputs.AssetWhere(id=targets[i].id) for i in indexes],
                data=[data[i] for i in indexes],
            )
            return list(result.data)

        try:
            done = await self._core.bulk(
                method,
                keep,
                send,
                keys=[targets[i].id for i in keep],
                indexes=keep,
                chunk_size=chunk_size,
                idempotent=True,  # values set by asset id
            )
        except BulkOperationError as exc:
            every = sorted([*failures, *exc.failures], key=lambda f: f.index)
            raise BulkOperationError(method, every, exc.succeeded) from None
        if failures:
            raise BulkOperationError(method, list(failures), done)
        return done

    async def update_properties_in_assets(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        priorities: Sequence[int | None] | None = None,
        json_metadatas: Sequence[dict[str, Any] | str | None] | None = None,
        consensus_marks: Sequence[float | None] | None = None,
        honeypot_marks: Sequence[float | None] | None = None,
        to_be_labeled_by_array: Sequence[Sequence[str] | None] | None = None,
        contents: Sequence[str | None] | None = None,
        json_contents: Sequence[str | dict[str, Any] | list[Any] | None] | None = None,
        status_array: Sequence[str | None] | None = None,
        is_used_for_consensus_array: Sequence[bool | None] | None = None,
        is_honeypot_array: Sequence[bool | None] | None = None,
        project_id: str | None = None,
        resolution_array: Sequence[Mapping[str, float] | None] | None = None,
        page_resolutions_array: Sequence[Sequence[Any] | None] | None = None,
    ) -> list[UpdatedAsset]:
        """Update properties of assets; return the updated assets (id, external id) in order.

        Every array has one entry per asset; a ``None`` entry leaves that asset's value as
        it is. Only the arrays given are changed.

        Args:
            asset_ids: the assets, by id. external_ids: or by external id, with project_id.
            priorities: deprecated (warns); integers, 0 by default on Kili.
            json_metadatas: the new metadata (replaces it): a dict, or its JSON text.
            consensus_marks, honeypot_marks: marks between 0 and 1.
            to_be_labeled_by_array: deprecated (warns); per asset, the emails of the users
                allowed to label it (``[]``: anyone).
            contents: new contents (URLs; raw text for TEXT projects).
            json_contents: new rich contents (text, or a dict/list sent as JSON text).
            status_array: deprecated and ignored (warns): statuses follow the labels.
            is_used_for_consensus_array: use the asset for consensus KPIs (legacy workflow).
            is_honeypot_array: use the asset as a honeypot.
            project_id: the project; needed with external_ids (checks asset_ids otherwise).
            resolution_array: ``{"width": px, "height": px}`` per image or video asset.
            page_resolutions_array: per PDF asset, every page's ``{"pageNumber": n (from 1),
                "width", "height", "rotation"?}`` (or ``kili.utils.assets.PageResolution``).
        """
        method = "update_properties_in_assets"
        if asset_ids is not None and external_ids is not None:
            warnings.warn(
                "The use of `external_ids` argument has changed. It is now used to identify which "
                "properties of which assets to update. Please use `kili.change_asset_external_ids()`"
                " method instead to change asset external IDs.",
                DeprecationWarning,
                stacklevel=user_stacklevel(),
            )
        if _empty(method, "asset_ids", asset_ids) or _empty(method, "external_ids", external_ids):
            return []
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        for name, given, why in (
            ("status_array", status_array, "ignored: statuses follow the labels"),
            ("priorities", priorities, "deprecated: use set_assets_priority"),
            ("to_be_labeled_by_array", to_be_labeled_by_array, "deprecated: assign assets instead"),
        ):
            if given is not None:
                warnings.warn(f"{name} is {why}.", DeprecationWarning, stacklevel=user_stacklevel())
        properties = _Properties.checked(
            priorities=priorities,
            json_metadatas=json_metadatas,
            consensus_marks=consensus_marks,
            honeypot_marks=honeypot_marks,
            to_be_labeled_by_array=to_be_labeled_by_array,
            contents=contents,
            json_contents=json_contents,
            status_array=status_array,
            is_used_for_consensus_array=is_used_for_consensus_array,
            is_honeypot_array=is_honeypot_array,
            resolution_array=resolution_array,
            page_resolutions_array=page_resolutions_array,
        )
        count = same_length(asset_ids=ids, external_ids=external, **properties.arrays())
        data = [properties.data(i) for i in range(count)]
        targets = await self._targets(ids, external, project_id)
        return await self._update(method, targets, data)

    async def change_asset_external_ids(
        self,
        new_external_ids: Sequence[str],
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> list[UpdatedAsset]:
        """Give assets new external ids; return the updated assets (id, new external id).

        External ids are unique in a project: a new id already used by another asset (not
        renamed by this call) fails that asset only, reported in
        :class:`~aiokili.errors.BulkOperationError` with its position; the others are renamed.

        Args:
            new_external_ids: one new external id per asset.
            asset_ids: the assets, by id. external_ids: or by current external id, with
                project_id.
            project_id: the project; needed with external_ids.
        """
        method = "change_asset_external_ids"
        new = as_list("new_external_ids", new_external_ids, str)
        if new is None:
            raise KiliInputError(f"{method}: give new_external_ids, one per asset.")
        if _empty(method, "new_external_ids", new):
            return []
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        same_length(new_external_ids=new, asset_ids=ids, external_ids=external)
        blank = [i for i, v in enumerate(new) if not v.strip()]
        if blank:
            raise KiliInputError(f"new_external_ids[{blank[0]}] is empty: give a non-empty id.")
        targets = await self._targets(ids, external, project_id)
        claimed: dict[tuple[str | None, str], int] = {}
        for i, (target, name) in enumerate(zip(targets, new, strict=True)):
            first = claimed.setdefault((target.project_id, name), i)
            if first != i:
                raise KiliInputError(
                    f"new_external_ids[{i}] and new_external_ids[{first}] are both {name!r}, "
                    "in the same project: external ids are unique in a project."
                )
        failures, linked = await self._rename_clashes(targets, new)
        data = [inputs.AssetData(external_id=name) for name in new]
        chunk = len(targets) if linked and len(targets) <= C.EXTERNAL_IDS_CHUNK else C.ASSETS_CHUNK
        return await self._update(method, targets, data, failures=failures, chunk_size=chunk)

    async def _rename_clashes(
        self, targets: Sequence[_Target], new: Sequence[str]
    ) -> tuple[list[ItemFailure], bool]:
        """The renames that would clash with an asset outside the call (one failure each),
        and whether a new id is held now by another asset of the call (a swap)."""
        position = {t.id: i for i, t in enumerate(targets)}
        holder: dict[int, str] = {}  # rename i -> the asset holding its new id now
        by_project: dict[str | None, list[int]] = {}
        for i, target in enumerate(targets):
            by_project.setdefault(target.project_id, []).append(i)
        for project, indexes in by_project.items():
            if project is None:
                continue
            owners = await self._core.lookups.asset_ids_by_external_id(
                project, [new[i] for i in indexes]
            )
            holder.update(
                (i, o) for i in indexes if (o := owners.get(new[i])) not in (None, targets[i].id)
            )
        failed: dict[int, str] = {}
        changed = True
        while changed:  # an asset kept by a failed rename keeps its id: its taker fails too
            changed = False
            for i, owner in holder.items():
                if i not in failed and (owner not in position or position[owner] in failed):
                    failed[i] = owner
                    changed = True
        failures = [
            ItemFailure(
                i,
                targets[i].id,
                KiliInputError(
                    f"new_external_ids[{i}]: {new[i]!r} is already the external id of asset "
                    f"{owner!r} in project {targets[i].project_id!r}; asset {targets[i].id!r} was "
                    "not renamed."
                ),
            )
            for i, owner in sorted(failed.items())
        ]
        return failures, any(i not in failed for i in holder)

    async def _action(
        self,
        method: str,
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        project_id: str | None,
    ) -> AssetActionOutcome:
        if _empty(method, "asset_ids", asset_ids) or _empty(method, "external_ids", external_ids):
            return AssetActionOutcome(succeeded=[], declined=[], failed=[])
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        targets = await self._targets(ids, external, project_id)
        gql = self._core.gql

        async def send(chunk: Sequence[_Target]) -> list[AssetActionOutcome]:
            where = inputs.AssetWhere(id_in=[t.id for t in chunk])
            outcome: AssetActionOutcome
            if method == "delete_many_from_dataset":
                outcome = (await gql.delete_assets(where=where)).data
            elif method == "add_to_review":
                outcome = (await gql.add_assets_to_review(where=where)).data
            else:
                outcome = (await gql.send_assets_back_to_queue(where=where)).data
            return [outcome]

        outcomes = await self._core.bulk(
            method,
            targets,
            send,
            keys=[t.id for t in targets],
            chunk_size=ACTION_CHUNK,
            idempotent=True,  # deleting or moving an asset twice leaves it as once
        )
        return AssetActionOutcome(
            succeeded=[x for o in outcomes for x in o.succeeded],
            declined=[x for o in outcomes for x in o.declined],
            failed=[x for o in outcomes for x in o.failed],
        )

    async def delete_many_from_dataset(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> AssetActionOutcome:
        """Delete assets, with their labels, issues and uploaded files.

        Returns ``succeeded`` / ``declined`` / ``failed`` (with ``details``), each asset in
        exactly one list. On a failed chunk, :class:`~aiokili.errors.BulkOperationError`
        names its assets and carries the other chunks' outcomes in ``.succeeded``.

        Args:
            asset_ids: the assets, by id. external_ids: or by external id, with project_id.
            project_id: the project; needed with external_ids.
        """
        return await self._action("delete_many_from_dataset", asset_ids, external_ids, project_id)

    async def add_to_review(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> AssetActionOutcome:
        """Send labelled assets to review (status ``TO_REVIEW``, step Review / TO_DO).

        An asset without a label (``TODO``) or being labelled (``ONGOING``) is ``declined``;
        one already to review is ``succeeded``. Arguments as for
        :meth:`delete_many_from_dataset`.
        """
        return await self._action("add_to_review", asset_ids, external_ids, project_id)

    async def send_back_to_queue(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> AssetActionOutcome:
        """Send assets back to the labelling queue (status ``ONGOING``, step Labeling /
        REWORK, their labels flagged ``is_sent_back_to_queue``, no longer skipped).

        An asset still to be labelled (``TODO``) is ``declined``. Arguments as for
        :meth:`delete_many_from_dataset`.
        """
        return await self._action("send_back_to_queue", asset_ids, external_ids, project_id)
