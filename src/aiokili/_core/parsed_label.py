"""Labels parsed against their project's json interface: typed jobs, categories, objects.

``kili.labels(project_id, output_format="parsed_label")`` yields :class:`ParsedLabel`, a
:class:`~aiokili.Label` with ``jobs``:

```python
async for label in kili.labels(project_id, output_format="parsed_label"):
    label.jobs["CLASSIF"].category.name            # single-choice classification
    [c.name for c in label.jobs["TAGS"].categories]  # multiple choice
    label.jobs["TRANSCRIPTION"].text
    for obj in label.jobs["OBJECTS"].annotations:  # object detection
        obj.category.name, obj.type, obj.bounding_poly[0].normalized_vertices, obj.point
    ner = label.jobs["NER"].annotations[0]; ner.content, ner.begin_offset, ner.end_offset
    rel = label.jobs["RELATIONS"].annotations[0]; rel.start_entities, rel.end_entities  # mids
    label.jobs["CLASSIF"].category.children["CHILD_JOB"].category.name  # nested jobs
```

Every non-child job of the interface is in ``jobs`` (empty when the label does not answer
it). A label naming a job or category the interface does not have raises
:class:`LabelParsingError` naming the label, the job and what the interface accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pydantic import BaseModel

from ..errors import KiliError
from ..models import Label
from .listing import Lazy, Listing, ListingSource, ListingSpec
from .selection import Unselected

__all__ = [
    "Annotation",
    "BoundingPoly",
    "Category",
    "LabelParsingError",
    "ParsedJob",
    "ParsedJobs",
    "ParsedLabel",
    "Point",
]

_SINGLE_CHOICE = {"radio", "singleDropdown"}


class LabelParsingError(KiliError, ValueError):
    """A label does not match its project's json interface."""


@dataclass(frozen=True)
class Point:
    """A normalized point: ``x`` and ``y`` in [0, 1] of the asset's width and height."""

    x: float
    y: float


@dataclass(frozen=True)
class BoundingPoly:
    """One polygon of an object (rectangle: 4 vertices; semantic masks may have several)."""

    normalized_vertices: list[Point]


@dataclass(frozen=True)
class Category:
    """A category chosen in a classification, or the class of an object / entity / relation."""

    name: str
    """The category key in the interface (what the jsonResponse stores)."""
    display_name: str
    """The category's ``name`` in the interface (what annotators see)."""
    confidence: float | None = None
    """0-100, for predictions."""
    children: ParsedJobs = field(default_factory=lambda: ParsedJobs({}, ()))
    """Nested jobs answered under this category."""


def _only(categories: Sequence[Category], what: str) -> Category:
    if len(categories) != 1:
        raise LabelParsingError(
            f"{what} has {len(categories)} categories; .category needs exactly one: "
            "use .categories for multiple choices."
        )
    return categories[0]


@dataclass(frozen=True)
class Annotation:
    """An object, named entity or relation of a job (``None`` / empty when not applicable)."""

    mid: str | None
    """Id of the annotation in the label (relations point to it)."""
    type: str | None
    """The tool: ``rectangle``, ``polygon``, ``semantic``, ``marker`` (point), ``polyline``,
    ``vector``...; ``None`` for named entities and relations."""
    categories: list[Category]
    children: ParsedJobs
    bounding_poly: list[BoundingPoly] = field(default_factory=list)
    """rectangle, polygon and semantic objects."""
    point: Point | None = None
    """marker (point) objects."""
    polyline: list[Point] = field(default_factory=list)
    """polyline and vector (line) objects."""
    begin_offset: int | None = None
    """Named entities: position of the first character in the text."""
    end_offset: int | None = None
    content: str | None = None
    """Named entities: the text of the entity."""
    start_entities: list[str] = field(default_factory=list)
    """Relations: mids of the annotations the relation starts from (entities or objects)."""
    end_entities: list[str] = field(default_factory=list)
    """Relations: mids of the annotations the relation points to."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The annotation as in the jsonResponse."""

    @property
    def category(self) -> Category:
        """The annotation's only category."""
        return _only(self.categories, f"annotation {self.mid!r}")


@dataclass(frozen=True)
class ParsedJob:
    """One job's answer in a label."""

    name: str
    ml_task: str
    """``CLASSIFICATION``, ``TRANSCRIPTION``, ``OBJECT_DETECTION``, ``NAMED_ENTITIES_RECOGNITION``,
    ``NAMED_ENTITIES_RELATION``, ``OBJECT_RELATION``..."""
    categories: list[Category] = field(default_factory=list)
    """Classification: the categories chosen."""
    text: str | None = None
    """Transcription: the text."""
    annotations: list[Annotation] = field(default_factory=list)
    """Objects, entities or relations."""

    @property
    def category(self) -> Category:
        """Single-choice classification: the category chosen."""
        return _only(self.categories, f"job {self.name!r}")

    def annotation(self, mid: str) -> Annotation:
        """The annotation of this job with this mid."""
        for found in self.annotations:
            if found.mid == mid:
                return found
        raise KeyError(f"job {self.name!r} has no annotation with mid {mid!r}")


class ParsedJobs(Mapping[str, ParsedJob]):
    """Job name -> :class:`ParsedJob`; an unknown name raises ``KeyError`` listing the jobs."""

    def __init__(self, jobs: Mapping[str, ParsedJob], known: Sequence[str]) -> None:
        self._jobs = dict(jobs)
        self._known = tuple(known)

    def __getitem__(self, name: str) -> ParsedJob:
        try:
            return self._jobs[name]
        except KeyError:
            raise KeyError(
                f"no job {name!r} here; jobs: {', '.join(self._jobs) or '(none)'}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    def __repr__(self) -> str:
        return f"ParsedJobs({self._jobs!r})"


class ParsedLabel(Unselected, Label):
    """A :class:`~aiokili.Label` with its jsonResponse parsed into typed :attr:`jobs`.

    With ``fields=``, the fields left out are not there (reading one raises
    ``AttributeError``), as on the labels it is made from."""

    jobs: ParsedJobs


# ------------------------------------------------------------------ parsing
class _Parser:
    def __init__(self, interface: Any, label_id: str) -> None:
        jobs = interface.get("jobs") if isinstance(interface, dict) else None
        self.jobs: dict[str, Any] = jobs if isinstance(jobs, dict) else {}
        self.label_id = label_id

    def fail(self, message: str) -> LabelParsingError:
        return LabelParsingError(f"label {self.label_id!r}: {message}")

    def jobs_of(self, response: Any, names: Sequence[str], where: str) -> ParsedJobs:
        if response is None:
            response = {}
        if not isinstance(response, dict):
            raise self.fail(f"{where} must be an object of jobs, got {type(response).__name__}.")
        parsed: dict[str, ParsedJob] = {name: self.job(name, None) for name in names}
        for name, value in response.items():
            if name not in self.jobs:
                raise self.fail(
                    f"job {name!r} is not in the project's json interface "
                    f"(jobs: {', '.join(self.jobs) or '(none)'})."
                )
            parsed[name] = self.job(name, value)
        return ParsedJobs(parsed, names)

    def job(self, name: str, value: Any) -> ParsedJob:
        spec = self.jobs[name] if isinstance(self.jobs.get(name), dict) else {}
        task = str(spec.get("mlTask") or "")
        if value is None:
            return ParsedJob(name, task)
        if not isinstance(value, dict):
            raise self.fail(f"job {name!r} must be an object, got {type(value).__name__}.")
        categories = self.categories(name, spec, value.get("categories"))
        content = _dict(spec.get("content"))
        if (
            content.get("input") in _SINGLE_CHOICE
            and len(categories) > 1
            and not value.get("annotations")
        ):
            raise self.fail(
                f"job {name!r} is single-choice ({content.get('input')}) but the label "
                f"chooses {len(categories)} categories."
            )
        text = value.get("text")
        annotations = [
            self.annotation(name, spec, raw, i)
            for i, raw in enumerate(value.get("annotations") or [])
        ]
        return ParsedJob(
            name, task, categories, text if isinstance(text, str) else None, annotations
        )

    def categories(self, job: str, spec: Mapping[str, Any], raw: Any) -> list[Category]:
        if not raw:
            return []
        if not isinstance(raw, list):
            raise self.fail(f"job {job!r}: categories must be a list.")
        content = _dict(spec.get("content"))
        known = _dict(content.get("categories"))
        out: list[Category] = []
        for item in raw:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                raise self.fail(f"job {job!r}: each category needs a name, got {item!r}.")
            if name not in known:
                raise self.fail(
                    f"job {job!r} has no category {name!r} "
                    f"(categories: {', '.join(known) or '(none)'})."
                )
            declared = known[name] if isinstance(known[name], dict) else {}
            child_names = [c for c in declared.get("children") or [] if c in self.jobs]
            children = self.jobs_of(item.get("children"), child_names, f"{job}.{name}.children")
            confidence = item.get("confidence")
            out.append(
                Category(
                    name,
                    str(declared.get("name") or name),
                    float(confidence) if isinstance(confidence, (int, float)) else None,
                    children,
                )
            )
        return out

    def annotation(self, job: str, spec: Mapping[str, Any], raw: Any, index: int) -> Annotation:
        if not isinstance(raw, dict):
            raise self.fail(f"job {job!r}: annotations[{index}] must be an object.")
        kind = raw.get("type")
        tools = spec.get("tools")
        if isinstance(kind, str) and isinstance(tools, list) and tools and kind not in tools:
            raise self.fail(
                f"job {job!r}: annotations[{index}] is a {kind!r}; the job's tools are "
                f"{', '.join(map(str, tools))}."
            )
        categories = self.categories(job, spec, raw.get("categories"))
        names = [c for category in categories for c in _declared_children(spec, category.name)]
        children = self.jobs_of(
            raw.get("children"),
            [n for n in names if n in self.jobs],
            f"{job}.annotations[{index}].children",
        )
        polys = [
            BoundingPoly(_points(p.get("normalizedVertices")))
            for p in raw.get("boundingPoly") or []
            if isinstance(p, dict)
        ]
        point = _point(raw.get("point"))
        begin, end = raw.get("beginOffset"), raw.get("endOffset")
        if end is None and isinstance(begin, int) and isinstance(raw.get("content"), str):
            end = begin + len(raw["content"])
        start = _mids(raw.get("startEntities")) or _mids(raw.get("startObjects"))
        stop = _mids(raw.get("endEntities")) or _mids(raw.get("endObjects"))
        content = raw.get("content")
        return Annotation(
            mid=str(raw["mid"]) if raw.get("mid") is not None else None,
            type=kind if isinstance(kind, str) else None,
            categories=categories,
            children=children,
            bounding_poly=polys,
            point=point,
            polyline=_points(raw.get("polyline")),
            begin_offset=begin if isinstance(begin, int) else None,
            end_offset=end if isinstance(end, int) else None,
            content=content if isinstance(content, str) else None,
            start_entities=start,
            end_entities=stop,
            raw=raw,
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _declared_children(spec: Mapping[str, Any], category: str) -> list[str]:
    content = _dict(spec.get("content"))
    declared = (content.get("categories") or {}).get(category)
    return list(declared.get("children") or []) if isinstance(declared, dict) else []


def _point(raw: Any) -> Point | None:
    if isinstance(raw, dict) and isinstance(raw.get("x"), (int, float)):
        return Point(float(raw["x"]), float(raw.get("y") or 0.0))
    return None


def _points(raw: Any) -> list[Point]:
    return [p for p in map(_point, raw or []) if p is not None] if isinstance(raw, list) else []


def _mids(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    return [str(r["mid"]) for r in raw if isinstance(r, dict) and r.get("mid") is not None]


def top_level_jobs(interface: Any) -> list[str]:
    """Names of the jobs of an interface that are not children of another job."""
    jobs = interface.get("jobs") if isinstance(interface, dict) else None
    if not isinstance(jobs, dict):
        return []
    return [
        name for name, spec in jobs.items() if not (isinstance(spec, dict) and spec.get("isChild"))
    ]


def parse_label(label: BaseModel, interface: Any) -> ParsedLabel:
    """``label`` (a Label, or a fields= selection of one) with its jobs parsed."""
    values: dict[str, Any] = {name: value for name, value in label if name in Label.model_fields}
    parser = _Parser(interface, str(values.get("id")))
    jobs = parser.jobs_of(values.get("json_response"), top_level_jobs(interface), "jsonResponse")
    return ParsedLabel.model_construct(  # the fields not fetched stay absent
        _fields_set=set(label.model_fields_set) | {"jobs"}, **values, jobs=jobs
    )


# ------------------------------------------------------------------ listing
class ParsedLabelListing(Listing[ParsedLabel]):
    """The labels of an inner listing, parsed against the interface fetched once."""

    def __init__(
        self,
        core: ListingSource,
        labels: Listing[Label],
        interface: Callable[[], Awaitable[Any]],
    ) -> None:
        spec = cast(ListingSpec[ParsedLabel], replace(labels._spec, model=ParsedLabel))
        super().__init__(core, spec, labels._where, first=labels._first, skip=labels._skip)
        self._labels = labels
        self._interface = Lazy(interface)

    async def _fetch(self, skip: int, first: int) -> Sequence[ParsedLabel]:
        interface = await self._interface.get()
        page = await self._labels._fetch(skip, first)
        return [parse_label(label, interface) for label in page]
