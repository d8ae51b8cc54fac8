"""Label mutations: append, predictions, honeypots, deletions, updates (bulk, reconciled)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from .._core import constants as C
from .._core.base import Domain
from .._core.bulk import chunked, created_since
from .._core.calls import current, user_stacklevel
from .._core.inputs import as_list, build, json_text, same_length
from .._core.tasks import gather_or_raise
from .._generated import input_types as inputs
from .._generated.operations import APPEND_MANY_LABELS_GQL
from ..errors import KiliInputError, MalformedLabelError, NotFoundError
from ..models import Label, LabelType, LabelTypeName

if TYPE_CHECKING:  # result models, loaded when their operation's answer is read
    from .._core.lookups import ProjectInterface
    from .._generated.append_many_labels import AppendManyLabels
    from .._generated.labels_to_reconcile import LabelsToReconcileData


@dataclass(frozen=True)
class _NewLabels:
    """The labels of one ``append_labels`` call, checked: one entry per label."""

    keys: list[str]
    """The assets as given: their ids, or their external ids (``by_external_id``)."""
    by_external_id: bool
    responses: list[dict[str, Any]]
    texts: list[str]
    """Each label's json response, as JSON text."""
    authors: list[str] | None
    seconds: list[float] | None
    reviewed: list[str] | None
    kind: LabelType
    model_name: str | None

    def items(self, asset_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each label as an ``AppendLabelData`` dict (wire names), on ``asset_ids[i]``.

        Every value was checked, so plain dicts go: building a model per label would cost
        more than all the rest."""
        shared = {"modelName": self.model_name} if self.model_name is not None else {}
        items: list[dict[str, Any]] = []
        for i, asset_id in enumerate(asset_ids):
            item: dict[str, Any] = {"assetID": asset_id, "jsonResponse": self.texts[i], **shared}
            if self.authors:
                item["authorID"] = self.authors[i]
            if self.seconds:
                item["secondsToLabel"] = self.seconds[i]
            if self.reviewed:
                item["referencedLabelId"] = self.reviewed[i]
            items.append(item)
        return items


def _check_new_labels(
    *,
    asset_id_array: Any,
    json_response_array: Any,
    author_id_array: Any,
    seconds_to_label_array: Any,
    model_name: Any,
    label_type: Any,
    project_id: str | None,
    asset_external_id_array: Any,
    overwrite: Any,
    step_name: Any,
    reviewed_label_id_array: Any,
    step_id: str | None,
    group_name: str | None,
) -> _NewLabels:
    """Every local check of ``append_labels``' arguments, before any request."""
    if group_name is not None:
        raise KiliInputError(
            "append_labels(group_name=) is for multi-group (V3) workflows, which aiokili "
            "does not support: give step_id or step_name."
        )
    if step_name is not None and step_id is not None:
        raise KiliInputError("append_labels() got both step_name and step_id: give one.")
    if step_name is not None and (not isinstance(step_name, str) or not step_name):
        raise KiliInputError(f"step_name must be a step's name, got {step_name!r}.")
    responses = as_list("json_response_array", json_response_array, dict) or []
    asset_ids = as_list("asset_id_array", asset_id_array, str)
    external_ids = as_list("asset_external_id_array", asset_external_id_array, str)
    authors = as_list("author_id_array", author_id_array, str)
    seconds = as_list("seconds_to_label_array", seconds_to_label_array, int, float)
    reviewed = as_list("reviewed_label_id_array", reviewed_label_id_array, str)
    if not responses:
        raise KiliInputError("json_response_array is empty: give at least one label to upload.")
    if (asset_ids is None) == (external_ids is None):
        raise KiliInputError(
            "Give exactly one of asset_id_array or asset_external_id_array (with project_id)."
        )
    if external_ids is not None and not project_id:
        raise KiliInputError("asset_external_id_array needs project_id.")
    if not isinstance(overwrite, bool):
        raise KiliInputError(f"overwrite must be True or False, got {overwrite!r}.")
    same_length(
        asset_id_array=asset_ids,
        asset_external_id_array=external_ids,
        json_response_array=responses,
        author_id_array=authors,
        seconds_to_label_array=seconds,
        reviewed_label_id_array=reviewed,
    )
    texts = [json_text(f"json_response_array[{i}]", r) for i, r in enumerate(responses)]
    kind = build(inputs.AppendManyLabelsData, label_type=label_type, labels_data=[]).label_type
    if model_name is not None and not isinstance(model_name, str):
        raise KiliInputError(f"model_name must be a str, got {type(model_name).__name__}.")
    keys = asset_ids if asset_ids is not None else external_ids or []
    return _NewLabels(
        keys, asset_ids is None, responses, texts, authors, seconds, reviewed, kind, model_name
    )


def _one_model_name(names: list[str] | None) -> str:
    """The model name of ``create_predictions`` given by ``model_name_array`` (deprecated:
    a DeprecationWarning), which must name one model."""
    if names is None:
        raise KiliInputError("You must provide a model name with the `model_name` argument.")
    if len(set(names)) > 1:
        raise KiliInputError(
            "model_name_array names several models: creating predictions from different "
            "models is not supported anymore. Separate your calls by models."
        )
    warnings.warn(
        "The use of `model_name_array` is deprecated. Creating predictions from different "
        "models is not supported anymore. Please use `model_name` argument instead to "
        "provide the predictions model name.",
        DeprecationWarning,
        stacklevel=user_stacklevel(),
    )
    return names[0]


class LabelMutationMethods(Domain):
    """Label mutation methods of :class:`~aiokili.AsyncKili`."""

    async def append_labels(
        self,
        asset_id_array: Sequence[str] | None = None,
        json_response_array: Sequence[dict[str, Any]] = (),
        author_id_array: Sequence[str] | None = None,
        seconds_to_label_array: Sequence[float] | None = None,
        model_name: str | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        project_id: str | None = None,
        asset_external_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
        step_name: str | None = None,
        reviewed_label_id_array: Sequence[str] | None = None,
        step_id: str | None = None,
        group_name: str | None = None,
    ) -> list[str]:
        """Append one label per asset; return the new label ids, in input order.

        Assets are given by ``asset_id_array``, or by ``asset_external_id_array`` plus
        ``project_id``. All arrays have one entry per label. Labels go in chunks of 100,
        ``concurrency`` chunks at a time. If some chunks fail, the others are still
        applied and :class:`~aiokili.errors.BulkOperationError` lists every failed item
        (``.failures``, with its position in your arrays) and the ids created
        (``.succeeded``).

        Args:
            json_response_array: the labels, one dict per asset (``{"JOB": {...}}``).
            author_id_array: author user ids (default: the API key's user).
            seconds_to_label_array: labelling time in seconds.
            model_name: model name, for PREDICTION / INFERENCE labels.
            label_type: "DEFAULT" (default), "REVIEW", "PREDICTION", "INFERENCE", "AUTOSAVE".
            overwrite: for predictions/inferences, replace the asset's labels of the same
                type and model name.
            reviewed_label_id_array: for REVIEW labels, the label each one reviews.
            step_id: the workflow step the labels are made at (e.g. the Review step's id: the
                assets then leave review); default: the label type's step.
            step_name: the same step given by name (``"Labeling"``, ``"Review"``), looked up
                once in the project's steps. Not with ``step_id``.
            group_name: multi-group (V3) workflows: not supported by the local server.
        """
        new = _check_new_labels(
            asset_id_array=asset_id_array,
            json_response_array=json_response_array,
            author_id_array=author_id_array,
            seconds_to_label_array=seconds_to_label_array,
            model_name=model_name,
            label_type=label_type,
            project_id=project_id,
            asset_external_id_array=asset_external_id_array,
            overwrite=overwrite,
            step_name=step_name,
            reviewed_label_id_array=reviewed_label_id_array,
            step_id=step_id,
            group_name=group_name,
        )
        targets = new.keys
        if new.by_external_id:
            targets = await self._asset_ids(project_id or "", new.keys)
        await self._check_answers("json_response_array", targets, new.responses, project_id)
        if step_name is not None:
            step_project = project_id or await self._project_of(targets[0])
            steps = await self._core.lookups.step_ids(step_project, [step_name], "step_name")
            step_id = steps[0][0]
        data: dict[str, Any] = {"labelType": new.kind.value, "overwrite": overwrite}
        if step_id is not None:
            data["stepId"] = step_id
        return await self._append(new.items(targets), new.keys, new.kind, data, project_id)

    async def _append(
        self,
        items: Sequence[dict[str, Any]],
        keys: Sequence[str],
        kind: LabelType,
        data: dict[str, Any],
        project_id: str | None,
    ) -> list[str]:
        """Send the labels ``items`` of type ``kind`` in chunks (``data``: what every chunk
        shares); after an unknown outcome, look up which ones were written before sending
        the others again."""
        since = datetime.now(timezone.utc) - timedelta(seconds=C.CLOCK_SKEW)
        project = inputs.ProjectWhere(id=project_id) if project_id else None

        async def send(chunk: Sequence[dict[str, Any]]) -> list[str]:
            where = build(
                inputs.AssetWhere, id_in=[item["assetID"] for item in chunk], project=project
            )
            variables = {"data": {**data, "labelsData": chunk}, "where": where}
            result: AppendManyLabels = await self._core.gql.run_typed(
                APPEND_MANY_LABELS_GQL, "AppendManyLabels", variables
            )
            return [label.id for label in result.data]

        async def reconcile(chunk: Sequence[dict[str, Any]]) -> list[str | None]:
            return await self._written_labels(chunk, kind, since)

        return await self._core.bulk(
            "append_labels",
            items,
            send,
            keys=list(keys),
            chunk_size=C.LABELS_CHUNK,
            reconcile=reconcile,
        )

    async def _check_answers(
        self,
        arg: str,
        asset_ids: Sequence[str],
        responses: Sequence[dict[str, Any]],
        project_id: str | None,
    ) -> None:
        """:class:`~aiokili.errors.MalformedLabelError` for the first of ``responses``
        (answers on ``asset_ids``) that does not match its project's interface (read once
        per project): ``project_id``'s, or else each asset's own (looked up; an asset not
        found is left to the API, which names it)."""
        from .._core.label_validation import label_problem  # the check, when used

        if project_id is not None:
            projects: dict[str, str] = dict.fromkeys(asset_ids, project_id)
        elif len(set(asset_ids)) == 1:
            projects = {asset_ids[0]: await self._project_of(asset_ids[0])}
        else:
            projects = await self._core.lookups.projects_of_assets(asset_ids)
        interfaces: dict[str, ProjectInterface] = {}
        for project in dict.fromkeys(projects.values()):
            interfaces[project] = await self._core.lookups.interface(project)
        for i, (asset_id, response) in enumerate(zip(asset_ids, responses, strict=True)):
            found = interfaces.get(projects.get(asset_id, ""))
            if found is None:
                continue
            problem = label_problem(found.interface, response, found.input_type)
            if problem is not None:
                where = f"{arg}[{i}]" if arg.endswith("_array") else arg
                raise MalformedLabelError(
                    f"{current() or 'append_labels'}(): {where}: {problem.message} "
                    "Nothing was written.",
                    index=i,
                    job=problem.job,
                    name=problem.name,
                    accepted=problem.accepted,
                    path=problem.path,
                )

    async def _project_of(self, asset_id: str) -> str:
        """The project of an asset (a step name is looked up in it)."""
        found = (
            await self._core.gql.label_asset_project(where=inputs.AssetWhere(id=asset_id))
        ).data
        project = found[0].project if found else None
        if project is None:
            raise NotFoundError.from_message(
                f'Asset "{asset_id}" not found. Check the id.', "NOT_FOUND"
            )
        return project.id

    async def _written_labels(
        self, chunk: Sequence[dict[str, Any]], kind: LabelType, since: datetime | None
    ) -> list[str | None]:
        """Per item, the id of a label the API already has for it (same asset, type,
        author, model name and answer; created since ``since``, when given), each label
        accounting for one item; else None. After an unknown outcome, ``since`` is when
        the call began."""
        me = None
        if any(item.get("authorID") is None for item in chunk):
            me = (await self._core.gql.viewer()).data.id
        assets = sorted({item["assetID"] for item in chunk})
        day = since.date().isoformat() if since is not None else None
        where = build(
            inputs.LabelWhere,
            asset=inputs.AssetWhere(id_in=assets),
            type_in=[kind],
            created_at_gte=day,
        )
        by_asset: dict[str, list[LabelsToReconcileData]] = {}
        skip = 0
        while True:
            page = await self._core.gql.labels_to_reconcile(where=where, first=1000, skip=skip)
            for label in page.data:
                by_asset.setdefault(label.asset_id or "", []).append(label)
            if len(page.data) < 1000:
                break
            skip += 1000

        def written(item: dict[str, Any], label: LabelsToReconcileData) -> bool:
            author = label.author.id if label.author else None
            return (
                (since is None or created_since(label.created_at, since))
                and author == (item.get("authorID") or me)
                and label.model_name == item.get("modelName")
                and label.json_response == json.loads(item["jsonResponse"])
            )

        found: list[str | None] = []
        for item in chunk:
            candidates = by_asset.get(item["assetID"], [])
            match = next((lb for lb in candidates if written(item, lb)), None)
            if match is not None:
                candidates.remove(match)  # each written label accounts for one item
            found.append(match.id if match else None)
        return found

    async def _existing_labels(
        self,
        asset_ids: Sequence[str],
        json_responses: Sequence[dict[str, Any]],
        kind: LabelType,
        model_name: str | None = None,
    ) -> list[str | None]:
        """Per label that ``append_labels`` would add by the API key's user, the id of one
        the API already has (same asset, type, author, model name and json response), else
        None; each existing label accounts for one. What ``aiokili labels import`` skips."""
        shared = {"modelName": model_name} if model_name is not None else {}
        items = [
            {"assetID": asset, "jsonResponse": json.dumps(response), **shared}
            for asset, response in zip(asset_ids, json_responses, strict=True)
        ]
        by_asset: dict[str, list[int]] = {}
        for i, asset in enumerate(asset_ids):
            by_asset.setdefault(asset, []).append(i)
        groups = [
            [i for a in assets for i in by_asset[a]]  # an asset's labels stay together
            for assets in chunked(list(by_asset), C.EXTERNAL_IDS_CHUNK)
        ]
        jobs = [
            partial(self._written_labels, [items[i] for i in group], kind, None) for group in groups
        ]
        found: list[str | None] = [None] * len(items)
        for group, ids in zip(
            groups, await gather_or_raise(jobs, limit=C.LOOKUP_CONCURRENCY), strict=True
        ):
            for i, label_id in zip(group, ids, strict=True):
                found[i] = label_id
        return found

    async def create_predictions(
        self,
        project_id: str,
        external_id_array: Sequence[str] | None = None,
        model_name_array: Sequence[str] | None = None,
        json_response_array: Sequence[dict[str, Any]] | None = None,
        model_name: str | None = None,
        asset_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
    ) -> dict[Literal["id"], str]:
        """Create PREDICTION labels of model ``model_name`` on assets; return ``{"id": project_id}``.

        Assets are given by ``asset_id_array`` or ``external_id_array`` (one per prediction).
        ``overwrite=True`` first removes the assets' predictions of the same model.
        ``model_name_array`` is deprecated (a DeprecationWarning): its one model name is used.
        Sent like :meth:`append_labels` (chunks, :class:`~aiokili.errors.BulkOperationError`).
        """
        if not json_response_array:
            raise KiliInputError(
                "json_response_array is empty, you must provide at least one prediction to upload."
            )
        names = as_list("model_name_array", model_name_array, str)
        if (asset_id_array is None) == (external_id_array is None):
            raise KiliInputError(
                "create_predictions() needs exactly one of asset_id_array or external_id_array."
            )
        same_length(
            external_id_array=as_list("external_id_array", external_id_array, str),
            json_response_array=list(json_response_array),
            model_name_array=names,
            asset_id_array=as_list("asset_id_array", asset_id_array, str),
        )
        if model_name is None:
            model_name = _one_model_name(names)
        await self.append_labels(
            asset_id_array=asset_id_array,
            json_response_array=json_response_array,
            model_name=model_name,
            label_type="PREDICTION",
            project_id=project_id,
            asset_external_id_array=None if asset_id_array is not None else external_id_array,
            overwrite=overwrite,
        )
        return {"id": project_id}

    async def create_honeypot(
        self,
        json_response: dict[str, Any],
        asset_external_id: str | None = None,
        asset_id: str | None = None,
        project_id: str | None = None,
    ) -> Label:
        """Make an asset a honeypot whose expected answer is ``json_response``; return its label.

        The answer is stored as a REVIEW label; labels of the asset then get a honeypot mark
        (their agreement with it, 0 to 1). Give ``asset_id``, or ``asset_external_id`` and
        ``project_id``.
        """
        target = await self._one_asset(
            "create_honeypot",
            asset_id,
            "asset_id",
            asset_external_id,
            "asset_external_id",
            project_id,
        )
        text = json_text("json_response", json_response)
        await self._check_answers("json_response", [target], [json_response], project_id)
        data = inputs.CreateHoneypotData(json_response=text)
        return (
            await self._core.gql.create_honeypot(data=data, where=inputs.AssetWhere(id=target))
        ).data

    async def append_to_labels(
        self,
        json_response: dict[str, Any],
        author_id: str | None = None,
        label_asset_external_id: str | None = None,
        label_asset_id: str | None = None,
        label_type: LabelType | LabelTypeName = "DEFAULT",
        project_id: str | None = None,
        seconds_to_label: float | None = 0,
    ) -> Label:
        """Deprecated (a DeprecationWarning): append one label; use :meth:`append_labels`.

        Give ``label_asset_id``, or ``label_asset_external_id`` and ``project_id``.
        ``author_id`` defaults to the API key's user; ``seconds_to_label`` to 0.
        """
        warnings.warn(
            "append_to_labels method is deprecated. Please use append_labels instead. This new "
            "function allows to import several labels 10 times faster.",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )
        text = json_text("json_response", json_response)
        data = build(
            inputs.AppendToLabelsData,
            author_id=author_id or "-",
            json_response=text,
            label_type=label_type,
            seconds_to_label=seconds_to_label,
        )
        target = await self._one_asset(
            "append_to_labels",
            label_asset_id,
            "label_asset_id",
            label_asset_external_id,
            "label_asset_external_id",
            project_id,
        )
        await self._check_answers("json_response", [target], [json_response], project_id)
        if author_id is None:
            viewer = (await self._core.gql.viewer()).data.id
            data = data.model_copy(update={"author_id": viewer})
        return (
            await self._core.gql.append_to_labels(data=data, where=inputs.AssetWhere(id=target))
        ).data

    async def delete_labels(
        self, ids: Sequence[str], disable_tqdm: bool | None = None
    ) -> list[str]:
        """Delete labels by id; return the deleted ids, in input order.

        Only PREDICTION and INFERENCE labels can be deleted (the server refuses others,
        naming them). An empty ``ids`` warns and returns ``[]`` without a request.
        Sent in chunks of 100 (:class:`~aiokili.errors.BulkOperationError` on failures).
        """
        items = as_list("ids", ids, str)
        if not items:
            warnings.warn(
                "delete_labels() was called with an empty ids list: nothing to delete.",
                stacklevel=user_stacklevel(),
            )
            return []

        async def send(chunk: Sequence[str]) -> list[str]:
            return (await self._core.gql.delete_labels(ids=list(chunk))).data

        async def reconcile(chunk: Sequence[str]) -> list[str | None]:
            """After an unknown outcome: the labels gone were deleted; resend the others."""
            where = inputs.LabelWhere(id_in=list(chunk))
            found = await self._core.gql.labels(where=where, first=len(chunk), skip=0)
            still = {label.id for label in found.data}
            return [None if label_id in still else label_id for label_id in chunk]

        return await self._core.bulk(
            "delete_labels", items, send, keys=items, chunk_size=C.LABELS_CHUNK, reconcile=reconcile
        )

    async def update_properties_in_label(
        self,
        label_id: str,
        seconds_to_label: float | None = None,
        model_name: str | None = None,
        json_response: dict[str, Any] | None = None,
    ) -> Label:
        """Change a label's time, model name or answer (the ones given); return the label.

        In the seed SDK, not in kili 26.2.4; sent as the older SDK did
        (``updatePropertiesInLabel(where: {id}, data: LabelData)``).
        """
        if not isinstance(label_id, str) or not label_id:
            raise KiliInputError(f"label_id must be a label id (a string), got {label_id!r}.")
        text = None if json_response is None else json_text("json_response", json_response)
        if json_response is not None:
            found = (
                await self._core.gql.label_project_of_label(where=inputs.LabelWhere(id=label_id))
            ).data
            asset = found[0].label_of if found else None
            if asset is not None and asset.project is not None:
                await self._check_answers(
                    "json_response", [asset.id], [json_response], asset.project.id
                )
        data = build(
            inputs.LabelData,
            seconds_to_label=seconds_to_label,
            model_name=model_name,
            json_response=text,
        )
        result = await self._core.gql.update_properties_in_label(
            where=inputs.LabelWhere(id=label_id), data=data
        )
        if result.data is None:
            raise NotFoundError.from_message(f'Label "{label_id}" not found.', "NOT_FOUND")
        return result.data

    async def _one_asset(
        self,
        method: str,
        asset_id: str | None,
        id_name: str,
        external_id: str | None,
        external_name: str,
        project_id: str | None,
    ) -> str:
        """The asset id given directly, or looked up from its external id in the project."""
        if asset_id is not None:
            if not isinstance(asset_id, str) or not asset_id:
                raise KiliInputError(f"{id_name} must be an asset id (a string), got {asset_id!r}.")
            return asset_id
        if external_id is None or not project_id:
            raise KiliInputError(f"{method}() needs {id_name}, or {external_name} and project_id.")
        return (await self._asset_ids(project_id, [external_id]))[0]

    async def _asset_ids(self, project_id: str, external_ids: list[str]) -> list[str]:
        """Asset ids of ``external_ids`` in the project; KiliInputError naming unknown ones."""
        found = await self._core.lookups.asset_ids_by_external_id(project_id, external_ids)
        missing = [e for e in dict.fromkeys(external_ids) if e not in found]
        if missing:
            shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise KiliInputError(
                f"{len(missing)} external id(s) not found in project {project_id!r}: {shown}. "
                "Check the ids, or import those assets first. Nothing was written."
            )
        return [found[e] for e in external_ids]
