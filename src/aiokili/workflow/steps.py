"""What the workflow methods share: the steps given to ``update_project_workflow`` (typed
dicts, as the official SDK takes them), a project's workflow read once per call, a step
found by id or name, and the members a step can take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import Required, TypedDict

from .._core.base import Core
from .._generated import input_types as inputs
from ..errors import KiliInputError, NotFoundError
from ..models import ProjectUserStatus, ProjectWorkflow, Step, WorkflowVersion

StepTypeName = Literal["DEFAULT", "REVIEW"]
"""Names of :class:`~aiokili.StepType`: ``DEFAULT`` (a labeling step), ``REVIEW``."""

_CONFIG = ConfigDict(extra="forbid", strict=True)


@with_config(_CONFIG)
class WorkflowStepCreate(TypedDict, total=False):
    """A step to create (``update_project_workflow(create_steps=[...])``), added at the end."""

    name: Required[str]
    type: Required[StepTypeName]
    assignees: Required[list[str]]
    """User ids (or emails, looked up among the project's ACTIVATED members)."""
    consensus_coverage: int | None
    """Labeling step: % of assets labelled by several labelers (0-100)."""
    number_of_expected_labels_for_consensus: int | None
    step_coverage: int | None
    """Review step: % of assets it reviews (0-100; default 100)."""
    send_back_step_id: str | None
    """Review step: the step it sends assets back to (default: the labeling step)."""
    step_group_id: str | None
    """Multi-group workflow (V3) only."""


@with_config(_CONFIG)
class WorkflowStepUpdate(TypedDict, total=False):
    """A step to change, given by ``id`` (then ``name`` renames it) or by ``name``."""

    id: str | None
    name: str | None
    consensus_coverage: int | None
    number_of_expected_labels_for_consensus: int | None
    step_coverage: int | None
    type: StepTypeName | None
    assignees: list[str] | None
    """User ids (or emails); the step's assignees become these."""
    send_back_step_id: str | None
    group_name: str | None
    """Multi-group workflow (V3) only."""


@with_config(_CONFIG)
class WorkflowStepDesignation(TypedDict, total=False):
    """A step to delete, by name (``group_name``: multi-group workflow only)."""

    name: Required[str]
    group_name: str | None


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def checked(kind: Any, value: object, name: str) -> Any:
    """``value`` validated as ``kind`` (a typed dict, a list of them...), or KiliInputError
    naming the argument, the position and the key."""
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:3]:
            where = name + "".join(f"[{p!r}]" for p in err["loc"] if "[" not in str(p))
            problems.append(f"{where}: {err['msg']} (got {err.get('input')!r:.60})")
        raise KiliInputError("; ".join(problems) + ".") from None


def text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KiliInputError(f"{name} must be a non-empty string, got {value!r}.")
    return value


def percent(name: str, value: object) -> int | None:
    """A coverage (0-100), or None."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise KiliInputError(f"The parameter {name} must be between 0 and 100 (included), "
                             f"got {value!r}.")  # fmt: skip
    return value


async def workflow(core: Core, project_id: str) -> ProjectWorkflow:
    """The project's workflow; NotFoundError for an unknown project or a legacy one."""
    text("project_id", project_id)
    found = (await core.gql.workflow_of_project(where=inputs.ProjectWhere(id=project_id))).data
    if not found:
        raise NotFoundError.from_message(
            f"project ID: {project_id}. The project does not exist, or you are not a member.",
            "NOT_FOUND",
        )
    if not found[0].steps:
        raise NotFoundError.from_message(
            f"project ID: {project_id}. The project uses the legacy workflow, which has no "
            "steps (create a new project for the multi-step workflow).",
            "NOT_FOUND",
        )
    return found[0]


def no_group(project: ProjectWorkflow, group_name: object) -> None:
    """Refuse ``group_name`` outside the multi-group workflow (V3)."""
    if group_name is not None and project.workflow_version != WorkflowVersion.V3:
        raise KiliInputError(
            f"group_name is only supported in the multi-group workflow (V3); project "
            f"{project.id!r} uses {project.workflow_version}: name the step alone."
        )


def find_step(
    project: ProjectWorkflow,
    step_id: str | None,
    step_name: str | None,
    group_name: str | None = None,
) -> Step:
    """The step given by ``step_id`` or by ``step_name`` (exactly one), else KiliInputError
    naming the project's steps."""
    if (step_id is None) == (step_name is None):
        raise KiliInputError(
            "Provide either step_id, or step_name (with group_name when several groups use "
            f"it), but not both (got step_id={step_id!r}, step_name={step_name!r})."
        )
    if step_id is not None and group_name is not None:
        raise KiliInputError("group_name goes with step_name only, not with step_id.")
    no_group(project, group_name)
    found = [s for s in project.steps if s.id == step_id or s.name == step_name]
    if len(found) != 1:
        known = ", ".join(f"{s.name!r} ({s.id})" for s in project.steps)
        given = f"step_id {step_id!r}" if step_id is not None else f"step name {step_name!r}"
        why = "several steps have the" if found else "no step has the"
        raise KiliInputError(f"Project {project.id!r}: {why} {given}. Its steps: {known}.")
    return found[0]


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str
    role: str


async def members(core: Core, project_id: str) -> dict[str, Member]:
    """Email -> the project's ACTIVATED members (organization ADMINs are ``ORG_ADMIN``: as
    the official SDK, they are not found by email)."""
    where = inputs.ProjectUserWhere(
        project=inputs.ProjectWhere(id=project_id),
        status=ProjectUserStatus.ACTIVATED,
        deleted=False,
    )
    found: dict[str, Member] = {}
    skip = 0
    while True:
        page = (await core.gql.project_users(where=where, first=500, skip=skip)).data
        for m in page:
            found[m.user.email] = Member(m.user.id, m.user.email, str(m.role))
        if len(page) < 500:
            return found
        skip += 500


def ids_of(given: Sequence[str], known: dict[str, Member], name: str) -> list[str]:
    """User ids for ``given`` ids or emails (an email: one of ``known``)."""
    out = []
    for index, who in enumerate(given):
        if "@" not in who:
            out.append(who)
        elif who in known:
            out.append(known[who].user_id)
        else:
            raise KiliInputError(
                f"{name}[{index}]: {who!r} is not an ACTIVATED member of the project. Give "
                "user ids, or emails of members (append_to_roles adds one)."
            )
    return out
