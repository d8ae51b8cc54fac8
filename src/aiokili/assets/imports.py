"""Helpers of ``append_many_to_dataset``: which import path each asset takes, and the
uploads of one chunk (contents, video frames, rich-text / frame documents, image layers).
Uses the core only."""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from .._core.base import Core
from .._core.calls import user_stacklevel
from .._core.inputs import as_list, build, check_bools, json_text, no_duplicates, same_length
from .._core.uploads import UploadItem
from .._generated.input_types import (
    AppendManyAssetsAsynchronouslyData,
    AppendManyAssetsData,
    ProjectWhere,
)
from ..errors import KiliInputError
from ..models import InputType
from .contents import Content, classify
from .media import wait_for_notification

LARGE_IMAGE_BYTES = 30 * 1024 * 1024
"""Local images from this size are tiled: imported asynchronously, as the official SDK does."""
RECONCILE_TRIES, RECONCILE_WAIT = 10, 0.3
"""Look-ups (and seconds between them) before an asynchronous chunk is deemed not applied."""
TILED_SUFFIXES = frozenset({".tif", ".tiff", ".jp2", ".ntf", ".nitf"})


def read_csv(path: Any, separator: str) -> tuple[list[str], list[str]]:
    """``content`` and ``externalId`` columns of a CSV file of text assets."""
    if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
        raise KiliInputError(f"from_csv: no such file {str(path)!r}.")
    contents: list[str] = []
    external_ids: list[str] = []
    with Path(path).open(newline="", encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file, delimiter=separator), start=2):
            if "content" not in row or "externalId" not in row:
                raise KiliInputError(
                    f"from_csv: line {line} lacks a content or externalId column; the header "
                    "must name both."
                )
            contents.append(row["content"])
            external_ids.append(row["externalId"])
    return contents, external_ids


def upload_type(
    input_type: InputType | None,
    content: Content,
    metadata: Mapping[str, Any] | None,
    layered: bool,
) -> str | None:
    """The ``uploadType`` of an asset that takes the asynchronous path, else None."""
    if input_type == InputType.GEOSPATIAL:
        return "GEO_SATELLITE"
    if input_type == InputType.IMAGE and (layered or _large_image(content)):
        return "TILED_IMAGE"
    if input_type == InputType.VIDEO and content.kind in ("url", "file"):
        params = (metadata or {}).get("processingParameters") or {}
        native = not (isinstance(params, dict) and params.get("shouldUseNativeVideo") is False)
        return "NATIVE_VIDEO" if native else "FRAME_VIDEO"
    return None


def _large_image(content: Content) -> bool:
    if content.path is None:
        return False
    return (
        content.path.suffix.lower() in TILED_SUFFIXES
        or content.path.stat().st_size >= LARGE_IMAGE_BYTES
    )


def check_frames(index: int, frames: Sequence[Any]) -> list[str | Path]:
    """A video's frames: URLs kept, local files checked (KiliInputError naming the frame)."""
    out: list[str | Path] = []
    for j, frame in enumerate(frames):
        where = f"json_content_array[{index}][{j}]"
        if isinstance(frame, str) and frame.startswith(("http://", "https://")):
            out.append(frame)
        elif isinstance(frame, (str, os.PathLike)) and Path(frame).expanduser().is_file():
            out.append(Path(frame).expanduser())
        else:
            raise KiliInputError(f"{where}: {frame!r:.80} is neither a URL nor an existing file.")
    return out


def check_layers(index: int, layers: Any) -> list[dict[str, Any]]:
    """An asset's image layers (``{"path": ..., "name": ...}`` dicts), files checked."""
    where = f"multi_layer_content_array[{index}]"
    if not isinstance(layers, list) or not layers:
        raise KiliInputError(f"{where} must be a non-empty list of layer dicts.")
    for j, layer in enumerate(layers):
        path = layer.get("path") if isinstance(layer, dict) else None
        if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
            raise KiliInputError(f'{where}[{j}] needs "path", an existing local file.')
    return [dict(layer) for layer in layers]


def with_processing_parameters(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """VIDEO metadata always carries ``processingParameters`` (default ``{}``)."""
    out = dict(metadata or {})
    out.setdefault("processingParameters", {})
    return out


@dataclass
class ImportArrays:
    """The arrays of one ``append_many_to_dataset`` call, checked (None: not given)."""

    count: int
    contents: list[Content]
    external_ids: list[str] | None
    ids: list[str] | None
    honeypots: list[bool] | None
    metadata: list[dict[str, Any]] | None
    json_contents: list[Any] | None
    layers: list[list[dict[str, Any]]] | None


def check_import(
    *,
    content_array: Any,
    external_id_array: Any,
    id_array: Any,
    is_honeypot_array: Any,
    status_array: Any,
    json_content_array: Any,
    json_metadata_array: Any,
    multi_layer_content_array: Any,
    from_csv: Any,
    csv_separator: str,
    wait_until_availability: Any,
) -> ImportArrays:
    """Every local check of ``append_many_to_dataset``'s arguments, before any request."""
    if from_csv is not None:
        content_array, external_id_array = _csv(
            from_csv, csv_separator, content_array, external_id_array
        )
    contents = as_list("content_array", content_array, str, os.PathLike)
    external_ids = as_list("external_id_array", external_id_array, str)
    ids = as_list("id_array", id_array, str)
    honeypots = as_list("is_honeypot_array", is_honeypot_array, bool)
    metadata = as_list("json_metadata_array", json_metadata_array, dict)
    json_contents = as_list("json_content_array", json_content_array, str, dict, list, type(None))
    layers = as_list("multi_layer_content_array", multi_layer_content_array, list)
    statuses = as_list("status_array", status_array, str)
    check_bools(wait_until_availability=wait_until_availability)
    _check_sources(contents, json_contents, layers)
    count = same_length(
        content_array=contents,
        external_id_array=external_ids,
        id_array=ids,
        is_honeypot_array=honeypots,
        json_content_array=json_contents,
        json_metadata_array=metadata,
        multi_layer_content_array=layers,
        status_array=statuses,
    )
    if statuses is not None:
        _warn_status_ignored()
    _check_ids("external_id_array", external_ids)
    _check_ids("id_array", ids)
    layers = [check_layers(i, x) for i, x in enumerate(layers)] if layers else None
    for i, m in enumerate(metadata or ()):
        json_text(f"json_metadata_array[{i}]", m)
    classified = _classify(contents if contents is not None else [""] * count)
    return ImportArrays(
        count, classified, external_ids, ids, honeypots, metadata, json_contents, layers
    )


def _check_sources(
    contents: list[Any] | None, json_contents: list[Any] | None, layers: list[Any] | None
) -> None:
    """The assets are made of contents, JSON contents or layers (contents and layers: not both)."""
    if contents is None and json_contents is None and layers is None:
        raise KiliInputError(
            "Give content_array (URLs, paths or text), json_content_array or "
            "multi_layer_content_array."
        )
    if contents is not None and layers is not None:
        raise KiliInputError("Give content_array or multi_layer_content_array, not both.")


def _warn_status_ignored() -> None:
    warnings.warn(
        "status_array is ignored: imported assets always start as TODO.",
        DeprecationWarning,
        stacklevel=user_stacklevel(),
    )


def _csv(
    path: Any, separator: str, content_array: Any, external_id_array: Any
) -> tuple[list[str], list[str]]:
    """The contents and external ids of ``from_csv`` (then given by no other argument)."""
    if content_array is not None or external_id_array is not None:
        raise KiliInputError(
            "from_csv gives the contents and external ids: leave content_array and "
            "external_id_array out."
        )
    return read_csv(path, separator)


def _check_ids(name: str, values: list[str] | None) -> None:
    """Ids given by the user: none empty, none twice."""
    empty = [i for i, v in enumerate(values or ()) if not v.strip()]
    if empty:
        raise KiliInputError(f"{name}[{empty[0]}] is empty: give a non-empty id.")
    no_duplicates(name, values)


def _classify(contents: Sequence[str | os.PathLike[str]]) -> list[Content]:
    """Classify every content; one error listing every problem found."""
    classified: list[Content] = []
    problems: list[str] = []
    for index, value in enumerate(contents):
        try:
            classified.append(classify(index, value))
        except KiliInputError as exc:
            problems.append(str(exc))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise KiliInputError(" ".join(problems[:5]) + more + " Nothing was imported.")
    return classified


@dataclass
class ImportPlan:
    """What one ``append_many_to_dataset`` call imports, per asset (by position), built
    and checked before any write."""

    ids: list[str]
    external_ids: list[str]
    contents: list[Content]
    json_contents: list[Any] | None
    """VIDEO: frames (URLs or local paths) or text; TEXT: a rich-text document; else text."""
    layers: list[list[dict[str, Any]]] | None
    honeypots: list[bool] | None
    metadata: list[str]
    """Per asset, its metadata as JSON text (empty: none given)."""
    kinds: list[str | None]
    """Per asset: its asynchronous ``uploadType``, or None for the synchronous import."""


def plan_import(project_id: str, input_type: InputType | None, arrays: ImportArrays) -> ImportPlan:
    """The plan of an import into a project of ``input_type``: raw text only in TEXT
    projects, video frames checked, the ids made where not given, each asset's path."""
    texts = [i for i, c in enumerate(arrays.contents) if c.kind == "text"]
    if texts and input_type != InputType.TEXT:
        raise KiliInputError(
            f"content_array[{texts[0]}] is neither a URL nor an existing file, and project "
            f"{project_id!r} is a {input_type.value if input_type else '?'} project (raw "
            "text is only for TEXT projects). Nothing was imported."
        )
    json_contents, metadata = arrays.json_contents, arrays.metadata
    if input_type == InputType.VIDEO:
        if json_contents is not None:
            json_contents = [
                check_frames(i, v) if isinstance(v, list) else v
                for i, v in enumerate(json_contents)
            ]
        metadata = [with_processing_parameters(m) for m in metadata or [{}] * arrays.count]
    kinds = [
        upload_type(input_type, content, metadata[i] if metadata else None, bool(arrays.layers))
        for i, content in enumerate(arrays.contents)
    ]
    return ImportPlan(
        ids=arrays.ids or ["c" + h for h in random_hex(arrays.count, 24)],  # cuid-like
        external_ids=arrays.external_ids or random_hex(arrays.count, 32),
        contents=arrays.contents,
        json_contents=json_contents,
        layers=arrays.layers,
        honeypots=arrays.honeypots,
        metadata=[json_text("json_metadata_array", m) for m in metadata or ()],
        kinds=kinds,
    )


def random_hex(count: int, digits: int) -> list[str]:
    """``count`` random hex strings of ``digits`` characters, from one read of the OS's
    random source (a uuid4 per asset costs more than the rest of a URL import)."""
    blob = os.urandom(count * digits // 2).hex()
    return [blob[i : i + digits] for i in range(0, count * digits, digits)]


@dataclass
class ChunkContent:
    """What one chunk sends once its uploads are done."""

    contents: list[str]
    json_contents: list[str] | None
    layers: list[list[dict[str, Any]]] | None


Upload = tuple[str, int, int, UploadItem]
"""A file to upload for a chunk: (what it is, the asset's slot in the chunk, its position
among the asset's frames or layers, the upload)."""


async def upload_chunk(
    core: Core,
    project_id: str,
    input_type: InputType | None,
    plan: ImportPlan,
    indexes: Sequence[int],
) -> ChunkContent:
    """Upload what the assets ``indexes`` need uploaded; their contents as sent."""
    base = [f"projects/{project_id}/assets/{plan.ids[i]}" for i in indexes]
    files = _files(input_type, plan, indexes, base)
    urls = await core.uploads.upload([item for *_, item in files])
    row = [plan.contents[i].value for i in indexes]
    frames_of: dict[int, list[Any]] = {}
    layers = [[dict(x) for x in plan.layers[i]] for i in indexes] if plan.layers else None
    for (kind, slot, j, _), url in zip(files, urls, strict=True):
        if kind == "content":
            row[slot] = url
        elif kind == "frame":
            assert plan.json_contents is not None
            frames_of.setdefault(slot, list(plan.json_contents[indexes[slot]]))[j] = url
        elif layers is not None:
            layers[slot][j].pop("path", None)
            layers[slot][j]["url"] = url
    if plan.json_contents is None:
        return ChunkContent(row, None, layers)
    texts, documents = _json_texts(input_type, plan, indexes, frames_of, base)
    document_urls = await core.uploads.upload([document for _, document in documents])
    for (slot, _), url in zip(documents, document_urls, strict=True):
        texts[slot] = url
    return ChunkContent(row, texts, layers)


def _files(
    input_type: InputType | None, plan: ImportPlan, indexes: Sequence[int], base: list[str]
) -> list[Upload]:
    """The local files of a chunk's assets: contents (and raw text), frames, layers."""
    files: list[Upload] = []
    for slot, i in enumerate(indexes):
        content = plan.contents[i]
        if content.kind in ("file", "text"):
            source = content.path or content.value.encode()
            item = UploadItem(f"{base[slot]}/content", source, content.content_type)
            files.append(("content", slot, 0, item))
        frames = plan.json_contents[i] if plan.json_contents is not None else None
        if input_type == InputType.VIDEO and isinstance(frames, list):
            for j, frame in enumerate(frames):
                if isinstance(frame, Path):
                    item = UploadItem(f"{base[slot]}/frame/{j}", frame, "image/jpeg")
                    files.append(("frame", slot, j, item))
        for j, layer in enumerate(plan.layers[i] if plan.layers is not None else ()):
            item = UploadItem(f"{base[slot]}/content/{j}", Path(layer["path"]), "image/tiff")
            files.append(("layer", slot, j, item))
    return files


def _json_texts(
    input_type: InputType | None,
    plan: ImportPlan,
    indexes: Sequence[int],
    frames_of: dict[int, list[Any]],
    base: list[str],
) -> tuple[list[str], list[tuple[int, UploadItem]]]:
    """Each asset's json content as text, and the documents to upload instead of sending
    (VIDEO frame lists and TEXT rich text, as the SDK does), by slot."""
    assert plan.json_contents is not None
    texts: list[str] = []
    documents: list[tuple[int, UploadItem]] = []
    for slot, i in enumerate(indexes):
        value = plan.json_contents[i]
        if isinstance(value, list) and input_type == InputType.VIDEO:
            frames = frames_of.get(slot, value)
            value = {str(j): str(f) for j, f in enumerate(frames)}
        if value is None or isinstance(value, str):
            texts.append(value or "")
            continue
        text = json_text(f"json_content_array[{i}]", value, objects_only=False)
        texts.append(text)
        if input_type in (InputType.VIDEO, InputType.TEXT):
            document = UploadItem(
                f"{base[slot]}/jsonContent", text.encode(), "text/plain; charset=utf-8"
            )
            documents.append((slot, document))
    return texts, documents


Outcome = tuple[int, "str | None"]
"""An asset's position and its id if this call created it (None: skipped, raced)."""


@dataclass
class Importer:
    """Sends chunks of one ``append_many_to_dataset`` call (the plan's assets, by position)."""

    core: Core
    project_id: str
    input_type: InputType | None
    plan: ImportPlan
    wait: bool

    async def send(self, indexes: Sequence[int]) -> list[Outcome]:
        """Upload what the chunk needs, then import it (a chunk takes one path)."""
        plan, where = self.plan, ProjectWhere(id=self.project_id)
        sent = await upload_chunk(self.core, self.project_id, self.input_type, plan, indexes)
        common: dict[str, Any] = {
            "external_id_array": [plan.external_ids[i] for i in indexes],
            "id_array": [plan.ids[i] for i in indexes],
            "json_content_array": sent.json_contents,
            "json_metadata_array": [plan.metadata[i] if plan.metadata else "{}" for i in indexes],
        }
        kind = plan.kinds[indexes[0]]
        if kind is None:
            honeypots = [plan.honeypots[i] for i in indexes] if plan.honeypots else None
            data = build(
                AppendManyAssetsData,
                content_array=sent.contents,
                is_honeypot_array=honeypots,
                **common,
            )
            result = await self.core.gql.append_many_assets(data=data, where=where)
            created = {asset.id for asset in result.data}
            return [(i, plan.ids[i] if plan.ids[i] in created else None) for i in indexes]
        data_async = build(
            AppendManyAssetsAsynchronouslyData,
            upload_type=kind,
            **common,
            content_array=None if sent.layers else sent.contents,
            multi_layer_content_array=sent.layers,
        )
        notification = await self.core.gql.append_many_assets_asynchronously(
            data=data_async, where=where
        )
        if not self.wait:
            return [(i, plan.ids[i]) for i in indexes]
        await wait_for_notification(self.core, notification.data.id)
        return await self._created(indexes)

    async def reconcile(self, indexes: Sequence[int]) -> list[Outcome | None]:
        """After an unknown outcome: the assets of the chunk that exist with our ids. An
        asynchronous import may still be running: looked up again for a few seconds first."""
        tries = 1 if self.plan.kinds[indexes[0]] is None else RECONCILE_TRIES
        for attempt in range(tries):
            found = await self._created(indexes)
            if all(o[1] is not None for o in found) or attempt == tries - 1:
                break
            await anyio.sleep(RECONCILE_WAIT)
        return [o if o[1] is not None else None for o in found]

    async def _created(self, indexes: Sequence[int]) -> list[Outcome]:
        ids, externals = self.plan.ids, self.plan.external_ids
        look_up = [externals[i] for i in indexes]
        found = await self.core.lookups.asset_ids_by_external_id(self.project_id, look_up)
        return [(i, ids[i] if found.get(externals[i]) == ids[i] else None) for i in indexes]
