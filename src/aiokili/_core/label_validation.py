"""Does a label's json response match its project's json interface? The one check the
client (before sending) and the local server (before writing, as the platform's
``jsonResponseMalformed``) both run, and what ``parsed_label`` relies on.

A response is refused for:

* a job the interface does not have (the platform's own check), or a job answer that is
  not an object;
* a category the job does not have (the platform's own check; so is any category given to
  a job without categories, a TRANSCRIPTION job for one), a category without a name, or
  several categories for a single-choice job (``radio``, ``singleDropdown``);
* a child job answered under a category that does not name it in its ``children``;
* an annotation drawn with a tool the job does not have (a ``marker`` is a pose's point);
* ``text`` given to a job answered with categories or objects, or a ``text`` that is not a
  string;
* lists and objects where the shape needs the other (``categories``, ``annotations``,
  ``children``).

Frames of a VIDEO label (``{"0": {jobs}, "1": {jobs}}``, asset-level jobs under
``assetLevel``) are checked frame by frame; ``ROTATION_JOB``, ``ANNOTATION_JOB_COUNTER``
and ``ANNOTATION_NAMES_JOB`` (written by the labeling interface) are accepted anywhere.
Required jobs are not checked: a label may be partial (the platform's check list says no
more than the above).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .interface import CHOICE_TASKS, SINGLE_CHOICE_INPUTS, TEXT_TASKS, Interface, Job, a

__all__ = ["IGNORED_KEYS", "LabelProblem", "is_video_response", "label_problem"]

IGNORED_KEYS = frozenset({"ANNOTATION_JOB_COUNTER", "ANNOTATION_NAMES_JOB", "ROTATION_JOB"})
"""Keys of a json response that are no job (written by the labeling interface)."""
ASSET_LEVEL = "assetLevel"
"""A VIDEO label's asset-level jobs (next to its frames)."""
VIDEO_INPUTS = ("VIDEO", "VIDEO_LEGACY")


@dataclass(frozen=True)
class LabelProblem:
    """Why a json response does not match the interface."""

    message: str
    """What is wrong and what the interface accepts (``job 'BOX': annotations[0] ...``)."""
    path: str
    """Where in the json response (``BOX.annotations[0].type``; empty: the whole)."""
    job: str | None = None
    name: str | None = None
    """The unknown job, category or tool, when that is the problem."""
    accepted: tuple[str, ...] = ()
    """What the interface accepts in its place."""


class _Refused(Exception):
    def __init__(self, problem: LabelProblem) -> None:
        self.problem = problem


def label_problem(
    interface: Interface, response: Any, input_type: str | None = None
) -> LabelProblem | None:
    """The first reason ``response`` does not match ``interface``, or None if it does.
    ``input_type``: the project's (a VIDEO label may be a response per frame)."""
    try:
        _Check(interface).response(response, video=str(input_type) in VIDEO_INPUTS)
    except _Refused as refused:
        return refused.problem
    return None


def is_video_response(response: Mapping[str, Any], input_type: str | None) -> bool:
    """A VIDEO project's response by frame (``{"0": {...}, "assetLevel": {...}}``)."""
    return (
        str(input_type) in VIDEO_INPUTS
        and bool(response)
        and all(isinstance(k, str) and (k.isdigit() or k == ASSET_LEVEL) for k in response)
        and any(k.isdigit() for k in response)
    )


def _names(values: Sequence[str] | Mapping[str, Any]) -> str:
    return ", ".join(values) or "none"


class _Check:
    def __init__(self, interface: Interface) -> None:
        self.jobs = interface.jobs

    def fail(
        self,
        path: str,
        message: str,
        job: str | None = None,
        name: str | None = None,
        accepted: Sequence[str] = (),
    ) -> _Refused:
        return _Refused(LabelProblem(message, path, job, name, tuple(accepted)))

    def response(self, response: Any, *, video: bool) -> None:
        if not isinstance(response, dict):
            raise self.fail(
                "",
                "the json response must be an object of jobs ({'JOB': {...}}), "
                f"got {type(response).__name__}.",
            )
        if video and is_video_response(response, "VIDEO"):
            for frame, jobs in response.items():
                self.jobs_of(jobs, None, f"{frame}.")
            return
        self.jobs_of(response, None, "")

    def jobs_of(
        self, answers: Any, allowed: Sequence[str] | None, prefix: str, parent: str = ""
    ) -> None:
        """``answers``: job name → answer; ``allowed``: the child jobs of the categories
        they are under, described by ``parent`` (None: the top level, any job)."""
        if answers is None:
            return
        if not isinstance(answers, dict):
            raise self.fail(
                prefix.rstrip("."),
                f"{prefix.rstrip('.') or 'the json response'} must be an object of jobs, "
                f"got {type(answers).__name__}.",
            )
        for name, answer in answers.items():
            path = f"{prefix}{name}"
            if name in IGNORED_KEYS:
                continue
            if name not in self.jobs:
                raise self.fail(
                    path,
                    f"job {name!r} is not in the project's json interface "
                    f"(jobs: {_names(self.jobs)}).",
                    job=name,
                    name=name,
                    accepted=list(self.jobs),
                )
            if allowed is not None and name not in allowed:
                raise self.fail(
                    path,
                    f"job {name!r} is not a child job of {parent} (its children: "
                    f"{_names(allowed)}).",
                    job=name,
                    name=name,
                    accepted=allowed,
                )
            self.job(name, answer, path)

    def job(self, name: str, answer: Any, path: str) -> None:
        if answer is None:
            return
        if not isinstance(answer, dict):
            raise self.fail(
                path,
                f"job {name!r}: its answer must be an object, got {type(answer).__name__}.",
                job=name,
            )
        spec = self.jobs[name]
        categories = answer.get("categories")
        self.categories(name, spec, categories, f"{path}.categories")
        annotations = answer.get("annotations")
        if (
            spec.content.input in SINGLE_CHOICE_INPUTS
            and isinstance(categories, list)
            and len(categories) > 1
            and not annotations
        ):
            raise self.fail(
                f"{path}.categories",
                f"job {name!r} is single-choice ({spec.content.input}) but the label chooses "
                f"{len(categories)} categories.",
                job=name,
            )
        text = answer.get("text")
        if text is not None:
            if spec.ml_task in TEXT_TASKS and not isinstance(text, str):
                raise self.fail(
                    f"{path}.text",
                    f"job {name!r}: text must be a string, got {type(text).__name__}.",
                    job=name,
                )
            if spec.ml_task in CHOICE_TASKS:
                raise self.fail(
                    f"{path}.text",
                    f"job {name!r} is {a(spec.ml_task)} job: it is answered with "
                    f"{'annotations' if spec.ml_task != 'CLASSIFICATION' else 'categories'}, "
                    "not text.",
                    job=name,
                )
        if annotations is not None:
            if not isinstance(annotations, list):
                raise self.fail(
                    f"{path}.annotations",
                    f"job {name!r}: annotations must be a list, got {type(annotations).__name__}.",
                    job=name,
                )
            for i, raw in enumerate(annotations):
                self.annotation(name, spec, raw, i, f"{path}.annotations[{i}]")

    def categories(self, job: str, spec: Job, raw: Any, path: str) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            raise self.fail(
                path, f"job {job!r}: categories must be a list, got {type(raw).__name__}.", job
            )
        known = spec.content.categories
        for i, item in enumerate(raw):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                raise self.fail(
                    f"{path}[{i}]",
                    f"job {job!r}: each category is an object with a name, got {item!r}.",
                    job,
                    accepted=list(known),
                )
            if name not in known:
                hint = (
                    f"categories: {_names(known)}"
                    if known
                    else f"{a(spec.ml_task)} job has no categories"
                    + (": answer it with text" if spec.ml_task in TEXT_TASKS else "")
                )
                raise self.fail(
                    f"{path}[{i}].name",
                    f"job {job!r} has no category {name!r} ({hint}).",
                    job,
                    name,
                    list(known),
                )
            self.jobs_of(
                item.get("children"),
                known[name].children,
                f"{path}[{i}].children.",
                f"category {name!r} of job {job!r}",
            )

    def annotation(self, job: str, spec: Job, raw: Any, index: int, path: str) -> None:
        if not isinstance(raw, dict):
            raise self.fail(
                path, f"job {job!r}: annotations[{index}] must be an object, got {raw!r}.", job
            )
        kind = raw.get("type")
        tools: list[str] = list(spec.tools)
        pose_point = kind == "marker" and "pose" in tools
        if isinstance(kind, str) and tools and kind not in tools and not pose_point:
            raise self.fail(
                f"{path}.type",
                f"job {job!r}: annotations[{index}] is a {kind!r}; the job's tools are "
                f"{_names(tools)}.",
                job,
                kind,
                tools,
            )
        self.categories(job, spec, raw.get("categories"), f"{path}.categories")
        chosen = raw.get("categories") or []
        known = spec.content.categories
        children = [c for item in chosen for c in known[item["name"]].children]
        self.jobs_of(
            raw.get("children"),
            children,
            f"{path}.children.",
            f"the categories of annotations[{index}] of job {job!r}",
        )
