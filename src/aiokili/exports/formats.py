"""Per-format writers of an export: which jobs a format takes, and how a page of assets
becomes archive members. The per-label conversions are ``kili-formats``' (the platform's
own library); this module owns the layout, names and streaming around them.

A writer gets pages of assets as plain dicts (the official SDK's shape), in order, from a
worker thread, then :meth:`Writer.finish` once. It never holds more than one page.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args

from .._core.names import MemberNames
from ..errors import KiliInputError

ExportFormat = Literal[
    "raw",
    "kili",
    "yolo_v4",
    "yolo_v5",
    "yolo_v7",
    "yolo_v8",
    "coco",
    "pascal_voc",
    "geojson",
    "llm_v1",
    "llm_dynamic_v1",
]
"""The formats of :meth:`~aiokili.AsyncKili.export_labels`."""
Layout = Literal["split", "merged"]
ExportType = Literal["latest", "latest_from_last_step", "latest_from_all_steps", "normal"]
"""Which labels of each asset are exported: ``latest`` (its latest DEFAULT or REVIEW label)
or ``normal`` (every label; the kili / raw format); the two step-based types of 26.2.4 are
not supported."""
CocoAnnotationModifier = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]]
"""``(coco_annotation, coco_image, kili_annotation) -> coco_annotation``."""

FORMATS: tuple[str, ...] = get_args(ExportFormat)
IMAGE_EXTENSIONS = {".jpeg", ".jpg", ".png", ".bmp", ".gif", ".webp", ".ico"}


class ExportFormatError(KiliInputError, NotImplementedError):
    """The format cannot export this project (its input type or its jobs). Raised before
    anything is written; the message names the format and the jobs."""


def kili_formats() -> Any:
    """The ``kili_formats`` package, or a clear error naming the extra to install."""
    try:
        import kili_formats
        import kili_formats.media.image
        import kili_formats.types
    except ImportError:  # pragma: no cover - the dev extra installs it
        raise ImportError("Exports need kili-formats: pip install 'aiokili[exports]'") from None
    return kili_formats


@dataclass
class Options:
    """What the export was asked for, checked."""

    fmt: str
    layout: str
    single_file: bool
    with_assets: bool
    normalized_coordinates: bool | None
    annotation_modifier: CocoAnnotationModifier | None
    endpoint: str


@dataclass
class Context:
    """The project and options a writer works with."""

    project: dict[str, Any]
    options: Options
    export_type: str  # "latest" or "normal" (every label: llm_v1)
    names: MemberNames = field(default_factory=MemberNames)  # members named by external id

    @property
    def jobs(self) -> dict[str, Any]:
        interface = self.project.get("jsonInterface") or {}
        return dict(interface.get("jobs") or {})

    @property
    def input_type(self) -> str:
        return str(self.project.get("inputType"))


# --- which jobs each format takes -------------------------------------------------------


def _tools(job: dict[str, Any]) -> set[str]:
    return set(job.get("tools") or [])


def _detection(job: dict[str, Any]) -> bool:
    return job.get("mlTask") == "OBJECT_DETECTION" and "tools" in job


def job_compatible(fmt: str, job: dict[str, Any]) -> bool:
    if fmt in ("raw", "kili", "llm_v1", "llm_dynamic_v1"):
        return True
    if fmt == "coco":
        return _detection(job) and bool(_tools(job) & {"semantic", "rectangle"})
    if fmt.startswith("yolo"):
        return _detection(job) and _tools(job) <= {"rectangle", "polygon", "semantic"}
    if fmt == "pascal_voc":
        return _detection(job) and "rectangle" in _tools(job)
    if fmt == "geojson":
        return _detection(job) and _tools(job) <= {
            "rectangle",
            "polygon",
            "semantic",
            "marker",
            "polyline",
        }
    return False


_INPUT_TYPES: dict[str, tuple[str, ...]] = {
    "coco": ("IMAGE", "VIDEO"),
    "pascal_voc": ("IMAGE", "VIDEO"),
    "geojson": ("IMAGE", "GEOSPATIAL"),
    "llm_v1": ("LLM_RLHF",),
    "llm_dynamic_v1": ("LLM_INSTR_FOLLOWING",),
}
_NEEDS = {
    "coco": "an OBJECT_DETECTION job with the rectangle or semantic tool",
    "pascal_voc": "an OBJECT_DETECTION job with the rectangle tool",
    "geojson": "an OBJECT_DETECTION job using only rectangle, polygon, semantic, marker or "
    "polyline tools",
    "yolo": "an OBJECT_DETECTION job using only rectangle, polygon or semantic tools",
}


def check_options(
    fmt: Any,
    layout: Any,
    single_file: Any,
    normalized_coordinates: Any,
    filename: Any,
    export_type: Any = "latest",
) -> None:
    """Option mistakes, before any request (KiliInputError naming the argument)."""
    if fmt not in FORMATS:
        raise KiliInputError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}.")
    if export_type not in get_args(ExportType):
        raise KiliInputError(
            f"export_type must be one of {', '.join(get_args(ExportType))}; got {export_type!r}."
        )
    if export_type in ("latest_from_last_step", "latest_from_all_steps"):
        raise KiliInputError(
            f"export_type={export_type!r} is not supported by aiokili yet: use 'latest' (each "
            "asset's latest label) or 'normal' (every label)."
        )
    if export_type == "normal" and fmt not in ("raw", "kili", "llm_v1"):
        raise KiliInputError(
            f"export_type='normal' exports every label of each asset, which only the kili "
            f"(raw) format holds; the {fmt} format takes each asset's latest label: use "
            "export_type='latest'."
        )
    if layout not in ("split", "merged"):
        raise KiliInputError(f"layout must be 'split' or 'merged'; got {layout!r}.")
    for name, value in (("single_file", single_file),):
        if not isinstance(value, bool):
            raise KiliInputError(f"{name} must be True or False; got {value!r}.")
    if normalized_coordinates is not None and not isinstance(normalized_coordinates, bool):
        raise KiliInputError(
            f"normalized_coordinates must be True, False or None; got {normalized_coordinates!r}."
        )
    if filename is None and fmt != "llm_v1":
        raise KiliInputError(
            f"filename is required for the {fmt} format (only llm_v1 returns the export)."
        )
    family = "yolo" if fmt.startswith("yolo") else fmt
    if single_file and family in ("yolo", "pascal_voc", "geojson"):
        raise KiliInputError(
            f"single_file=True is not available for {fmt}: only the kili/raw and coco formats "
            "write a single file. Leave single_file=False."
        )
    if family in ("pascal_voc", "geojson") and layout != "merged":
        raise KiliInputError(f"layout='merged' is the only layout of the {fmt} format.")
    if normalized_coordinates is False and family == "yolo":
        raise KiliInputError("normalized_coordinates=False: YOLO has no pixel coordinates.")
    if normalized_coordinates is True and family in ("coco", "pascal_voc"):
        raise KiliInputError(
            f"normalized_coordinates=True: the {fmt} format has no normalized coordinates."
        )
    if normalized_coordinates is not None and family == "geojson":
        raise KiliInputError("normalized_coordinates must be None for the geojson format.")


def check_project(fmt: str, project: dict[str, Any]) -> None:
    """The format can export this project: its input type, at least one job it takes."""
    input_type = str(project.get("inputType"))
    family = "yolo" if fmt.startswith("yolo") else fmt
    allowed = _INPUT_TYPES.get(family, ("IMAGE", "VIDEO") if family == "yolo" else None)
    if allowed is not None and input_type not in allowed:
        raise ExportFormatError(
            f"The {fmt} format cannot export a {input_type} project (it takes "
            f"{' or '.join(allowed)} projects); use fmt='kili' instead."
        )
    if fmt == "llm_dynamic_v1":
        raise ExportFormatError(
            "The llm_dynamic_v1 format is not implemented by aiokili yet; use fmt='kili'."
        )
    jobs = dict((project.get("jsonInterface") or {}).get("jobs") or {})
    if family in _NEEDS and not any(job_compatible(fmt, job) for job in jobs.values()):
        found = ", ".join(
            f"{name} ({job.get('mlTask')}: {', '.join(job.get('tools') or []) or 'no tools'})"
            for name, job in jobs.items()
        )
        raise ExportFormatError(
            f"The {fmt} format needs {_NEEDS[family]}; the project's jobs are: {found or 'none'}."
        )


def media_dir(fmt: str) -> str:
    """The archive folder of the downloaded media."""
    if fmt in ("raw", "kili"):
        return "assets"
    return "data" if fmt == "coco" else "images"


def readme(project: dict[str, Any], fmt: str, export_type: str) -> str:
    return (
        "Exported Labels from KILI\n=========================\n\n"
        f"- Project name: {project.get('title')}\n"
        f"- Project identifier: {project.get('id')}\n"
        f"- Project description: {project.get('description') or ''}\n"
        f"- Export date: {datetime.now().strftime(r'%Y%m%d-%H%M%S')}\n"
        f"- Exported format: {fmt}\n"
        f"- Exported labels: {export_type}\n"
    )


def labels_of(asset: dict[str, Any]) -> list[dict[str, Any]]:
    label = asset.get("latestLabel")
    return [label] if label else []


# --- writers ----------------------------------------------------------------------------


class Writer:
    """Base: write each page's members; ``finish`` writes what needs the whole export."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        self.ctx = ctx
        self.archive = archive
        self.kf = kili_formats()

    def add(self, assets: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        return None

    def media_name(self, asset: dict[str, Any]) -> str | None:
        """The archive name of the asset's downloaded media, if it was downloaded."""
        local = asset.get("_local")
        return f"{media_dir(self.ctx.options.fmt)}/{Path(local).name}" if local else None


class KiliWriter(Writer):
    """``labels/<externalId>.json`` per asset, or ``data.json`` with ``single_file``."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        super().__init__(ctx, archive)
        self.data = archive.spool("data.json") if ctx.options.single_file else None
        self.count = 0

    def _clean(self, asset: dict[str, Any]) -> dict[str, Any]:
        asset = {k: v for k, v in asset.items() if not k.startswith("_")}
        input_type = self.ctx.input_type
        if input_type in ("IMAGE", "PDF", "VIDEO"):
            self.kf.convert_to_pixel_coords(
                asset,
                self.ctx.project,
                normalized_coordinates=self.ctx.options.normalized_coordinates,
            )
        self.kf.clean_json_response(asset)
        return asset

    def add(self, assets: list[dict[str, Any]]) -> None:
        for raw in assets:
            name = self.media_name(raw)
            asset = self._clean(raw)
            if name is not None:
                asset["content"] = str(PurePosixPath(name))
            text = json.dumps(asset, sort_keys=True, indent=4)
            if self.data is not None:
                indented = "\n".join("    " + line for line in text.splitlines())
                self.data.write(("[\n" if self.count == 0 else ",\n") + indented)
            else:
                name = self.ctx.names.name(asset["externalId"])
                self.archive.write(f"labels/{name}.json", text)
            self.count += 1

    def finish(self) -> None:
        if self.data is not None:
            self.data.write("\n]" if self.count else "[]")


class CocoWriter(Writer):
    """``<job>/labels.json`` per compatible job (split) or one ``labels.json`` (merged),
    streamed: images and annotations spooled separately, joined at the end."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        super().__init__(ctx, archive)
        jobs = {n: j for n, j in ctx.jobs.items() if job_compatible("coco", j)}
        if ctx.options.layout == "merged":
            self.groups = [("labels.json", jobs, True)]
        else:
            self.groups = [(f"{n}/labels.json", {n: j}, False) for n, j in jobs.items()]
        self.state = [
            {
                "images": archive.spool(name + ".images"),
                "annotations": archive.spool(name + ".annotations"),
                "n_images": 0,
                "n_annotations": 0,
                "offset": 0,
                "head": None,
            }
            for name, _, _ in self.groups
        ]

    def add(self, assets: list[dict[str, Any]]) -> None:
        for asset in assets:
            local = asset.get("_local")
            if local:
                asset["content"] = local
        page = [a for a in assets if a.get("latestLabel")]
        for (_, jobs, merged), state in zip(self.groups, self.state, strict=False):
            image_offset, ann_offset = state["n_images"], state["offset"]
            modifier = self._modifier(image_offset, ann_offset)
            result = self.kf.convert_from_kili_to_coco_format(
                jobs=jobs,
                assets=page,
                title=self.ctx.project.get("title"),
                project_input_type=self.ctx.input_type,
                annotation_modifier=modifier,
                merged=merged,
            )
            if state["head"] is None:
                state["head"] = {k: result[k] for k in ("info", "licenses", "categories")}
            for image in result["images"]:
                image["id"] += image_offset
                state["images"].write(("," if state["n_images"] else "") + json.dumps(image))
                state["n_images"] += 1
            for annotation in result["annotations"]:
                annotation["id"] += ann_offset
                annotation["image_id"] += image_offset
                state["annotations"].write(
                    ("," if state["n_annotations"] else "") + json.dumps(annotation)
                )
                state["n_annotations"] += 1
            # kili-formats numbers annotations by position, skipped ones included
            state["offset"] += sum(
                len((a["latestLabel"]["jsonResponse"].get(job) or {}).get("annotations") or [])
                for a in page
                for job in jobs
            )

    def _modifier(self, image_offset: int, ann_offset: int) -> CocoAnnotationModifier | None:
        user = self.ctx.options.annotation_modifier
        if user is None:
            return None

        def modify(
            annotation: dict[str, Any], image: dict[str, Any], kili: dict[str, Any]
        ) -> dict[str, Any]:
            shown_image = {**image, "id": image["id"] + image_offset}
            shown = {
                **annotation,
                "id": annotation["id"] + ann_offset,
                "image_id": annotation["image_id"] + image_offset,
            }
            result = dict(user(shown, shown_image, kili))
            result["id"] = result.get("id", shown["id"]) - ann_offset
            result["image_id"] = result.get("image_id", shown["image_id"]) - image_offset
            return result

        return modify

    def finish(self) -> None:
        for (name, jobs, merged), state in zip(self.groups, self.state, strict=False):
            head = state["head"]
            if head is None:
                empty = self.kf.convert_from_kili_to_coco_format(
                    jobs=jobs,
                    assets=[],
                    title=self.ctx.project.get("title"),
                    project_input_type=self.ctx.input_type,
                    annotation_modifier=None,
                    merged=merged,
                )
                head = {k: empty[k] for k in ("info", "licenses", "categories")}
            out = self.archive.spool(name)
            out.write(json.dumps(head)[:-1] + ', "images": [')
            out.append_file(state["images"].close())
            out.write('], "annotations": [')
            out.append_file(state["annotations"].close())
            out.write("]}")
            self.archive.forget(state["images"], state["annotations"])


def _remove_image_extension(filename: str) -> str:
    path = PurePosixPath(filename)
    return str(path.with_suffix("")) if path.suffix in IMAGE_EXTENSIONS else filename


class YoloWriter(Writer):
    """``labels/<externalId>.txt`` and the class file, per job (split) or once (merged)."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        super().__init__(ctx, archive)
        fmt = ctx.options.fmt
        JobCategory = self.kf.types.JobCategory
        merged = ctx.options.layout == "merged"
        groups: list[tuple[str, dict[str, Any]]] = []
        number = 0
        merged_cats: dict[str, Any] = {}
        for job_id, job in ctx.jobs.items():
            if not job_compatible(fmt, job):
                continue
            cats: dict[str, Any] = {}
            for i, category in enumerate(job.get("content", {}).get("categories", {})):
                cats[f"{job_id}__{category}"] = JobCategory(category, i, job_id)
                merged_cats[f"{job_id}__{category}"] = JobCategory(category, number, job_id)
                number += 1
            groups.append((f"{job_id}/", cats))
        self.groups = [("", merged_cats)] if merged else groups
        self.remote: list[list[str]] = []
        for folder, cats in self.groups:
            self.archive.write(*self._class_file(folder, cats))

    def _class_file(self, folder: str, cats: dict[str, Any]) -> tuple[str, str]:
        fmt, merged = self.ctx.options.fmt, self.ctx.options.layout == "merged"

        def name(c: Any) -> str:
            return (f"{c.job_id}/" if merged else "") + str(c.category_name)

        if fmt == "yolo_v4":
            return folder + "classes.txt", "".join(f"{c.id} {name(c)}\n" for c in cats.values())
        if fmt == "yolo_v5":
            lines = "".join(f"  {i}: {name(c)}\n" for i, c in enumerate(cats.values()))
            return folder + "data.yaml", "names:\n" + lines
        names = ", ".join(f"'{name(c)}'" for c in cats.values())
        return folder + "data.yaml", f"nc: {len(cats)}\nnames: [{names}]\n"

    def add(self, assets: list[dict[str, Any]]) -> None:
        endpoint = self.ctx.options.endpoint
        for asset in assets:
            label = asset.get("latestLabel")
            if not label:
                continue
            external_id = asset["externalId"]
            for number, (folder, cats) in enumerate(self.groups):
                job_ids = dict.fromkeys(c.job_id for c in cats.values())
                rows: list[tuple[Any, ...]] = []
                for job_id in job_ids:
                    rows += self.kf.convert_from_kili_to_yolo_format(job_id, label, cats)
                text = "".join(
                    f"{idx} {' '.join(str(p) for p in points)}\n" for idx, *points in rows
                )
                base = _remove_image_extension(external_id)
                txt = f"{self.ctx.names.name(external_id, base)}.txt"
                self.archive.write(f"{folder}labels/{txt}", text)
                content = str(asset.get("content") or "")
                remote = not self.ctx.options.with_assets and not content.startswith(endpoint)
                if remote and number == 0:
                    self.remote.append([external_id, content, txt])

    def finish(self) -> None:
        if self.remote:
            buffer = io.StringIO(newline="")
            writer = csv.writer(buffer)
            writer.writerow(["external id", "url", "label file"])
            writer.writerows(self.remote)
            self.archive.write("images/remote_assets.csv", buffer.getvalue())


class VocWriter(Writer):
    """``labels/<externalId>.xml`` per asset."""

    def add(self, assets: list[dict[str, Any]]) -> None:
        valid = [n for n, j in self.ctx.jobs.items() if job_compatible("pascal_voc", j)]
        for asset in assets:
            label = asset.get("latestLabel")
            if not label:
                continue
            local = asset.get("_local")
            if local:
                asset["content"] = local
            width, height = self.kf.media.image.get_image_dimensions(asset)
            filename = Path(local).name if local else asset["externalId"]
            xml = self.kf.convert_from_kili_to_voc_format(
                label["jsonResponse"], width, height, {"filename": filename}, valid
            )
            name = self.ctx.names.name(asset["externalId"])
            self.archive.write(f"labels/{name}.xml", f"{xml}\n")


class GeoJsonWriter(Writer):
    """``labels/<externalId>.geojson`` per asset, export metadata under ``properties.kili``."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        super().__init__(ctx, archive)
        self.date = (
            datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )

    def add(self, assets: list[dict[str, Any]]) -> None:
        for asset in assets:
            label = asset.get("latestLabel")
            if not label or (self.ctx.input_type == "IMAGE" and not _geotiff(asset)):
                continue  # an IMAGE project: only its geotiff assets have coordinates
            collection = self.kf.convert_from_kili_to_geojson_format(
                copy.deepcopy(label["jsonResponse"]), self.ctx.project.get("jsonInterface"), True
            )
            collection.setdefault("properties", {})["kili"] = {
                "assetId": asset.get("id"),
                "author": (label.get("author") or {}).get("email"),
                "exportDate": self.date,
            }
            name = self.ctx.names.name(asset["externalId"])
            self.archive.write(f"labels/{name}.geojson", json.dumps(collection))


def _geotiff(asset: dict[str, Any]) -> bool:
    """The asset is a geotiff with latitude/longitude coordinates (its jsonContent says so)."""
    content = asset.get("jsonContent")
    if isinstance(content, str) and content.startswith(("[", "{")):
        try:
            content = json.loads(content)
        except ValueError:
            return False
    return (
        isinstance(content, list)
        and bool(content)
        and isinstance(content[0], dict)
        and content[0].get("useClassicCoordinates") is False
        and "epsg" in content[0]
        and content[0]["epsg"] != "TiledImage"
    )


class LlmWriter(Writer):
    """llm_v1: one JSON list of conversations (the file itself, not a zip)."""

    def __init__(self, ctx: Context, archive: Any) -> None:
        super().__init__(ctx, archive)
        self.items: list[dict[str, Any]] = []

    def convert(self, assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import logging

        for asset in assets:
            if asset.get("_local"):
                asset["content"] = asset["_local"]
            if not isinstance(asset.get("jsonMetadata"), dict):
                asset["jsonMetadata"] = {}
        clean = [{k: v for k, v in a.items() if not k.startswith("_")} for a in assets]
        return list(
            self.kf.convert_from_kili_to_llm_rlhf_format(
                clean, self.ctx.project.get("jsonInterface") or {}, logging.getLogger("aiokili")
            )
        )

    def add(self, assets: list[dict[str, Any]]) -> None:
        self.items.extend(self.convert(assets))


WRITERS: dict[str, type[Writer]] = {
    "raw": KiliWriter,
    "kili": KiliWriter,
    "coco": CocoWriter,
    "yolo_v4": YoloWriter,
    "yolo_v5": YoloWriter,
    "yolo_v7": YoloWriter,
    "yolo_v8": YoloWriter,
    "pascal_voc": VocWriter,
    "geojson": GeoJsonWriter,
    "llm_v1": LlmWriter,
}


def writer_for(ctx: Context, archive: Any) -> Writer:
    return WRITERS[ctx.options.fmt](ctx, archive)


def sequence_of_str(name: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise KiliInputError(f"{name} must be a list of strings; got {value!r}.")
    if not all(isinstance(v, str) and v for v in value):
        raise KiliInputError(f"{name} must be a list of non-empty strings; got {value!r}.")
    return list(value)
