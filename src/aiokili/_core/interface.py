"""A project's json interface as typed models: its jobs, each with its ML task, input, tools
and categories (with their child jobs).

```python
from aiokili import Interface, Job, JobCategory, JobContent

interface = Interface(jobs={
    "CLASS": Job(ml_task="CLASSIFICATION", required=1, content=JobContent(
        input="radio", categories={"CAT": JobCategory(name="Cat", children=["COLOR"]),
                                   "DOG": JobCategory(name="Dog")})),
    "COLOR": Job(ml_task="TRANSCRIPTION", is_child=True, content=JobContent(input="textField")),
    "BOX": Job(ml_task="OBJECT_DETECTION", tools=["rectangle"], content=JobContent(
        input="radio", categories={"CAR": JobCategory(name="Car")})),
})
project = await kili.create_project(title="pets", input_type="IMAGE", json_interface=interface)
(await kili.get_interface(project.id)).jobs["CLASS"].content.categories["CAT"].children
```

The wire names (``mlTask``, ``isChild``, ``startEntities``...) are accepted too, and keys
the models do not declare (``shortcut``, ``jsonMetadata``, ``models``...) are kept as given.
:meth:`Interface.from_json` turns a dict (or its JSON text) into an :class:`Interface` and
refuses what the platform would refuse, with :class:`~aiokili.errors.InvalidInterfaceError`
listing every problem; :meth:`Interface.to_json` gives the dict the API stores.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.alias_generators import to_camel

from ..errors import InvalidInterfaceError

__all__ = [
    "CHOICE_INPUTS",
    "SINGLE_CHOICE_INPUTS",
    "TEXT_INPUTS",
    "Interface",
    "Job",
    "JobCategory",
    "JobContent",
    "JobInput",
    "MLTask",
    "Tool",
]

MLTask = Literal[
    "CLASSIFICATION",
    "TRANSCRIPTION",
    "OBJECT_DETECTION",
    "NAMED_ENTITIES_RECOGNITION",
    "NAMED_ENTITIES_RELATION",
    "OBJECT_RELATION",
    "POSE_ESTIMATION",
    "ASSET_ANNOTATION",
    "PAGE_LEVEL_CLASSIFICATION",
    "PAGE_LEVEL_TRANSCRIPTION",
    "RANKING",
    "COMPARISON",
    "SPEECH_TO_TEXT",
    "FILE",
]
"""What a job asks: choose categories, write text, draw objects, mark entities, relate them..."""
Tool = Literal["rectangle", "polygon", "semantic", "marker", "polyline", "vector", "pose", "range"]
"""Drawing tools of ``OBJECT_DETECTION`` / ``POSE_ESTIMATION`` jobs (``marker``: a point)."""
JobInput = Literal[
    "radio", "checkbox", "singleDropdown", "multipleDropdown", "textField", "date", "number"
]
"""How a job is answered: one category (``radio``, ``singleDropdown``), several
(``checkbox``, ``multipleDropdown``), or text (``textField``, ``date``, ``number``)."""

CHOICE_INPUTS: tuple[str, ...] = ("radio", "checkbox", "singleDropdown", "multipleDropdown")
SINGLE_CHOICE_INPUTS: tuple[str, ...] = ("radio", "singleDropdown")
TEXT_INPUTS: tuple[str, ...] = ("textField", "date", "number")
TOOL_TASKS = ("OBJECT_DETECTION", "POSE_ESTIMATION")
"""The ML tasks whose annotations are drawn with the job's tools."""
CHOICE_TASKS = (
    "CLASSIFICATION",
    "OBJECT_DETECTION",
    "NAMED_ENTITIES_RECOGNITION",
    "NAMED_ENTITIES_RELATION",
    "OBJECT_RELATION",
    "POSE_ESTIMATION",
)
"""The ML tasks answered with categories (their input says how many)."""
TEXT_TASKS = ("TRANSCRIPTION",)
"""The ML tasks answered with ``text``."""


def _known_or_read(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A literal value as declared; when reading what the API stored (context ``read``),
    any other string too, so an interface the platform made with a newer value stays
    readable."""
    try:
        return handler(value)
    except ValidationError:
        if isinstance(value, str) and isinstance(info.context, dict) and info.context.get("read"):
            return value
        raise


_CONFIG = ConfigDict(
    alias_generator=to_camel, populate_by_name=True, extra="allow", validate_assignment=True
)


class JobCategory(BaseModel):
    """One category of a job; its key in :attr:`JobContent.categories` is what labels
    store (``{"name": "<key>"}``)."""

    model_config = _CONFIG

    name: str | None = None
    """The name annotators see (default: the key)."""
    children: list[str] = Field(default_factory=list)
    """Names of the child jobs answered under this category (jobs with ``is_child``)."""
    color: str | None = None
    """``#rrggbb``."""
    id: str | None = None
    start_entities: list[str] | None = None
    """``NAMED_ENTITIES_RELATION``: the entity categories a relation may start from."""
    end_entities: list[str] | None = None
    start_objects: list[str] | None = None
    """``OBJECT_RELATION``: the object categories a relation may start from."""
    end_objects: list[str] | None = None


class JobContent(BaseModel):
    """A job's input and categories."""

    model_config = _CONFIG

    input: Annotated[JobInput, WrapValidator(_known_or_read)] | None = None
    categories: dict[str, JobCategory] = Field(default_factory=dict)
    """Category key (what labels store) → category."""


class Job(BaseModel):
    """One job of an interface."""

    model_config = _CONFIG

    ml_task: Annotated[MLTask, WrapValidator(_known_or_read)]
    content: JobContent = Field(default_factory=JobContent)
    instruction: str = ""
    """The question annotators see."""
    required: int = 0
    """1 (or True): a label must answer it."""
    is_child: bool = False
    """Answered under a category of another job (named in its ``children``), not alone."""
    tools: list[Annotated[Tool, WrapValidator(_known_or_read)]] = Field(default_factory=list)
    """``OBJECT_DETECTION`` / ``POSE_ESTIMATION``: the drawing tools."""
    is_visible: bool | None = None

    @property
    def categories(self) -> dict[str, JobCategory]:
        """``content.categories``."""
        return self.content.categories


class Interface(BaseModel):
    """A project's json interface: its jobs by name."""

    model_config = _CONFIG

    jobs: dict[str, Job] = Field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Interface | Mapping[str, Any] | str) -> Interface:
        """``value`` (a dict as the API stores it, its JSON text, or an Interface) as a
        checked :class:`Interface`; :class:`~aiokili.errors.InvalidInterfaceError` listing
        every problem when the platform would refuse it."""
        interface = value if isinstance(value, Interface) else _validate(value, read=False)
        problems = interface.problems()
        if problems:
            raise InvalidInterfaceError(_refused(problems), problems)
        return interface

    @classmethod
    def read(cls, value: Mapping[str, Any] | str | None) -> Interface:
        """What the API stored, as an :class:`Interface`, unchecked (values newer than this
        version kept as they are); :class:`~aiokili.errors.InvalidInterfaceError` only if
        it has not even the interface's shape."""
        return _validate(value or {}, read=True)

    def to_json(self) -> dict[str, Any]:
        """The dict the API stores (wire names; unset optional values left out)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    @property
    def top_level_jobs(self) -> list[str]:
        """The jobs that are not children of a category (``is_child`` false)."""
        return [name for name, job in self.jobs.items() if not job.is_child]

    def problems(self) -> list[str]:
        """What the platform would refuse in this interface, one line each (empty: none)."""
        found: list[str] = []
        for name, job in self.jobs.items():
            found += [f"jobs.{name}.{line}" for line in _job_problems(self, name, job)]
        return found


def a(word: str) -> str:
    """``word`` with its indefinite article (``an OBJECT_DETECTION``, ``a TRANSCRIPTION``)."""
    return f"{'an' if word[:1].upper() in 'AEIOU' else 'a'} {word}"


def _job_problems(interface: Interface, name: str, job: Job) -> list[str]:
    found: list[str] = []
    task, given = job.ml_task, job.content.input
    if task in CHOICE_TASKS and given is not None and given not in CHOICE_INPUTS:
        found.append(
            f"content.input: {a(task)} job is answered with categories: use one of "
            f"{', '.join(CHOICE_INPUTS)}, not {given!r}."
        )
    if task in TEXT_TASKS and given is not None and given not in TEXT_INPUTS:
        found.append(
            f"content.input: {a(task)} job is answered with text: use one of "
            f"{', '.join(TEXT_INPUTS)}, not {given!r}."
        )
    if task in TOOL_TASKS and not job.tools:
        found.append(f"tools: {a(task)} job needs at least one tool (e.g. ['rectangle']).")
    if task == "CLASSIFICATION" and not job.content.categories:
        found.append("content.categories: a CLASSIFICATION job needs at least one category.")
    for key, category in job.content.categories.items():
        for child in category.children:
            if child not in interface.jobs:
                found.append(
                    f"content.categories.{key}.children: no job {child!r} in the interface "
                    f"(jobs: {', '.join(interface.jobs)})."
                )
            elif child == name:
                found.append(f"content.categories.{key}.children: a job cannot be its own child.")
    return found


def _validate(value: Mapping[str, Any] | str, *, read: bool) -> Interface:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise InvalidInterfaceError(f"The json interface is not valid JSON: {exc}.") from None
    if not isinstance(value, Mapping):
        raise InvalidInterfaceError(
            f"The json interface must be an object like {{'jobs': {{...}}}}, got "
            f"{type(value).__name__}."
        )
    try:
        return Interface.model_validate(value, context={"read": read})
    except ValidationError as exc:
        problems = [_line(error) for error in exc.errors()]
        raise InvalidInterfaceError(_refused(problems), problems) from None


def _line(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(the interface)"
    return f"{where}: {error['msg']}."


def _refused(problems: list[str]) -> str:
    shown = "\n  ".join(problems[:10]) + ("\n  ..." if len(problems) > 10 else "")
    return (
        f"The json interface has {len(problems)} problem(s) the platform would refuse:\n  {shown}"
    )
