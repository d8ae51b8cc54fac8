"""Asset administration: assignees, priority, metadata merges, skips and consensus use.

The names and parameters of ``kili==26.2.4``. Assets are named as for the other asset
mutations (``asset_ids``, or ``external_ids`` plus ``project_id``), resolved and checked to
exist before anything is sent. ``assign_assets_to_labelers`` and ``set_assets_priority``
send chunks of 100 assets concurrently and return one
:class:`~aiokili.AssetActionOutcome` for the whole call (each asset in ``succeeded``,
``declined`` or ``failed``, in the order given); both set values, so a chunk whose answer
is lost is sent again, once. ``add_metadata`` / ``set_metadata`` read the current metadata
and write the merged documents through ``update_properties_in_assets``, as the official
SDK does. What the platform (and the local server) does with each: docs/asset-admin.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from .._core import constants as C
from .._core.bulk import chunked
from .._core.inputs import as_list, json_text, same_length
from .._generated import input_types as inputs
from .._generated.fragments import AssetActionOutcome, UpdatedAsset
from ..errors import InvalidResponseError, KiliInputError
from .updates import ACTION_CHUNK, AssetUpdateMethods, _empty, _identify, _Target

__all__ = ["KEPT_METADATA_KEYS", "AssetAdminMethods"]

KEPT_METADATA_KEYS = ("text", "imageUrl", "url", "processingParameters")
"""Keys of an asset's metadata that ``set_metadata`` keeps (Kili reads them: the text shown
next to the asset, links, import settings)."""
_INT32 = (-(2**31), 2**31 - 1)

Send = Callable[[Sequence[_Target]], Awaitable[AssetActionOutcome]]


def _user_lists(value: Any) -> list[tuple[str, ...]]:
    """``to_be_labeled_by_array`` checked: per asset, a list of user ids (each once)."""
    lists = as_list("to_be_labeled_by_array", value, list, tuple)
    if lists is None:
        raise KiliInputError(
            "assign_assets_to_labelers: give to_be_labeled_by_array, one list of user ids "
            "per asset ([] unassigns it)."
        )
    out: list[tuple[str, ...]] = []
    for i, users in enumerate(lists):
        ids = as_list(f"to_be_labeled_by_array[{i}]", users, str) or []
        for j, user in enumerate(ids):
            if not user.strip():
                raise KiliInputError(f"to_be_labeled_by_array[{i}][{j}] is empty: give a user id.")
            if "@" in user:
                raise KiliInputError(
                    f"to_be_labeled_by_array[{i}][{j}] is {user!r}, an email: give user ids "
                    "(await kili.users(email=...) lists them, with their id)."
                )
        out.append(tuple(dict.fromkeys(ids)))
    return out


def _documents(method: str, value: Any) -> list[dict[str, Any]]:
    """``json_metadata`` checked: one dict per asset."""
    documents = as_list("json_metadata", value, Mapping)
    if documents is None:
        raise KiliInputError(f"{method}: give json_metadata, one dict per asset.")
    for i, document in enumerate(documents):
        json_text(f"json_metadata[{i}]", document)  # JSON-serializable
    return [dict(d) for d in documents]


class AssetAdminMethods(AssetUpdateMethods):
    """Asset administration methods of :class:`~aiokili.AsyncKili`."""

    async def _outcome(
        self, method: str, targets: Sequence[_Target], order: Sequence[int], send: Send
    ) -> AssetActionOutcome:
        """Send ``targets`` (in ``order``) in chunks; one outcome, in the order given."""

        async def one(chunk: Sequence[int]) -> list[AssetActionOutcome]:
            return [await send([targets[i] for i in chunk])]

        outcomes = await self._core.bulk(
            method,
            order,
            one,
            keys=[targets[i].id for i in order],
            indexes=order,
            chunk_size=ACTION_CHUNK,
            idempotent=True,  # values set by asset id: sent twice, the same state
        )
        position = {t.id: i for i, t in enumerate(targets)}

        def ordered(items: list[Any]) -> list[Any]:
            return sorted(items, key=lambda x: position.get(x.asset_id, len(position)))

        return AssetActionOutcome(
            succeeded=ordered([x for o in outcomes for x in o.succeeded]),
            declined=ordered([x for o in outcomes for x in o.declined]),
            failed=ordered([x for o in outcomes for x in o.failed]),
        )

    async def assign_assets_to_labelers(
        self,
        to_be_labeled_by_array: Sequence[Sequence[str]],
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> AssetActionOutcome:
        """Give each asset its labelers: only they may label it (``[]``: anyone).

        The lists replace the assets' assignees. A labeler with a label in progress on an
        asset (saved, not submitted) stays assigned whatever is asked, and that asset is
        ``declined``. Assets with the same list go in the same requests.

        Args:
            to_be_labeled_by_array: per asset, the ids of the users who label it (members
                of the project; ``kili.project_users(project_id)`` lists them).
            asset_ids: the assets, by id. external_ids: or by external id, with project_id.
            project_id: the project; needed with external_ids.

        Returns:
            ``succeeded`` / ``declined`` / ``failed`` (with ``details``), each asset once.
        """
        method = "assign_assets_to_labelers"
        if _empty(method, "asset_ids", asset_ids) or _empty(method, "external_ids", external_ids):
            return AssetActionOutcome(succeeded=[], declined=[], failed=[])
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        lists = _user_lists(to_be_labeled_by_array)
        same_length(to_be_labeled_by_array=lists, asset_ids=ids, external_ids=external)
        targets = await self._targets(ids, external, project_id)
        users = {t.id: lists[i] for i, t in enumerate(targets)}
        order = sorted(range(len(targets)), key=lambda i: (sorted(lists[i]), i))

        async def send(chunk: Sequence[_Target]) -> AssetActionOutcome:
            groups: dict[tuple[str, ...], list[str]] = {}
            for target in chunk:  # one request per distinct list of labelers
                groups.setdefault(users[target.id], []).append(target.id)
            parts = [
                (
                    await self._core.gql.assign_assets(
                        where=inputs.AssetWhere(id_in=group), user_ids=list(who)
                    )
                ).data
                for who, group in groups.items()
            ]
            return AssetActionOutcome(
                succeeded=[x for p in parts for x in p.succeeded],
                declined=[x for p in parts for x in p.declined],
                failed=[x for p in parts for x in p.failed],
            )

        return await self._outcome(method, targets, order, send)

    async def set_assets_priority(
        self,
        priority: int,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> AssetActionOutcome:
        """Give assets a priority in the labelling queue: higher first (default 0).

        Equal priorities are served in import order. An asset not waiting for work (in
        progress, done or skipped) is ``declined``.

        Args:
            priority: an integer (32 bits), the same for every asset.
            asset_ids: the assets, by id. external_ids: or by external id, with project_id.
            project_id: the project; needed with external_ids.
        """
        method = "set_assets_priority"
        if (
            not isinstance(priority, int)
            or isinstance(priority, bool)
            or not _INT32[0] <= priority <= _INT32[1]
        ):
            raise KiliInputError(
                f"{method}: priority must be an integer (32 bits, higher served first), "
                f"got {priority!r}."
            )
        if _empty(method, "asset_ids", asset_ids) or _empty(method, "external_ids", external_ids):
            return AssetActionOutcome(succeeded=[], declined=[], failed=[])
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        targets = await self._targets(ids, external, project_id)

        async def send(chunk: Sequence[_Target]) -> AssetActionOutcome:
            where = inputs.AssetWhere(id_in=[t.id for t in chunk])
            return (await self._core.gql.set_assets_priority(where=where, priority=priority)).data

        return await self._outcome(method, targets, range(len(targets)), send)

    async def _metadata(
        self,
        method: str,
        json_metadata: Any,
        project_id: str,
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    ) -> list[UpdatedAsset]:
        """Write ``merge(current, new)`` as each asset's metadata (read, then written)."""
        if _empty(method, "json_metadata", json_metadata):
            return []
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"{method}: project_id must be a project id, got {project_id!r}.")
        documents = _documents(method, json_metadata)
        ids, external = _identify(method, asset_ids, external_ids, project_id)
        same_length(json_metadata=documents, asset_ids=ids, external_ids=external)
        targets = await self._targets(ids, external, project_id)
        current: dict[str, dict[str, Any]] = {}
        for chunk in chunked([t.id for t in targets], C.EXTERNAL_IDS_CHUNK):
            where = inputs.AssetWhere(id_in=list(chunk), project=inputs.ProjectWhere(id=project_id))
            page = await self._core.gql.assets_metadata(where=where, first=len(chunk), skip=0)
            current.update((a.id, dict(a.json_metadata)) for a in page.data)
        data = [
            inputs.AssetData(
                json_metadata=json_text(
                    f"json_metadata[{i}]", merge(current.get(t.id, {}), documents[i])
                )
            )
            for i, t in enumerate(targets)
        ]
        return await self._update(method, targets, data)

    async def add_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[UpdatedAsset]:
        """Add keys to assets' metadata, keeping the others; return the updated assets.

        ``json_metadata[i]`` goes to the i-th asset named (the official SDK pairs it with
        the i-th asset of a listing, in import order). Like the official SDK, the metadata
        is read, merged here and written back whole: a change made by someone else in
        between is overwritten.

        Args:
            json_metadata: per asset, the keys to add (or change) and their values.
            project_id: the project of the assets.
            asset_ids: the assets, by id. external_ids: or by external id.
        """
        return await self._metadata(
            "add_metadata",
            json_metadata,
            project_id,
            asset_ids,
            external_ids,
            lambda old, new: {**old, **new},
        )

    async def set_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[UpdatedAsset]:
        """Replace assets' metadata, keeping only the keys Kili itself reads
        (:data:`KEPT_METADATA_KEYS`: ``text``, ``imageUrl``, ``url``, ``processingParameters``)
        unless given; return the updated assets. Pairing and merging as
        :meth:`add_metadata`.

        Args:
            json_metadata: per asset, its new metadata.
            project_id: the project of the assets.
            asset_ids: the assets, by id. external_ids: or by external id.
        """
        return await self._metadata(
            "set_metadata",
            json_metadata,
            project_id,
            asset_ids,
            external_ids,
            lambda old, new: {**{k: old[k] for k in KEPT_METADATA_KEYS if k in old}, **new},
        )

    async def skip_or_unskip(
        self,
        action: Literal["skip", "unskip"],
        asset_id: str,
        project_id: str,
        reason: str | None = None,
    ) -> str:
        """Skip an asset (it leaves the labelling queue), or put a skipped one back;
        return its id.

        An asset used for consensus cannot be skipped, nor one assigned to others.

        Args:
            action: ``"skip"`` or ``"unskip"``.
            asset_id: the asset.
            project_id: its project.
            reason: why it is skipped (required to skip).
        """
        method = "skip_or_unskip"
        if action not in ("skip", "unskip"):
            raise KiliInputError(f'{method}: action must be "skip" or "unskip", got {action!r}.')
        for name, value in (("asset_id", asset_id), ("project_id", project_id)):
            if not isinstance(value, str) or not value.strip():
                raise KiliInputError(f"{method}: {name} must be a non-empty id, got {value!r}.")
        if action == "unskip":
            await self._core.gql.unskip_asset(project_id=project_id, asset_id=asset_id)
            return asset_id
        if not isinstance(reason, str) or not reason.strip():
            raise KiliInputError(
                f"{method}: give reason=, why the asset is skipped: Kili requires one to skip."
            )
        where = inputs.AssetWhere(id=asset_id, project=inputs.ProjectWhere(id=project_id))
        return (await self._core.gql.skip_asset(reason=reason, where=where)).data.id

    async def update_asset_consensus(
        self,
        project_id: str,
        is_consensus: bool,
        asset_id: str | None = None,
        external_id: str | None = None,
    ) -> bool:
        """Use an asset for consensus or not; return the value set.

        Only on projects with workflow steps (legacy ones: ``update_properties_in_assets(
        is_used_for_consensus_array=...)``), from a project ADMIN or TEAM_MANAGER, while the
        asset waits at a labelling step (``TO_DO``, no one has started it) and consensus is
        enabled in the project; otherwise the API refuses (``InvalidRequestError`` saying
        which condition failed).

        Args:
            project_id: the project.
            is_consensus: True to use the asset for consensus, False to take it out.
            asset_id: the asset. external_id: or its external id.
        """
        method = "update_asset_consensus"
        if not isinstance(is_consensus, bool):
            raise KiliInputError(f"{method}: is_consensus must be True or False.")
        if asset_id is None and external_id is None:
            raise KiliInputError(f"{method}: give asset_id, or external_id, of the asset.")
        for name, value in (
            ("project_id", project_id),
            ("asset_id", asset_id),
            ("external_id", external_id),
        ):
            given = value is not None or name == "project_id"
            if given and (not isinstance(value, str) or not value.strip()):
                raise KiliInputError(f"{method}: {name} must be a non-empty string, got {value!r}.")
        result = await self._core.gql.set_asset_consensus(
            project_id=project_id,
            is_consensus=is_consensus,
            asset_id=asset_id,
            external_id=external_id,
        )
        if result.data is None:
            raise InvalidResponseError(f"{method}: the API answered null instead of a boolean.")
        return result.data
