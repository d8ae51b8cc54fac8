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
it). A VIDEO label answered frame by frame has its frames in ``frames`` (``frames[i]``: the
jobs of frame ``i``) and its asset-level jobs in ``jobs``. A label that does not match the
interface (the check of ``label_validation.py``, the one append_labels makes) raises
:class:`LabelParsingError` naming the label, the job and what the interface accepts; or,
with ``on_unparsable="skip"``, is left out and listed in the listing's ``skipped``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from ..errors import KiliError
from ..models import Label
from .interface import Interface, Job
from .label_validation import ASSET_LEVEL, IGNORED_KEYS, is_video_response, label_problem
from .listing import Lazy, Listing, ListingSource, ListingSpec
from .lookups import ProjectInterface
from .selection import Unselected

__all__ = [
    "Annotation",
    "BoundingPoly",
    "Category",
    "LabelParsingError",
    "OnUnparsable",
    "ParsedJob",
    "ParsedJobs",
    "ParsedLabel",
    "ParsedLabelListing",
    "Point",
    "SkippedLabel",
]

OnUnparsable = Literal["raise", "skip"]
"""What a ``parsed_label`` listing does with a label that does not match the interface."""


class LabelParsingError(KiliError, ValueError):
    """A label does not match its project's json interface.

    Attributes (None / empty when not about one label's answer):
        label_id: the label. job: the job at fault. name: the unknown job, category or
        tool. accepted: what the interface accepts there. path: where in the json
        response (``BOX.annotations[0].type``).
    """

    def __init__(
        self,
        message: str,
        *,
        label_id: str | None = None,
        job: str | None = None,
        name: str | None = None,
        accepted: Sequence[str] = (),
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.label_id = label_id
        self.job = job
        self.name = name
        self.accepted = tuple(accepted)
        self.path = path


@dataclass(frozen=True)
class SkippedLabel:
    """A label a ``parsed_label`` listing left out (``on_unparsable="skip"``)."""

    id: str
    """The label's id."""
    error: LabelParsingError
    """Why it does not parse."""


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
    frames: list[ParsedJobs] = Field(default_factory=list)
    """VIDEO labels answered frame by frame: the jobs of each frame (``frames[i]``: frame
    ``i``; empty for other labels)."""


# ------------------------------------------------------------------ parsing
def as_project_interface(interface: Any) -> ProjectInterface:
    """A :class:`ProjectInterface` from one, an :class:`Interface` or a dict (no input type)."""
    if isinstance(interface, ProjectInterface):
        return interface
    if not isinstance(interface, Interface):
        interface = Interface.read(interface if isinstance(interface, (dict, str)) else {})
    return ProjectInterface("", interface, None)


class _Parser:
    """Builds the parsed jobs of a response already checked by ``label_problem``."""

    def __init__(self, interface: Interface) -> None:
        self.jobs = interface.jobs

    def jobs_of(self, response: Any, names: Sequence[str]) -> ParsedJobs:
        parsed: dict[str, ParsedJob] = {name: self.job(name, None) for name in names}
        for name, value in (response or {}).items():
            if name not in IGNORED_KEYS:
                parsed[name] = self.job(name, value)
        return ParsedJobs(parsed, names)

    def job(self, name: str, value: Any) -> ParsedJob:
        spec = self.jobs[name]
        if value is None:
            return ParsedJob(name, spec.ml_task)
        text = value.get("text")
        return ParsedJob(
            name,
            spec.ml_task,
            self.categories(spec, value.get("categories")),
            text if isinstance(text, str) else None,
            [self.annotation(spec, raw) for raw in value.get("annotations") or []],
        )

    def categories(self, spec: Job, raw: Any) -> list[Category]:
        out: list[Category] = []
        for item in raw or []:
            name = item["name"]
            declared = spec.content.categories[name]
            children = self.jobs_of(item.get("children"), declared.children)
            confidence = item.get("confidence")
            out.append(
                Category(
                    name,
                    declared.name or name,
                    float(confidence) if isinstance(confidence, (int, float)) else None,
                    children,
                )
            )
        return out

    def annotation(self, spec: Job, raw: dict[str, Any]) -> Annotation:
        kind = raw.get("type")
        categories = self.categories(spec, raw.get("categories"))
        known = spec.content.categories
        names = [c for category in categories for c in known[category.name].children]
        polys = [
            BoundingPoly(_points(p.get("normalizedVertices")))
            for p in raw.get("boundingPoly") or []
            if isinstance(p, dict)
        ]
        begin, end = raw.get("beginOffset"), raw.get("endOffset")
        if end is None and isinstance(begin, int) and isinstance(raw.get("content"), str):
            end = begin + len(raw["content"])
        content = raw.get("content")
        return Annotation(
            mid=str(raw["mid"]) if raw.get("mid") is not None else None,
            type=kind if isinstance(kind, str) else None,
            categories=categories,
            children=self.jobs_of(raw.get("children"), names),
            bounding_poly=polys,
            point=_point(raw.get("point")),
            polyline=_points(raw.get("polyline")),
            begin_offset=begin if isinstance(begin, int) else None,
            end_offset=end if isinstance(end, int) else None,
            content=content if isinstance(content, str) else None,
            start_entities=_mids(raw.get("startEntities")) or _mids(raw.get("startObjects")),
            end_entities=_mids(raw.get("endEntities")) or _mids(raw.get("endObjects")),
            raw=raw,
        )


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
    return as_project_interface(interface).interface.top_level_jobs


def parse_label(label: BaseModel, interface: Any) -> ParsedLabel:
    """``label`` (a Label, or a fields= selection of one) with its jobs parsed against
    ``interface`` (a :class:`ProjectInterface`, an :class:`Interface` or a dict);
    :class:`LabelParsingError` if it does not match."""
    project = as_project_interface(interface)
    values: dict[str, Any] = {name: value for name, value in label if name in Label.model_fields}
    label_id = str(values.get("id"))
    response = values.get("json_response")
    response = {} if response is None else response
    problem = label_problem(project.interface, response, project.input_type)
    if problem is not None:
        raise LabelParsingError(
            f"label {label_id!r}: {problem.message}",
            label_id=label_id,
            job=problem.job,
            name=problem.name,
            accepted=problem.accepted,
            path=problem.path,
        )
    parser, names = _Parser(project.interface), project.interface.top_level_jobs
    frames: list[ParsedJobs] = Field(default_factory=list)
    if is_video_response(response, project.input_type):
        numbers = [int(k) for k in response if k.isdigit()]
        frames = [parser.jobs_of(response.get(str(i)), names) for i in range(max(numbers) + 1)]
        response = response.get(ASSET_LEVEL)
    jobs = parser.jobs_of(response, names)
    return ParsedLabel.model_construct(  # the fields not fetched stay absent
        _fields_set=set(label.model_fields_set) | {"jobs", "frames"},
        **values,
        jobs=jobs,
        frames=frames,
    )


# ------------------------------------------------------------------ listing
class ParsedLabelListing(Listing[ParsedLabel]):
    """The labels of an inner listing, parsed against the interface fetched once.

    With ``on_unparsable="skip"``, a label that does not parse is left out (so a page may
    hold fewer labels, and :meth:`count` counts it) and listed in :attr:`skipped`.
    """

    def __init__(
        self,
        core: ListingSource,
        labels: Listing[Label],
        interface: Callable[[], Awaitable[ProjectInterface]],
        on_unparsable: OnUnparsable = "raise",
    ) -> None:
        spec = cast(ListingSpec[ParsedLabel], replace(labels._spec, model=ParsedLabel))
        super().__init__(core, spec, labels._where, first=labels._first, skip=labels._skip)
        self._labels = labels
        self._interface: Lazy[ProjectInterface] = Lazy(interface)
        self._on_unparsable = on_unparsable
        self._skipped: dict[int, list[SkippedLabel]] = {}

    @property
    def skipped(self) -> list[SkippedLabel]:
        """The labels left out so far (``on_unparsable="skip"``), in listing order."""
        return [label for _, page in sorted(self._skipped.items()) for label in page]

    async def _fetch(self, skip: int, first: int) -> Sequence[ParsedLabel]:
        interface = await self._interface.get()
        page = await self._labels._fetch(skip, first)
        if self._on_unparsable == "raise":
            return [parse_label(label, interface) for label in page]
        parsed: list[ParsedLabel] = []
        skipped: list[SkippedLabel] = []
        for label in page:
            try:
                parsed.append(parse_label(label, interface))
            except LabelParsingError as error:
                skipped.append(SkippedLabel(error.label_id or "", error))
        self._skipped[skip] = skipped
        return parsed
